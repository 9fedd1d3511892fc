import { defineCheck, fail, pass, skip, type CheckDeps } from '../define-check.js';
import { brief, isLoopbackBase, withApiClient } from './http.js';

const LOOPBACK_TRUST = new Set(['loopback', '127.0.0.1', '::1', '127.0.0.0/8', '::1/128', 'localhost']);

/** Does the environment trust this machine's loopback address as a proxy (TRUSTED_PROXIES)? */
function trustsLoopback(deps: CheckDeps): boolean {
  return deps.config.trustedProxies.value.some((p) => LOOPBACK_TRUST.has(p.trim().toLowerCase()));
}

const isRedirectToHttps = (status: number, location: string | null) => (status === 301 || status === 308) && (location ?? '').startsWith('https://');

/**
 * HTTP → HTTPS. For an https API: plain http on port 80 (or params.httpPort) must answer a
 * permanent redirect to https. For a local http API the redirect only exists behind a trusted
 * proxy (`X-Forwarded-Proto: http`); we can test it only when this machine is one — otherwise
 * we check the other half (a forged X-Forwarded-Proto from an untrusted client is ignored) and
 * skip, saying why.
 */
export default defineCheck({
  id: 'api.https-redirect',
  title: 'HTTP redirects to HTTPS',
  needs: ['api'],
  stages: ['post'],
  params: ['httpPort'],
  async run(deps) {
    const base = new URL(deps.apiBase!);
    if (base.protocol === 'https:') {
      const port = Number(deps.params?.httpPort ?? 80);
      const httpBase = `http://${base.hostname}${port === 80 ? '' : `:${port}`}`;
      const res = await withApiClient({ ...deps, apiBase: httpBase }, async (api) => {
        const r = await api.get('/health');
        if (isRedirectToHttps(r.status, r.headers.get('location'))) return pass(`${httpBase}/health → ${r.status} ${r.headers.get('location')}`);
        return fail(`${httpBase}/health answered ${r.status}${r.headers.get('location') ? ` → ${r.headers.get('location')}` : ''}, expected 301/308 to https://`, {
          details: [brief(r)],
          hint: 'Redirect plain HTTP to HTTPS at the load balancer or proxy (permanent: 301/308), or set TRUSTED_PROXIES so the server redirects X-Forwarded-Proto: http.',
        });
      });
      if (res.status === 'fail' && /^(lost the API|cannot reach)/.test(res.summary)) {
        return fail(`nothing answers plain HTTP at ${httpBase}: clients typing http:// get an error, not a redirect`, { hint: 'Listen on port 80 at the load balancer and redirect to https (or pass params.httpPort).' });
      }
      return res;
    }
    if (!isLoopbackBase(deps.apiBase!)) {
      return fail(`the API base ${deps.apiBase} is plain http`, { hint: 'Publish the API over https (PUBLIC_API_BASE=https://…) behind a TLS-terminating proxy.' });
    }
    return withApiClient(deps, async (api) => {
      const res = await api.get('/health', { headers: { 'x-forwarded-proto': 'http', 'x-forwarded-for': '203.0.113.7' } });
      const location = res.headers.get('location');
      if (trustsLoopback(deps)) {
        if (isRedirectToHttps(res.status, location)) return pass(`as a trusted proxy, X-Forwarded-Proto: http → ${res.status} ${location}`);
        return fail(`as a trusted proxy (TRUSTED_PROXIES), X-Forwarded-Proto: http answered ${res.status}, expected 308 to https://`, { details: [brief(res)], hint: 'Check the redirect hook in the security plugin and trustProxy.' });
      }
      if (res.status >= 300 && res.status < 400) {
        return fail(`a forged X-Forwarded-Proto from an untrusted client was believed (${res.status} → ${String(location)})`, { hint: 'Trust X-Forwarded-* only from TRUSTED_PROXIES (Fastify trustProxy).' });
      }
      return skip(`the redirect happens only behind a trusted proxy and this machine is not one (TRUSTED_PROXIES); checked that a forged X-Forwarded-Proto is ignored (${res.status})`);
    });
  },
});
