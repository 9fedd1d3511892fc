import { defineCheck, fail, pass } from '../define-check.js';
import { brief, isErrorBody, SEARCH_PATH, withApiClient } from './http.js';

/** The checklist's "Invalid coordinates return 422": each case, and the field it must name. */
export const INVALID_SEARCHES: ReadonlyArray<{ label: string; body: Record<string, unknown>; field: string }> = [
  { label: 'latitude 91', body: { latitude: 91, longitude: -111.94 }, field: 'latitude' },
  { label: 'longitude -181', body: { latitude: 33.4255, longitude: -181 }, field: 'longitude' },
  { label: 'radius 0', body: { latitude: 33.4255, longitude: -111.94, radius_miles: 0 }, field: 'radius_miles' },
  { label: 'radius 51', body: { latitude: 33.4255, longitude: -111.94, radius_miles: 51 }, field: 'radius_miles' },
  { label: 'latitude missing', body: { longitude: -111.94 }, field: 'latitude' },
];

export default defineCheck({
  id: 'api.invalid-coordinates-422',
  title: 'Invalid coordinates return 422',
  needs: ['api'],
  stages: ['post'],
  async run(deps) {
    return withApiClient(deps, async (api) => {
      const problems: string[] = [];
      for (const probe of INVALID_SEARCHES) {
        const res = await api.post(SEARCH_PATH, probe.body);
        if (res.status !== 422) problems.push(`${probe.label}: expected 422, got ${brief(res)}`);
        else if (!isErrorBody(res.json)) problems.push(`${probe.label}: 422 without the {error:{code,message,fields}} body: ${brief(res)}`);
        else if (!res.json.error.fields?.some((f) => f.field === probe.field)) problems.push(`${probe.label}: the error's fields do not name ${probe.field}: ${brief(res)}`);
      }
      if (problems.length > 0) return fail(`${problems.length} of ${INVALID_SEARCHES.length} invalid searches not refused properly`, { details: problems, hint: 'Validate the body with the JSON schema (src/server/schemas.ts) and render errors with the 422 error handler.' });
      return pass(`${INVALID_SEARCHES.map((p) => p.label).join(', ')} → 422 naming the field`);
    });
  },
});
