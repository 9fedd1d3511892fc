import { routeFigures } from '../../db/analytics/watch.js';
import { plural } from '../../lib/plural.js';
import { defineCheck, pass, warn } from '../define-check.js';
import { findingWindow } from './window.js';

/**
 * The daily review's "response times": each route's p95 over the last 24 h against its budget
 * (watch.limits.p95: the checklist's search < 500 ms, delegate < 200 ms, chat < 5 s). Over a
 * budget warns — a trend to look into, the release gate is `routergpt watch`. Real traffic only.
 */
export default defineCheck({
  id: 'analytics.response-times',
  title: 'Response times against their budgets (daily review)',
  needs: ['db'],
  stages: [],
  tags: ['maintenance'],
  params: ['window'],
  async run({ db, config, now, params }) {
    const w = findingWindow(params, now(), 24 * 3_600_000);
    const routes = await routeFigures(db!, w);
    const budgets = config.watch.value.limits.p95_ms;
    const timed = routes.filter((r) => r.p95Ms !== null);
    const details = timed.map((r) => {
      const budget = budgets[r.route];
      return `${r.route}: p50 ${r.p50Ms} ms, p95 ${r.p95Ms} ms over ${plural(r.successes, 'request')}${budget !== undefined ? ` (budget ${budget} ms)` : ' (no budget)'}`;
    });
    const data = { window: w.label, routes: timed.map((r) => ({ route: r.route, p50: r.p50Ms, p95: r.p95Ms, budget: budgets[r.route] ?? null })) };
    if (timed.length === 0) return pass(`no timed router requests in the last ${w.label}`, { data });
    const over = timed.filter((r) => budgets[r.route] !== undefined && r.p95Ms! >= budgets[r.route]!);
    if (over.length > 0) {
      return warn(`p95 over budget on ${over.map((r) => `${r.route} (${r.p95Ms} ms ≥ ${budgets[r.route]} ms)`).join(', ')} over the last ${w.label}`, {
        details,
        data,
        hint: 'Compare with the search plan (`routergpt verify --only db.search-query-plan`) and the database load; tune the budget in watch.limits.p95 only if the budget itself is wrong.',
      });
    }
    return pass(`every route within its p95 budget over the last ${w.label}`, { details, data });
  },
});
