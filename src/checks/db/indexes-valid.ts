import { defineCheck, fail, pass } from '../define-check.js';
import { EXPECTED_INDEXES } from './schema-expectations.js';

export default defineCheck({
  id: 'db.indexes-valid',
  title: 'Location indexes present and valid',
  needs: ['db'],
  stages: ['post'],
  async run({ db }) {
    const { rows } = await db!.query<{ name: string; valid: boolean; table: string }>(
      `SELECT c.relname AS name, i.indisvalid AS valid, t.relname AS table
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema()`,
    );
    const byName = new Map(rows.map((r) => [r.name, r]));
    const missing = EXPECTED_INDEXES.filter((name) => !byName.has(name));
    const invalid = rows.filter((r) => !r.valid).map((r) => `${r.name} (on ${r.table})`);
    const details = [...missing.map((m) => `missing: ${m}`), ...invalid.map((i) => `invalid (an interrupted CONCURRENTLY build): ${i}`)];
    if (details.length > 0) {
      return fail(`${details.length} index problem(s): ${[...missing, ...invalid].join(', ')}`, {
        details,
        data: { missing, invalid },
        hint: 'Run `routergpt migrate up` (it rebuilds invalid concurrent indexes); for a dropped index, `routergpt migrate down --to 006` then `up`.',
      });
    }
    return pass(`${EXPECTED_INDEXES.join(', ')} valid`);
  },
});
