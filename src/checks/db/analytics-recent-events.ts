import { defineCheck, pass, warn } from '../define-check.js';

export default defineCheck({
  id: 'db.analytics-recent-events',
  title: 'Analytics tracking recent events',
  needs: ['db'],
  stages: ['post'],
  params: ['window'],
  async run({ db, params }) {
    const window = String(params?.window ?? '1 hour');
    // The checklist's query, as written.
    const { rows } = await db!.query<{ event_type: string; count: string }>(
      `SELECT event_type, COUNT(*) FROM router_analytics WHERE created_at > NOW() - $1::interval GROUP BY event_type ORDER BY event_type`,
      [window],
    );
    if (rows.length === 0) return warn(`no analytics events in the last ${window}`, { hint: 'Run `routergpt smoke` (or use the GPT), then check the server logs for [ANALYTICS] errors.' });
    return pass(rows.map((r) => `${r.event_type} ${r.count}`).join(', '), { data: Object.fromEntries(rows.map((r) => [r.event_type, Number(r.count)])) });
  },
});
