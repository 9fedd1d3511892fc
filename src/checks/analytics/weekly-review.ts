import { dailyActivity, orderedFunnel, popularShops } from '../../db/analytics/queries.js';
import { plural } from '../../lib/plural.js';
import { defineCheck, pass, warn } from '../define-check.js';
import { findingWindow, pct } from './window.js';

/**
 * The weekly review's analytics (the checklist's usage summary, conversion funnel and popular
 * shops), computed as `routergpt analytics --since 7d` computes them: the week's searches,
 * delegations and bookings, the ordered funnel per search, the most-discovered shops. A week
 * without a real search warns: nobody used the router (or tracking stopped). Real traffic only.
 */
export default defineCheck({
  id: 'analytics.weekly-review',
  title: 'Analytics review: usage, funnel, popular shops (weekly review)',
  needs: ['db'],
  stages: [],
  tags: ['maintenance'],
  params: ['window'],
  async run({ db, now, params }) {
    const w = findingWindow(params, now(), 7 * 86_400_000);
    const window = { since: w.from, until: w.to };
    const [days, funnel, shops] = await Promise.all([dailyActivity(db!, window), orderedFunnel(db!, window), popularShops(db!, window, 5)]);
    const sum = (k: 'searches' | 'delegations' | 'bookings' | 'errors') => days.reduce((n, d) => n + d[k], 0);
    const usage = `${plural(sum('searches'), 'search', 'searches')}, ${plural(sum('delegations'), 'delegation')}, ${plural(sum('bookings'), 'booking')} over the last ${w.label}`;
    const details = [
      ...days.map((d) => `${d.date}: ${d.searches} searches, ${d.delegations} delegations, ${d.bookings} bookings${d.errors ? `, ${d.errors} errors` : ''}`),
      `funnel (per search, within ${funnel.windowHours} h): ${funnel.searches} searches → ${funnel.delegated} delegated → ${funnel.booked} booked`,
      ...shops.filter((s) => s.timesDiscovered > 0).map((s) => `popular: ${s.slug} — discovered ${s.timesDiscovered}, delegated ${s.timesDelegated}, booked ${s.bookings}`),
    ];
    const data = { window: w.label, searches: sum('searches'), delegations: sum('delegations'), bookings: sum('bookings'), funnel };
    if (funnel.searches === 0 && sum('searches') === 0) {
      return warn(`no real search over the last ${w.label}`, { details, data, hint: 'Nobody used the router this week, or tracking stopped: check `routergpt verify --only db.analytics-recent-events` and the server log for [ANALYTICS] errors.' });
    }
    const conversion = funnel.searches > 0 ? ` · search → booking ${pct(funnel.booked / funnel.searches)}` : '';
    return pass(`${usage}${conversion}`, { details, data });
  },
});
