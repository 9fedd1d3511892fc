import { defineCheck, fail, pass } from '../define-check.js';
import { brief, SEARCH_PATH, withApiClient } from './http.js';
import { emptyPoint } from './targets.js';
import { isSearchResponse } from './types.js';

export default defineCheck({
  id: 'api.empty-area',
  title: 'Empty search areas return gracefully',
  needs: ['api'],
  stages: ['post'],
  params: ['latitude', 'longitude', 'radiusMiles'],
  async run(deps) {
    // Open ocean with no shop within the radius, checked against the target database.
    const point = await emptyPoint(deps);
    const body = { latitude: point.latitude, longitude: point.longitude, radius_miles: point.radius_miles };
    return withApiClient(deps, async (api) => {
      const res = await api.post(SEARCH_PATH, body);
      if (res.status !== 200) return fail(`an empty area answered ${res.status}, expected 200`, { details: [brief(res)], hint: 'No results is not an error: answer 200 with results [] and a message.' });
      if (!isSearchResponse(res.json)) return fail('the body is not a search response', { details: [brief(res)], hint: 'Answer {search_id, count, results: [], message}.' });
      if (res.json.results.length > 0) return fail(`${res.json.results.length} shop(s) found at (${body.latitude}, ${body.longitude}) — expected none`, { details: res.json.results.slice(0, 5).map((r) => `${r.slug} at (${r.latitude}, ${r.longitude})`), hint: 'Check those shops\' coordinates (a 0,0 or swapped latitude/longitude is a geocoding error).' });
      if (res.json.message.trim() === '') return fail('200 with no results but an empty message', { hint: 'Say what to try next (a larger radius, another location).' });
      return pass(`200, results [], "${res.json.message.slice(0, 80)}"`);
    });
  },
});
