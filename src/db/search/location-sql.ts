/**
 * The location-search SQL, in one place for the server's search (src/server/search) and the
 * check that explains it (db.search-query-plan): a bounding box the btree indexes can use
 * (idx_shops_location / idx_shops_location_category), then the exact haversine distance, tried
 * on growing rings up to the requested radius (see ringRadii).
 *
 * The SQL text differs with and without a category, and with one or two boxes, instead of
 * `($3 IS NULL OR category = $3)`: one text whose plan must serve both cases flips plans
 * (FACTS.md: 7 ms → 39 ms at a sparse point). Each variant here has exactly one good plan.
 */
import { boundingBoxes, EARTH_RADIUS_MILES } from './geo.js';

/** What a location search asks for; the server's request and the check's parameters. */
export interface LocationSearch {
  latitude: number;
  longitude: number;
  radiusMiles: number;
  category?: string;
  limit: number;
}

/** One ring's query, ready for `db.query(text, values)`. */
export interface RingQuery {
  /** The ring's radius in miles (the last ring is the requested radius). */
  radiusMiles: number;
  text: string;
  values: unknown[];
}

// $1 lat, $2 lon: the haversine, written exactly like haversineMiles() in geo.ts.
const DISTANCE = `2 * ${EARTH_RADIUS_MILES} * asin(least(1, sqrt(
      power(sin(radians(s.latitude - $1::float8) / 2), 2)
      + cos(radians($1::float8)) * cos(radians(s.latitude)) * power(sin(radians(s.longitude - $2::float8) / 2), 2))))`;

function buildSql(boxes: number, withCategory: boolean): string {
  // Parameters: $1 lat, $2 lon, $3 radius, $4 limit, then [category], then 4 per box.
  let n = withCategory ? 6 : 5;
  const boxSql: string[] = [];
  for (let i = 0; i < boxes; i++) {
    boxSql.push(`(s.latitude BETWEEN $${n}::float8 AND $${n + 1}::float8 AND s.longitude BETWEEN $${n + 2}::float8 AND $${n + 3}::float8)`);
    n += 4;
  }
  return `SELECT id::int AS id, slug, name, category, address, city, state, postal_code, phone, timezone, latitude, longitude, distance
  FROM (
    SELECT s.id, s.slug, s.name, s.category, s.address, s.city, s.state, s.postal_code, s.phone, s.timezone, s.latitude, s.longitude,
           ${DISTANCE} AS distance
      FROM shops s
     WHERE s.latitude IS NOT NULL${withCategory ? '\n       AND s.category = $5' : ''}
       AND (${boxSql.join('\n         OR ')})
  ) hits
 WHERE distance <= $3::float8
 ORDER BY distance, slug
 LIMIT $4`;
}

// Built once: the four texts are constants, so pg's plan cache and pg_stat_statements see four queries.
const SQL = {
  plain: [buildSql(1, false), buildSql(2, false)],
  category: [buildSql(1, true), buildSql(2, true)],
} as const;

export function searchSql(boxes: 1 | 2, withCategory: boolean): string {
  return (withCategory ? SQL.category : SQL.plain)[boxes - 1]!;
}

/** The first ring's radius, and how much each ring grows (area ×16). */
export const FIRST_RING_MILES = 1;
export const RING_GROWTH = 4;

/**
 * The radii to try, smallest first, ending with the requested one: 1, 4, 16, 64… miles, capped.
 *
 * Why rings: the box's rows are all fetched from the heap and measured before the top `limit`
 * are kept, so a 50-mile box in a metro reads ~50,000 rows (≈ 300 ms on 1M shops, bench/). A
 * ring that already holds `limit` shops gives the same answer, because every shop outside it
 * is farther than every shop inside (ties at the edge are inside: `<=`). Growing ×4 bounds the
 * rows read by the answering ring to ~16 × limit where the density is even, at the price of a
 * few cheap extra round trips in empty areas.
 */
export function ringRadii(radiusMiles: number): number[] {
  const radii: number[] = [];
  for (let r = FIRST_RING_MILES; r < radiusMiles; r *= RING_GROWTH) radii.push(r);
  radii.push(radiusMiles);
  return radii;
}

/** The query for one ring of `search`: shops within `ringMiles`, nearest first, at most `limit`. */
export function ringQuery(search: LocationSearch, ringMiles: number): RingQuery {
  const boxes = boundingBoxes(search.latitude, search.longitude, ringMiles);
  const values: unknown[] = [search.latitude, search.longitude, ringMiles, search.limit];
  if (search.category !== undefined) values.push(search.category);
  for (const b of boxes) values.push(b.latMin, b.latMax, b.lonMin, b.lonMax);
  return { radiusMiles: ringMiles, text: searchSql(boxes.length as 1 | 2, search.category !== undefined), values };
}

/**
 * Every query a search may issue, smallest ring first. The server runs them in this order and
 * stops at the first that returns `limit` rows; the check explains them all.
 */
export function ringQueries(search: LocationSearch): RingQuery[] {
  return ringRadii(search.radiusMiles).map((r) => ringQuery(search, r));
}
