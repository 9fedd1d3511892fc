import { recentEvents, type EventCount } from '../../db/analytics/queries.js';
import { plural } from '../../lib/plural.js';
import { defineCheck, pass, warn } from '../define-check.js';

const UNDEFINED_COLUMN = '42703';

/**
 * The checklist's "Analytics tracking verified": events of the last hour, real and synthetic
 * counted apart. routergpt's own requests (this run's smoke and API checks) are marked synthetic
 * (migration 010): they prove tracking records events right after a deploy, before any customer
 * has come, so they pass — said as synthetic, never added to the real figures. No event at all
 * warns.
 */
export default defineCheck({
  id: 'db.analytics-recent-events',
  title: 'Analytics tracking recent events',
  needs: ['db'],
  stages: ['post'],
  params: ['window'],
  async run({ db, params }) {
    const window = String(params?.window ?? '1 hour');
    let rows: EventCount[];
    try {
      rows = await recentEvents(db!, window);
    } catch (error) {
      if ((error as { code?: string }).code !== UNDEFINED_COLUMN) throw error;
      // Before 010 nothing is marked: the checklist's query, as written.
      const old = await db!.query<{ event_type: string; count: string }>(
        `SELECT event_type, COUNT(*) FROM router_analytics WHERE created_at > NOW() - $1::interval GROUP BY event_type ORDER BY event_type`,
        [window],
      );
      rows = old.rows.map((r) => ({ eventType: r.event_type, real: Number(r.count), synthetic: 0 }));
    }
    const real = rows.filter((r) => r.real > 0);
    const synthetic = rows.filter((r) => r.synthetic > 0);
    const syntheticLine = synthetic.length > 0 ? [`synthetic (routergpt's own requests, not counted): ${synthetic.map((r) => `${r.eventType} ${r.synthetic}`).join(', ')}`] : [];
    const data = { real: Object.fromEntries(real.map((r) => [r.eventType, r.real])), synthetic: Object.fromEntries(synthetic.map((r) => [r.eventType, r.synthetic])) };
    if (real.length === 0 && synthetic.length > 0) {
      const n = synthetic.reduce((sum, r) => sum + r.synthetic, 0);
      return pass(`tracking records events: ${plural(n, 'synthetic event')} from routergpt's own checks in the last ${window}, no real one yet`, { details: syntheticLine, data });
    }
    if (real.length === 0) {
      return warn(`no analytics events in the last ${window}`, {
        data,
        hint: 'Use the GPT (or the API) as a customer would, then check again; if events still do not appear, check the server logs for [ANALYTICS] errors.',
      });
    }
    return pass(real.map((r) => `${r.eventType} ${r.real}`).join(', '), { details: syntheticLine, data });
  },
});
