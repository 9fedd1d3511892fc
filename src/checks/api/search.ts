import type { Pool } from '../../db/pool.js';
import { defineCheck, fail, pass, warn } from '../define-check.js';
import { brief, SEARCH_PATH, UUID_RE, withApiClient, type ProbeLocation } from './http.js';
import { describeTargets, probeTargets } from './targets.js';
import { isSearchResponse } from './types.js';

const EARTH_RADIUS_MILES = 3958.7613;
const toRad = (deg: number) => (deg * Math.PI) / 180;

/**
 * Great-circle distance in miles. Written here on purpose, not imported from src/server: an
 * oracle that shares the server's code would share its bugs.
 */
export function haversineMiles(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = toRad(lat2 - lat1);
  const dLon = toRad(lon2 - lon1);
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(toRad(lat1)) * Math.cos(toRad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_MILES * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Distances are rounded to 2 decimals by the API; allow that much, and a hair for the radius. */
const TOLERANCE_MILES = 0.01;

/** Everything wrong with one search response, as detail lines. */
export function verifySearchResults(where: ProbeLocation, category: string | undefined, body: unknown): string[] {
  const label = `${where.name}${category ? ` [${category}]` : ''}`;
  if (!isSearchResponse(body)) return [`${label}: the body is not a search response`];
  const problems: string[] = [];
  if (typeof body.search_id !== 'string' || !UUID_RE.test(body.search_id)) problems.push(`${label}: search_id missing or not a UUID`);
  if (body.count !== undefined && body.count !== body.results.length) problems.push(`${label}: count ${body.count} but ${body.results.length} results`);
  let previous = -Infinity;
  for (const r of body.results) {
    const expected = haversineMiles(where.latitude, where.longitude, r.latitude, r.longitude);
    if (typeof r.distance_miles !== 'number' || Math.abs(r.distance_miles - expected) > TOLERANCE_MILES) {
      problems.push(`${label}: ${r.slug} distance_miles ${String(r.distance_miles)}, haversine gives ${expected.toFixed(3)}`);
    }
    if (r.distance_miles > where.radius_miles + TOLERANCE_MILES / 2) problems.push(`${label}: ${r.slug} is ${r.distance_miles} mi away, outside the ${where.radius_miles} mi radius`);
    if (r.distance_miles < previous) problems.push(`${label}: ${r.slug} (${r.distance_miles} mi) comes after a shop ${previous} mi away — not nearest first`);
    previous = Math.max(previous, r.distance_miles);
    if (category && r.category?.toLowerCase() !== category.toLowerCase()) problems.push(`${label}: ${r.slug} has category "${r.category}" — the filter was not applied`);
  }
  return problems;
}

/** How precisely the shops a search returned are geocoded (shops.geocode_accuracy), when the database can be read. */
async function resultAccuracy(db: Pool | undefined, slugs: string[]): Promise<{ line: string; city: string[]; byAccuracy?: Record<string, number> }> {
  if (!db) return { line: 'accuracy of the results: skipped — no database to read shops.geocode_accuracy from', city: [] };
  if (slugs.length === 0) return { line: 'accuracy of the results: no shops found to look up', city: [], byAccuracy: {} };
  const { rows } = await db.query<{ slug: string; accuracy: string | null }>(`SELECT slug, geocode_accuracy AS accuracy FROM shops WHERE slug = ANY($1::text[]) ORDER BY slug`, [slugs]);
  const byAccuracy: Record<string, number> = {};
  for (const r of rows) byAccuracy[r.accuracy ?? 'unknown'] = (byAccuracy[r.accuracy ?? 'unknown'] ?? 0) + 1;
  const line = `accuracy of the ${rows.length} shops found: ${Object.entries(byAccuracy).map(([a, n]) => `${a} ${n}`).join(', ')}`;
  return { line, city: rows.filter((r) => r.accuracy === 'city').map((r) => r.slug), byAccuracy };
}

export default defineCheck({
  id: 'api.search',
  title: 'Location search returns correct, sorted results',
  needs: ['api'],
  stages: ['post'],
  params: ['locations', 'category'],
  async run(deps) {
    const targets = await probeTargets(deps);
    const locations = targets.locations;
    const category = String(deps.params?.category ?? 'barbershop');
    return withApiClient(deps, async (api) => {
      const problems: string[] = [];
      const details: string[] = [describeTargets(targets)];
      let total = 0;
      const found = new Set<string>();
      // The probes are independent: send them together, report them in order.
      const probes = locations.flatMap((where) => [undefined, category].map((cat) => ({ where, cat })));
      const responses = await Promise.all(
        probes.map(({ where, cat }) => api.post(SEARCH_PATH, { latitude: where.latitude, longitude: where.longitude, radius_miles: where.radius_miles, ...(cat ? { category: cat } : {}) })),
      );
      probes.forEach(({ where, cat }, i) => {
        const res = responses[i]!;
        if (res.status !== 200) {
          problems.push(`${where.name}${cat ? ` [${cat}]` : ''}: expected 200, got ${brief(res)}`);
          return;
        }
        problems.push(...verifySearchResults(where, cat, res.json));
        const n = isSearchResponse(res.json) ? res.json.results.length : 0;
        total += n;
        if (isSearchResponse(res.json)) for (const r of res.json.results) found.add(r.slug);
        // A location chosen beside a real shop must find that shop (unfiltered search).
        const beside = targets.shops[locations.indexOf(where)];
        if (!cat && beside && isSearchResponse(res.json) && !res.json.results.some((r) => r.slug === beside.slug)) {
          problems.push(`${where.name}: ${beside.slug} is ${haversineMiles(where.latitude, where.longitude, beside.latitude, beside.longitude).toFixed(2)} mi away but not in the results`);
        }
        details.push(`${where.name}${cat ? ` [${cat}]` : ''}: ${n} result(s) in ${Math.round(res.ms)} ms`);
      });
      // "Verify distances are accurate": a distance is only as good as the coordinates it is measured to.
      const accuracy = await resultAccuracy(deps.db, [...found]);
      details.push(accuracy.line);
      const data = { locations: locations.length, results: total, ...(accuracy.byAccuracy ? { accuracy: accuracy.byAccuracy } : {}) };
      if (problems.length > 0) {
        return fail(`${problems.length} problem(s) in ${locations.length * 2} searches`, { details: [...problems, ...details], data, hint: 'Compare the search SQL (src/server/search) with the haversine formula; check shops.latitude/longitude were geocoded correctly (db.shops-geocoded).' });
      }
      if (total === 0) {
        return warn(`every probe location returned zero shops`, { details, data, hint: 'Geocode the shops (`routergpt geocode --dry-run`, then `routergpt geocode`) or set the probe locations (params.locations) to where your shops are.' });
      }
      if (accuracy.city.length > 0) {
        return warn(`${accuracy.city.length} of the ${found.size} shops found rest on city-level coordinates: their distances may be miles off`, {
          details: [...accuracy.city.slice(0, 20).map((s) => `city-level: ${s}`), ...details],
          data,
          hint: 'Geocode them to street level: `routergpt geocode --dry-run --shops SLUG,… --provider google --review review.csv`, then `routergpt geocode --apply review.csv`.',
        });
      }
      return pass(`${locations.length} locations × (all, ${category}): ${total} results, nearest first, distances match the haversine within ${TOLERANCE_MILES} mi`, { details, data });
    });
  },
});
