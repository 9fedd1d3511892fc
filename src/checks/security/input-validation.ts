import { defineCheck, fail, pass } from '../define-check.js';
import { brief, CHAT_PATH, DELEGATE_PATH, isErrorBody, SEARCH_PATH, withApiClient, type ApiResponse } from '../api/http.js';
import { isSearchResponse } from '../api/types.js';

const SQL_INJECTION = "x' OR 1=1 --";

interface Probe {
  label: string;
  path: string;
  body: unknown;
  headers?: Record<string, string>;
  /** Acceptable statuses. */
  expect: number[];
  /** Extra verdict on an accepted response. */
  verify?: (res: ApiResponse) => string | undefined;
}

/** What leaks internals: SQL, driver errors, stack frames. */
const LEAK = /(syntax error at or near|SQLSTATE|pg_catalog|relation \\?"[^"\\]+\\?" does not exist|\n\s+at |at [\w.<>]+ \([^)]*\.(?:js|ts):\d+:\d+\)|node_modules\/)/i;
/** SQL keywords in capitals, as drivers and ORMs print statements. */
const SQL_TEXT = /\b(SELECT\b.{1,120}\bFROM|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/;

export function leaksInternals(text: string): boolean {
  return LEAK.test(text) || SQL_TEXT.test(text);
}

const noResults = (res: ApiResponse) => (isSearchResponse(res.json) && res.json.results.length > 0 ? `returned ${res.json.results.length} shop(s): the string reached the query as SQL?` : undefined);

export function inputProbes(bodyLimitBytes: number): Probe[] {
  const at = { latitude: 33.4255, longitude: -111.94 };
  return [
    { label: 'latitude 90.0001', path: SEARCH_PATH, body: { ...at, latitude: 90.0001 }, expect: [422] },
    { label: 'latitude -91', path: SEARCH_PATH, body: { ...at, latitude: -91 }, expect: [422] },
    { label: 'longitude 180.5', path: SEARCH_PATH, body: { ...at, longitude: 180.5 }, expect: [422] },
    { label: 'latitude as a string', path: SEARCH_PATH, body: { ...at, latitude: '33.4 OR 1=1' }, expect: [422] },
    { label: 'radius -1', path: SEARCH_PATH, body: { ...at, radius_miles: -1 }, expect: [422] },
    { label: 'radius 50.5', path: SEARCH_PATH, body: { ...at, radius_miles: 50.5 }, expect: [422] },
    { label: `category ${SQL_INJECTION}`, path: SEARCH_PATH, body: { ...at, category: SQL_INJECTION }, expect: [200, 422], verify: noResults },
    { label: "category '; DROP TABLE shops; --", path: SEARCH_PATH, body: { ...at, category: "barbershop'; DROP TABLE shops; --" }, expect: [200, 422], verify: noResults },
    { label: `shop_slug ${SQL_INJECTION}`, path: DELEGATE_PATH, body: { shop_slug: SQL_INJECTION }, expect: [404, 422] },
    { label: 'session_id not a UUID', path: CHAT_PATH, body: { session_id: "1' OR '1'='1", message: 'hi' }, expect: [404, 422] },
    { label: `body over ${bodyLimitBytes} bytes`, path: SEARCH_PATH, body: JSON.stringify({ ...at, category: 'x'.repeat(bodyLimitBytes + 1024) }), expect: [413, 422] },
    { label: 'malformed JSON', path: SEARCH_PATH, body: '{"latitude": 33.4, "longitude": ', expect: [400, 422] },
    { label: 'not JSON (text/plain)', path: SEARCH_PATH, body: 'latitude=33.4', headers: { 'content-type': 'text/plain' }, expect: [400, 415, 422] },
  ];
}

/**
 * The checklist's "Input validation working": out-of-range coordinates and radius, SQL-looking
 * strings, an oversized body and malformed JSON. Never a 5xx, every error in the API's error
 * shape, and no SQL or stack trace in any response.
 */
export default defineCheck({
  id: 'security.input-validation',
  title: 'Input validation working',
  needs: ['api'],
  stages: ['post'],
  tags: ['api'],
  params: ['bodyLimitBytes'],
  async run(deps) {
    const probes = inputProbes(Number(deps.params?.bodyLimitBytes ?? 16 * 1024));
    return withApiClient(deps, async (api) => {
      const problems: string[] = [];
      // The probes are independent: sent at once, judged in order.
      const answers = await Promise.all(probes.map((probe) => api.post(probe.path, probe.body, { headers: probe.headers })));
      for (const [i, probe] of probes.entries()) {
        const res = answers[i]!;
        if (res.status >= 500) problems.push(`${probe.label}: server error ${brief(res)}`);
        else if (!probe.expect.includes(res.status)) problems.push(`${probe.label}: expected ${probe.expect.join('/')}, got ${brief(res)}`);
        else if (res.status >= 400 && !isErrorBody(res.json)) problems.push(`${probe.label}: ${res.status} without the {error:{code,message}} body: ${brief(res)}`);
        else {
          const verdict = probe.verify?.(res);
          if (verdict) problems.push(`${probe.label}: ${verdict}`);
        }
        if (leaksInternals(res.text)) problems.push(`${probe.label}: the response shows SQL or a stack trace`);
      }
      if (problems.length > 0) {
        return fail(`${problems.length} of ${probes.length} probes mishandled`, { details: problems, hint: 'Validate every body with its JSON schema, use parameterised SQL only, and render every error through the error handler (no internals).' });
      }
      return pass(`${probes.length} probes: no 5xx, errors in the API's shape, nothing leaked`, { details: probes.map((p) => p.label) });
    });
  },
});
