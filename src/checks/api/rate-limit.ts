import { defineCheck, fail, pass, skip } from '../define-check.js';
import { brief, DELEGATE_PATH, isErrorBody, SEARCH_PATH, withApiClient, type ApiResponse } from './http.js';

export const RATE_LIMIT_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit', 'ratelimit-policy'] as const;

export function missingRateLimitHeaders(res: ApiResponse): string[] {
  return RATE_LIMIT_HEADERS.filter((h) => res.headers.get(h) === null);
}

/** A cheap valid search: the middle of the Pacific, nothing to find. */
const PROBE = { latitude: 0, longitude: -140, radius_miles: 1 };

/**
 * The checklist's "Rate limiting tested": headers on every response, 429 with Retry-After once
 * the search budget is spent. It spends the whole budget of its client on purpose, so it is off
 * by default in prod, and runs last. On a loopback API it is its own client (see http.ts); on a
 * remote API it shares this machine's budget, so checks running at the same time may see 429.
 */
export default defineCheck({
  id: 'api.rate-limit',
  title: 'Rate limits: headers on all responses, 429 with Retry-After',
  needs: ['api'],
  stages: ['post'],
  defaultOffIn: ['prod'],
  timeoutMs: 60_000,
  params: ['maxRequests'],
  async run(deps) {
    const maxRequests = Number(deps.params?.maxRequests ?? 200);
    return withApiClient(deps, async (api) => {
      const problems: string[] = [];
      const health = await api.get('/health', { expect429: true });
      const missingOk = missingRateLimitHeaders(health);
      if (missingOk.length > 0) problems.push(`GET /health ${health.status} lacks ${missingOk.join(', ')}`);
      const notFound = await api.post(DELEGATE_PATH, { shop_slug: 'routergpt-verify-rate-limit-probe' }, { expect429: true });
      const missingError = missingRateLimitHeaders(notFound);
      if (missingError.length > 0) problems.push(`POST ${DELEGATE_PATH} ${notFound.status} lacks ${missingError.join(', ')}`);
      const first = await api.post(SEARCH_PATH, PROBE, { expect429: true });
      const missingSearch = missingRateLimitHeaders(first);
      if (missingSearch.length > 0) problems.push(`POST ${SEARCH_PATH} ${first.status} lacks ${missingSearch.join(', ')}`);
      const limit = Number(first.headers.get('x-ratelimit-limit'));
      const remaining = Number(first.headers.get('x-ratelimit-remaining'));
      if (first.status !== 200 || !Number.isInteger(remaining)) {
        return fail(`cannot read the search budget: ${brief(first)}`, { details: problems, hint: 'Every response must carry X-RateLimit-Limit/Remaining/Reset (src/server/plugins/rate-limit).' });
      }
      if (remaining + 1 > maxRequests) {
        return skip(`the search limit is ${limit}/window with ${remaining} left: exhausting it would take more than ${maxRequests} requests (params.maxRequests)`);
      }
      let last: ApiResponse = first;
      let sent = 0;
      while (sent < remaining + 1 && last.status !== 429) {
        last = await api.post(SEARCH_PATH, PROBE, { expect429: true });
        sent += 1;
      }
      const details = [`search budget: ${limit} per window; ${remaining} left after the first request; ${sent} more sent`];
      if (last.status !== 429) {
        problems.push(`after ${sent + 1} searches (the limit is ${limit}) the server still answered ${last.status}, not 429`);
      } else {
        const retryAfter = last.headers.get('retry-after');
        if (retryAfter === null || !/^\d+$/.test(retryAfter) || Number(retryAfter) < 1) problems.push(`429 Retry-After is ${JSON.stringify(retryAfter)}, expected whole seconds ≥ 1`);
        const missing429 = missingRateLimitHeaders(last);
        if (missing429.length > 0) problems.push(`429 lacks ${missing429.join(', ')}`);
        if (last.headers.get('x-ratelimit-remaining') !== '0') problems.push(`429 says X-RateLimit-Remaining ${String(last.headers.get('x-ratelimit-remaining'))}, expected 0`);
        if (!isErrorBody(last.json)) problems.push(`429 body is not {error:{code,message}}: ${brief(last)}`);
        if (sent < remaining + 1) problems.push(`429 came after ${sent} requests although ${remaining} were left — the budget was shared with another client`);
        details.push(`429 after ${sent + 1} searches, Retry-After ${String(retryAfter)} s`);
      }
      const configured = deps.config.rateLimits.value.searchPerMinute;
      if (limit !== configured) details.push(`note: the server's search limit is ${limit}, the ${deps.config.name} configuration says ${configured} (${deps.config.rateLimits.parts.searchPerMinute.origin})`);
      if (problems.length > 0) return fail(`${problems.length} rate-limit problem(s)`, { details: [...problems, ...details], hint: 'Check the rate-limit plugin (src/server/plugins/rate-limit) is registered before every route, and RATE_LIMIT_*_PER_MIN.' });
      return pass(`headers on 200 and ${notFound.status}; 429 with Retry-After after ${limit} searches`, { details, data: { limit } });
    }, { syntheticPolicy: 'real' });
  },
});
