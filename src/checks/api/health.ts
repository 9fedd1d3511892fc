import { defineCheck, fail, pass, skip, warn } from '../define-check.js';
import { brief, unreachableHint, withApiClient } from './http.js';

interface Health {
  ok?: unknown;
  database?: unknown;
  router_enabled?: unknown;
  reason?: unknown;
  rate_limits?: { store?: string; redis?: string; lastError?: string };
}

export default defineCheck({
  id: 'api.health',
  title: 'Health endpoint answers {"ok":true}',
  // No needs: when the API cannot be reached, this is the check that says so (like db.reachable).
  needs: [],
  stages: ['pre', 'post'],
  async run(deps) {
    if (!deps.apiBase) return skip('no API base URL (set PUBLIC_API_BASE or pass --base-url)');
    if (deps.apiError) return fail(`cannot reach ${deps.apiBase}/health: ${deps.apiError}`, { hint: unreachableHint(deps.apiError) });
    return withApiClient(deps, async (api) => {
      const res = await api.get('/health');
      const body = res.json as Health | undefined;
      const data = { status: res.status, ms: Math.round(res.ms), routerEnabled: body?.router_enabled, database: body?.database, rateLimits: body?.rate_limits };
      if (res.status !== 200 || body?.ok !== true) {
        return fail(`GET /health answered ${res.status}${typeof body?.reason === 'string' ? `: ${body.reason}` : ''}`, {
          details: [brief(res)],
          data,
          hint: body?.database === 'unreachable' ? 'The server cannot reach its database: check DATABASE_URL on the server and `routergpt db ping`.' : 'Look at the server logs ([ROUTER] lines) for why /health is not ok.',
        });
      }
      const details = [`database: ${String(body.database)}`, `router_enabled: ${String(body.router_enabled)}`];
      if (body.rate_limits) details.push(`rate limits: ${body.rate_limits.store ?? '?'} store, redis ${body.rate_limits.redis ?? '?'}`);
      if (body.router_enabled === false) {
        return warn('healthy, but RouterGPT is switched off: search, delegate and chat answer 503', { details, data, hint: 'Switch it on with ENABLE_ROUTER_GPT=true (or the router_gpt feature flag) once the deploy is verified.' });
      }
      if (body.rate_limits?.redis === 'unreachable') {
        return warn('healthy, but Redis is unreachable: each server enforces rate limits on its own', { details, data, hint: 'Check REDIS_URL and the Redis server; budgets are per server until it returns.' });
      }
      return pass(`200 {"ok":true} in ${Math.round(res.ms)} ms; router ${body.router_enabled === false ? 'off' : 'on'}${body.rate_limits ? `; rate limits in ${body.rate_limits.store}` : ''}`, { details, data });
    });
  },
});
