import { defineCheck, fail, pass } from '../define-check.js';
import { withApiClient } from './http.js';

export const HSTS_MIN_MAX_AGE = 31_536_000;

export default defineCheck({
  id: 'api.hsts',
  title: 'HSTS header set',
  needs: ['api'],
  stages: ['post'],
  async run(deps) {
    return withApiClient(deps, async (api) => {
      const res = await api.get('/health');
      const value = res.headers.get('strict-transport-security');
      const hint = `Send Strict-Transport-Security: max-age=${HSTS_MIN_MAX_AGE}; includeSubDomains (helmet's hsts option, or the proxy).`;
      if (!value) return fail('no Strict-Transport-Security header on GET /health', { hint });
      const maxAge = Number(/max-age\s*=\s*"?(\d+)/i.exec(value)?.[1] ?? NaN);
      const problems = [
        Number.isFinite(maxAge) && maxAge >= HSTS_MIN_MAX_AGE ? undefined : `max-age ${Number.isFinite(maxAge) ? maxAge : 'missing'} < ${HSTS_MIN_MAX_AGE} (one year)`,
        /(^|;)\s*includesubdomains\s*(;|$)/i.test(value) ? undefined : 'includeSubDomains missing',
      ].filter((p): p is string => p !== undefined);
      if (problems.length > 0) return fail(`Strict-Transport-Security "${value}": ${problems.join('; ')}`, { details: problems, hint });
      // Browsers honour HSTS only over https; on a plain-http base we can still check what the server sends.
      return pass(`"${value}"${api.base.startsWith('http://') ? ' (sent over plain http here; browsers apply it over https)' : ''}`);
    });
  },
});
