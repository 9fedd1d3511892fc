import { existsSync } from 'node:fs';
import { redactSecrets } from '../../config/mask.js';
import { ANALYTICS_EVENTS } from '../../db/analytics/events-source.js';
import { routeFigures } from '../../db/analytics/watch.js';
import { tail } from '../logging/tags.js';
import { plural } from '../../lib/plural.js';
import { defineCheck, fail, pass } from '../define-check.js';
import { findingWindow, pct } from './window.js';

/**
 * The daily review's "error logs": errors (5xx other than the toggle's 503) by route over the last
 * 24 h against the error-rate budget (watch.limits.error_rate_percent, the checklist's 1 %), with
 * the newest error events — route, status, request id — to look up in the logs. Real traffic only.
 */
export default defineCheck({
  id: 'analytics.errors-by-route',
  title: 'Errors by route (daily review)',
  needs: ['db'],
  stages: [],
  tags: ['maintenance'],
  params: ['window'],
  async run({ db, config, now, params }) {
    const w = findingWindow(params, now(), 24 * 3_600_000);
    const routes = await routeFigures(db!, w);
    const limit = config.watch.value.limits.error_rate;
    const requests = routes.reduce((n, r) => n + r.requests, 0);
    const errors = routes.reduce((n, r) => n + r.errors, 0);
    const { rows: newest } = await db!.query<{ at: Date; route: string | null; status: string | null; request_id: string | null }>(
      `SELECT created_at AS at, payload ->> 'route' AS route, payload ->> 'status' AS status, payload ->> 'request_id' AS request_id
         FROM ${ANALYTICS_EVENTS} e WHERE event_type = 'error' AND NOT synthetic AND created_at >= $1 AND created_at < $2
        ORDER BY created_at DESC LIMIT 5`,
      [w.from, w.to],
    );
    const details = [
      ...routes.filter((r) => r.requests > 0).map((r) => `${r.route}: ${plural(r.errors, 'error')} in ${plural(r.requests, 'request')} (${pct(r.errors / r.requests)})`),
      ...newest.map((e) => `newest: ${e.at.toISOString()} ${e.route ?? '?'} → ${e.status ?? '5xx'}${e.request_id ? ` (request ${e.request_id}: grep the server log for it)` : ''}`),
      ...(await newestLogErrors(config.logFile.value, w.from)),
    ];
    const data = { window: w.label, requests, errors, limit, routes: routes.map((r) => ({ route: r.route, requests: r.requests, errors: r.errors })) };
    if (requests === 0) return pass(`no router requests in the last ${w.label}`, { data });
    const rate = errors / requests;
    const over = routes.filter((r) => r.requests > 0 && r.errors / r.requests > limit);
    if (rate > limit || over.length > 0) {
      return fail(`error rate ${pct(rate)} over the last ${w.label} (${plural(errors, 'error')} in ${plural(requests, 'request')}); budget ${pct(limit)}${over.length ? `, over it on ${over.map((r) => r.route).join(', ')}` : ''}`, {
        details,
        data,
        hint: 'Look up the newest request ids in the server log (routergpt serve logs every 5xx with its request id), fix the cause, and watch the next release with `routergpt watch`.',
      });
    }
    return pass(`error rate ${pct(rate)} over the last ${w.label} (${plural(errors, 'error')} in ${plural(requests, 'request')}), within ${pct(limit)}`, { details, data });
  },
});

/**
 * The newest error lines of the server's log file (`log_file`, pino JSON: level ≥ 50) in the
 * window, redacted — the checklist's "check error logs" where the log is on this machine.
 */
async function newestLogErrors(file: string | undefined, since: Date): Promise<string[]> {
  if (!file || !existsSync(file)) return [];
  const { text } = await tail(file, 1024 * 1024);
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      const entry = JSON.parse(raw) as { level?: number; time?: number; msg?: string; reqId?: string; err?: { message?: string } };
      if ((entry.level ?? 0) < 50 || (entry.time ?? 0) < since.getTime()) continue;
      lines.push(`log: ${new Date(entry.time!).toISOString()} ${redactSecrets(`${entry.msg ?? ''}${entry.err?.message ? ` — ${entry.err.message}` : ''}`).slice(0, 200)}${entry.reqId ? ` (request ${entry.reqId})` : ''}`);
    } catch {
      /* not a JSON line */
    }
  }
  return lines.slice(-5);
}
