import type { EnvironmentConfig } from '../../config/types.js';
import { routeFigures } from '../../db/analytics/watch.js';
import type { Queryable } from '../../db/pool.js';
import { plural } from '../../lib/plural.js';
import { defineCheck, pass, warn } from '../define-check.js';
import { findingWindow, pct } from './window.js';

/**
 * The daily review's "rate-limit hits" and the monthly "review and update rate limits": 429s by
 * route and policy over the window (24 h; the monthly review passes 30 d), how many clients were
 * limited (distinct HMACs of their key: never an address), the share of requests refused against
 * watch.limits.rate_429_percent, and whether **legitimate clients were blocked**: clients limited
 * in the window whose key later opened a session that booked (chat_sessions.client_hmac, migration
 * 013). Each policy gets a recommendation. Real traffic only.
 *
 * Warns when the share is over the limit or a limited client went on to book.
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
    const { rows } = await db!.query<{ route: string; policy: string; hits: string; clients: string; top: string }>(
      `WITH per_client AS (
         SELECT route, policy, client_hmac, sum(count) AS hits
           FROM router_refusals WHERE status = 429 AND NOT synthetic AND minute >= date_trunc('minute', $1::timestamptz) AND minute < $2
          GROUP BY route, policy, client_hmac
       )
       SELECT route, policy, sum(hits) AS hits, count(*) AS clients, max(hits) AS top
         FROM per_client GROUP BY route, policy ORDER BY sum(hits) DESC, route`,
      [w.from, w.to],
    );
    const blocked = await limitedThenBooked(db!, w.from, w.to);
    const routes = await routeFigures(db!, w);
    // Every request the window recorded (an error event without a route too), as the share's denominator.
    const { rows: [all] } = await db!.query<{ requests: string }>(
      `SELECT (SELECT count(*) FROM router_analytics WHERE event_type IN ('search', 'delegate', 'chat_message', 'feedback', 'error') AND NOT synthetic AND created_at >= $1 AND created_at < $2)
            + (SELECT coalesce(sum(count), 0) FROM router_refusals WHERE NOT synthetic AND minute >= date_trunc('minute', $1::timestamptz) AND minute < $2) AS requests`,
      [w.from, w.to],
    );
    const requests = Number(all?.requests ?? 0);
    const hits = rows.reduce((n, r) => n + Number(r.hits), 0);
    const limit = config.watch.value.limits.rate_429;
    const policies = policyFigures(rows, routes, blocked, config);
    const details = [
      ...rows.map((r) => `${r.route} (${r.policy} policy): ${plural(Number(r.hits), '429')} to ${plural(Number(r.clients), 'client')}`),
      ...(blocked.clients > 0 ? [`${plural(blocked.clients, 'limited client')} later booked (${plural(blocked.bookings, 'booking')}): legitimate clients were blocked`] : []),
      ...policies.filter((p) => p.hits > 0 || p.blocked > 0).map((p) => `${p.policy} policy${p.perMinute ? ` (${p.perMinute}/min)` : ''}: ${pct(p.share)} of its ${plural(p.requests, 'request')} limited → ${p.recommendation}`),
    ];
    const data = {
      window: w.label,
      requests,
      hits,
      limit,
      legitimateBlocked: blocked.clients,
      byRoute: rows.map((r) => ({ route: r.route, policy: r.policy, hits: Number(r.hits), clients: Number(r.clients) })),
      policies,
    };
    if (hits === 0) return pass(`no request rate-limited in the last ${w.label}${requests ? ` (${plural(requests, 'request')})` : ''}`, { data });
    const share = requests > 0 ? hits / requests : 1;
    const summary = `${plural(hits, '429')} (${pct(share)} of ${plural(requests, 'request')}) over the last ${w.label}`;
    const problems = [...(share > limit ? [`over ${pct(limit)}`] : []), ...(blocked.clients > 0 ? [`${plural(blocked.clients, 'limited client')} later booked`] : [])];
    if (problems.length > 0) {
      return warn(`${summary}: ${problems.join('; ')}`, {
        details,
        data,
        hint: 'Follow each policy\'s recommendation: raise rate_limits.*_per_minute where clients that were limited went on to book or the 429s are spread over many clients; one client with most of them is a scraper or a retry loop (the limit works).',
      });
    }
    return pass(`${summary}, within ${pct(limit)}`, { details, data });
  },
});

/** Clients 429'd in the window whose key opened a real session, after their first 429, that booked. */
async function limitedThenBooked(db: Queryable, from: Date, to: Date): Promise<{ clients: number; bookings: number; byPolicy: Map<string, number> }> {
  const { rows } = await db.query<{ policy: string | null; clients: string; bookings: string }>(
    `WITH limited AS (
       SELECT policy, client_hmac, min(minute) AS first_limited
         FROM router_refusals WHERE status = 429 AND NOT synthetic AND minute >= date_trunc('minute', $1::timestamptz) AND minute < $2
        GROUP BY policy, client_hmac
     ), booked AS (
       SELECT l.policy, l.client_hmac, b.id AS booking_id
         FROM limited l
         JOIN chat_sessions cs ON cs.client_hmac = l.client_hmac AND NOT cs.synthetic
         JOIN bookings b ON b.session_id = cs.id AND NOT b.synthetic AND b.created_at >= l.first_limited
     )
     SELECT policy, count(DISTINCT client_hmac) AS clients, count(DISTINCT booking_id) AS bookings FROM booked GROUP BY policy
     UNION ALL
     -- A client limited under two policies is one client.
     SELECT NULL, count(DISTINCT client_hmac), count(DISTINCT booking_id) FROM booked`,
    [from, to],
  );
  const total = rows.find((r) => r.policy === null);
  const byPolicy = new Map(rows.filter((r) => r.policy !== null).map((r) => [r.policy!, Number(r.clients)]));
  return { clients: Number(total?.clients ?? 0), bookings: Number(total?.bookings ?? 0), byPolicy };
}

/**
 * The route → policy map of the server (src/server/plugins/rate-limit/index.ts, policiesFromConfig):
 * feedback spends the delegate budget; routes without a policy of their own share `default`.
 */
const POLICY_OF_ROUTE: Record<string, string> = { search: 'search', delegate: 'delegate', feedback: 'delegate' };

interface PolicyFigures {
  policy: string;
  /** The configured limit, for the policies config sets. */
  perMinute?: number;
  setting?: string;
  requests: number;
  hits: number;
  share: number;
  clients: number;
  /** The share of the policy's 429s that went to its most-limited client. */
  topClientShare: number;
  blocked: number;
  recommendation: string;
}

function policyFigures(
  rows: Array<{ policy: string; hits: string; clients: string; top: string }>,
  routes: Awaited<ReturnType<typeof routeFigures>>,
  blocked: { byPolicy: Map<string, number> },
  config: EnvironmentConfig,
): PolicyFigures[] {
  const limits: Record<string, { perMinute: number; setting: string }> = {
    search: { perMinute: config.rateLimits.value.searchPerMinute, setting: 'rate_limits.search_per_minute' },
    delegate: { perMinute: config.rateLimits.value.delegatePerMinute, setting: 'rate_limits.delegate_per_minute' },
  };
  const names = [...new Set([...routes.map((r) => POLICY_OF_ROUTE[r.route] ?? 'default'), ...rows.map((r) => r.policy)])];
  const limit = config.watch.value.limits.rate_429;
  return names.map((policy) => {
    const own = rows.filter((r) => r.policy === policy);
    const hits = own.reduce((n, r) => n + Number(r.hits), 0);
    const clients = own.reduce((n, r) => n + Number(r.clients), 0);
    const top = own.reduce((m, r) => Math.max(m, Number(r.top)), 0);
    const requests = routes.filter((r) => (POLICY_OF_ROUTE[r.route] ?? 'default') === policy).reduce((n, r) => n + r.requests, 0);
    const share = requests > 0 ? hits / requests : hits > 0 ? 1 : 0;
    const topClientShare = hits > 0 ? top / hits : 0;
    const stillBlocked = blocked.byPolicy.get(policy) ?? 0;
    const configured = limits[policy];
    const now = configured ? `${configured.perMinute}/min` : 'its limit';
    const raiseTo = configured ? ` to about ${Math.ceil(configured.perMinute * 1.5)}/min (${configured.setting})` : '';
    let recommendation: string;
    if (stillBlocked > 0) recommendation = `raise it${raiseTo}: ${plural(stillBlocked, 'client')} limited here later booked`;
    else if (share > limit && topClientShare >= 0.5) recommendation = `keep ${now}: one client has ${pct(topClientShare)} of its 429s (a scraper or a retry loop; the limit works)`;
    else if (share > limit) recommendation = `raise it${raiseTo}: the 429s are spread over ${plural(clients, 'client')}`;
    else recommendation = `keep ${now}: within ${pct(limit)}`;
    return { policy, ...(configured ?? {}), requests, hits, share, clients, topClientShare, blocked: stillBlocked, recommendation };
  });
}
