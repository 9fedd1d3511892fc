import { plural } from '../../lib/plural.js';
import { defineCheck, pass, warn } from '../define-check.js';
import { findingWindow, pct } from './window.js';

/**
 * The daily review's "rate-limit hits": 429s by route and policy over the last 24 h, how many
 * clients were limited (distinct HMACs of their key: never an address), and the share of requests
 * refused against watch.limits.rate_429_percent. A share over it warns: legitimate clients may be
 * blocked (the 429s come from few clients or many?). Real traffic only.
 */
export default defineCheck({
  id: 'analytics.rate-limit-hits',
  title: 'Rate-limit hits by route (daily review)',
  needs: ['db'],
  stages: [],
  tags: ['maintenance'],
  params: ['window'],
  async run({ db, config, now, params }) {
    const w = findingWindow(params, now(), 24 * 3_600_000);
    const { rows } = await db!.query<{ route: string; policy: string; hits: string; clients: string }>(
      `SELECT route, policy, sum(count) AS hits, count(DISTINCT client_hmac) AS clients
         FROM router_refusals WHERE status = 429 AND NOT synthetic AND minute >= date_trunc('minute', $1::timestamptz) AND minute < $2
        GROUP BY route, policy ORDER BY sum(count) DESC`,
      [w.from, w.to],
    );
    const { rows: [all] } = await db!.query<{ requests: string }>(
      `SELECT (SELECT count(*) FROM router_analytics WHERE event_type IN ('search', 'delegate', 'chat_message', 'feedback', 'error') AND NOT synthetic AND created_at >= $1 AND created_at < $2)
            + (SELECT coalesce(sum(count), 0) FROM router_refusals WHERE NOT synthetic AND minute >= date_trunc('minute', $1::timestamptz) AND minute < $2) AS requests`,
      [w.from, w.to],
    );
    const requests = Number(all?.requests ?? 0);
    const hits = rows.reduce((n, r) => n + Number(r.hits), 0);
    const limit = config.watch.value.limits.rate_429;
    const details = rows.map((r) => `${r.route} (${r.policy} policy): ${plural(Number(r.hits), '429')} to ${plural(Number(r.clients), 'client')}`);
    const data = { window: w.label, requests, hits, limit, byRoute: rows.map((r) => ({ route: r.route, policy: r.policy, hits: Number(r.hits), clients: Number(r.clients) })) };
    if (hits === 0) return pass(`no request rate-limited in the last ${w.label}${requests ? ` (${plural(requests, 'request')})` : ''}`, { data });
    const share = requests > 0 ? hits / requests : 1;
    const summary = `${plural(hits, '429')} (${pct(share)} of ${plural(requests, 'request')}) over the last ${w.label}`;
    if (share > limit) {
      return warn(`${summary}: over ${pct(limit)}`, {
        details,
        data,
        hint: 'Many clients limited means the limit is too tight for real use (raise rate_limits.*_per_minute); one client with most of the 429s is a scraper or a retry loop (the limit works).',
      });
    }
    return pass(`${summary}, within ${pct(limit)}`, { details, data });
  },
});
