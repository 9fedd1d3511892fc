import { randomBytes } from 'node:crypto';
import { defineCheck, fail, pass } from '../define-check.js';
import { brief, DELEGATE_PATH, isErrorBody, withApiClient } from './http.js';

export default defineCheck({
  id: 'api.unknown-shop-404',
  title: 'Nonexistent shop returns 404',
  needs: ['api'],
  stages: ['post'],
  async run(deps) {
    const slug = `routergpt-verify-no-such-shop-${randomBytes(4).toString('hex')}`;
    return withApiClient(deps, async (api) => {
      const res = await api.post(DELEGATE_PATH, { shop_slug: slug });
      if (res.status !== 404) return fail(`delegating to "${slug}" answered ${res.status}, expected 404`, { details: [brief(res)], hint: 'POST /router/delegate must answer 404 shop_not_found for an unknown slug.' });
      if (!isErrorBody(res.json)) return fail('404 without the {error:{code,message}} body', { details: [brief(res)], hint: 'Render the error through the error handler (HttpError).' });
      return pass(`404 ${res.json.error.code}: "${res.json.error.message.slice(0, 80)}"`);
    });
  },
});
