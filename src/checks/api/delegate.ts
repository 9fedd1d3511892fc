import { defineCheck, fail, pass, warn } from '../define-check.js';
import { brief, DELEGATE_PATH, SEARCH_PATH, UUID_RE, withApiClient } from './http.js';
import { describeTargets, probeTargets } from './targets.js';
import { isSearchResponse, type DelegateResponse } from './types.js';

export default defineCheck({
  id: 'api.delegate',
  title: 'Delegation to shops creates sessions',
  needs: ['api'],
  stages: ['post'],
  params: ['shopSlugs', 'locations', 'count'],
  async run(deps) {
    return withApiClient(deps, async (api) => {
      let slugs = Array.isArray(deps.params?.shopSlugs) ? (deps.params.shopSlugs as unknown[]).map(String) : [];
      let searchId: string | undefined;
      if (slugs.length === 0) {
        const targets = await probeTargets(deps);
        const where = targets.locations[0]!;
        const res = await api.post(SEARCH_PATH, { latitude: where.latitude, longitude: where.longitude, radius_miles: where.radius_miles });
        if (res.status !== 200 || !isSearchResponse(res.json)) return fail(`the search to pick shops failed: ${brief(res)}`, { hint: 'See api.search.' });
        searchId = res.json.search_id;
        slugs = [...new Set(res.json.results.map((r) => r.slug))].slice(0, Number(deps.params?.count ?? 3));
        if (slugs.length === 0) return warn(`no shops near ${where.name} to delegate to`, { details: [describeTargets(targets)], hint: 'Set params.shopSlugs, or the probe locations (params.locations) to where your shops are.' });
      }
      const problems: string[] = [];
      const details: string[] = [];
      for (const slug of slugs) {
        const res = await api.post(DELEGATE_PATH, { shop_slug: slug, ...(searchId ? { search_id: searchId } : {}) });
        const body = res.json as DelegateResponse | undefined;
        if (res.status !== 201) {
          problems.push(`${slug}: expected 201, got ${brief(res)}`);
          continue;
        }
        const wrong = [
          typeof body?.session_id === 'string' && UUID_RE.test(body.session_id) ? undefined : 'session_id is not a UUID',
          typeof body?.message === 'string' && body.message.trim() !== '' ? undefined : 'the initial message is empty',
          body?.shop?.slug === slug ? undefined : `the session is for shop "${String(body?.shop?.slug)}"`,
        ].filter(Boolean);
        if (wrong.length > 0) problems.push(`${slug}: ${wrong.join('; ')}`);
        else details.push(`${slug}: session ${body!.session_id.slice(0, 8)}… in ${Math.round(res.ms)} ms — "${body!.message.slice(0, 60)}…"`);
      }
      if (problems.length > 0) return fail(`${problems.length} of ${slugs.length} delegation(s) wrong`, { details: [...problems, ...details], hint: 'Check POST /router/delegate in the server logs ([ROUTER] delegated to …) and the chat_sessions table.' });
      return pass(`${slugs.length} shop(s): 201, session ids, greetings`, { details, data: { shops: slugs } });
    });
  },
});
