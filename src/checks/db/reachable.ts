import { defineCheck, fail, pass } from '../define-check.js';

export default defineCheck({
  id: 'db.reachable',
  title: 'Database reachable',
  // No needs: when the database cannot be opened, this is the check that says so.
  needs: [],
  stages: ['pre', 'post'],
  async run({ db, dbError }) {
    if (!db) return fail(dbError ?? 'no database configured', { hint: 'Check DATABASE_URL, then `routergpt db ping`.' });
    const started = performance.now();
    const { rows } = await db!.query<{ version: string; db: string }>('SELECT current_setting(\'server_version\') AS version, current_database() AS db');
    const ms = Math.round(performance.now() - started);
    return pass(`PostgreSQL ${rows[0]?.version} answered in ${ms} ms`, { data: { serverVersion: rows[0]?.version, ms } });
  },
});
