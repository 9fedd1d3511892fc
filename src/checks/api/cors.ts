import { defineCheck, fail, pass, skip } from '../define-check.js';
import { SEARCH_PATH, withApiClient, type ApiClient } from './http.js';

async function probe(api: ApiClient, origin: string): Promise<{ preflight: string | null; preflightStatus: number; get: string | null; methods: string | null }> {
  const pre = await api.request(SEARCH_PATH, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
  const get = await api.get('/health', { headers: { origin } });
  return { preflight: pre.headers.get('access-control-allow-origin'), preflightStatus: pre.status, get: get.headers.get('access-control-allow-origin'), methods: pre.headers.get('access-control-allow-methods') };
}

export default defineCheck({
  id: 'api.cors',
  title: 'CORS allows the configured origins only',
  needs: ['api'],
  stages: ['post'],
  params: ['disallowedOrigin'],
  async run(deps) {
    const allowed = deps.config.allowedOrigins.value[0];
    const evil = String(deps.params?.disallowedOrigin ?? 'https://evil.example');
    if (!allowed) return skip('no allowed origin configured (ALLOWED_ORIGINS)');
    return withApiClient(deps, async (api) => {
      const problems: string[] = [];
      const good = await probe(api, allowed);
      if (good.preflight !== allowed) problems.push(`preflight from ${allowed} (${good.preflightStatus}): Access-Control-Allow-Origin is ${JSON.stringify(good.preflight)}`);
      if (good.preflight === allowed && !(good.methods ?? '').toUpperCase().includes('POST')) problems.push(`preflight from ${allowed}: Access-Control-Allow-Methods ${JSON.stringify(good.methods)} lacks POST`);
      if (good.get !== allowed) problems.push(`GET /health from ${allowed}: Access-Control-Allow-Origin is ${JSON.stringify(good.get)}`);
      const bad = await probe(api, evil);
      for (const [what, value] of [['preflight', bad.preflight], ['GET /health', bad.get]] as const) {
        if (value !== null) problems.push(`${what} from ${evil}: Access-Control-Allow-Origin is ${JSON.stringify(value)} — a site not on the list can call the API`);
      }
      if ([good.preflight, good.get].includes('*')) problems.push('Access-Control-Allow-Origin is "*"');
      if (problems.length > 0) {
        return fail(`${problems.length} CORS problem(s)`, { details: problems, hint: `List exact origins in ALLOWED_ORIGINS (now ${deps.config.allowedOrigins.value.join(', ')} from ${deps.config.allowedOrigins.origin}); never "*" or reflect any Origin.` });
      }
      return pass(`${allowed} allowed (preflight and GET); ${evil} gets no CORS headers`);
    });
  },
});
