import { defineCheck, fail, pass } from '../define-check.js';
import { EXPECTED_TABLES } from './schema-expectations.js';

export default defineCheck({
  id: 'db.tables-exist',
  title: 'Tables exist (geocoding_cache, router_analytics, …)',
  needs: ['db'],
  stages: ['post'],
  async run({ db }) {
    const { rows } = await db!.query<{ name: string }>(`SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NULL`, [[...EXPECTED_TABLES]]);
    if (rows.length > 0) {
      return fail(`missing table(s): ${rows.map((r) => r.name).join(', ')}`, { hint: 'Run `routergpt migrate up`.', data: { missing: rows.map((r) => r.name) } });
    }
    return pass(`all ${EXPECTED_TABLES.length} tables present`);
  },
});
