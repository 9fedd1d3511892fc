import { defineCheck, fail, pass } from '../define-check.js';
import { EXPECTED_VIEWS } from './schema-expectations.js';

export default defineCheck({
  id: 'db.analytics-views',
  title: 'Analytics views queryable',
  needs: ['db'],
  stages: ['post'],
  async run({ db }) {
    const problems: string[] = [];
    for (const [view, columns] of Object.entries(EXPECTED_VIEWS)) {
      try {
        // The checklist's own queries (LIMIT 5/10); fields tell us the columns even with no rows.
        const result = await db!.query(`SELECT * FROM ${view} LIMIT 5`);
        const names = new Set(result.fields.map((f) => f.name));
        const absent = columns.filter((c) => !names.has(c));
        if (absent.length > 0) problems.push(`${view}: missing column(s) ${absent.join(', ')}`);
      } catch (error) {
        problems.push(`${view}: ${(error as Error).message}`);
      }
    }
    if (problems.length > 0) return fail(`${problems.length} view problem(s)`, { details: problems, hint: 'Run `routergpt migrate up` (009_router_analytics).' });
    return pass(`${Object.keys(EXPECTED_VIEWS).join(', ')} answer with the expected columns`);
  },
});
