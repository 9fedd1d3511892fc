/**
 * The location-search SQL, in one place for the server's search (src/server/search) and the
 * check that explains it (db.search-query-plan): a bounding box the btree indexes can use
 * (idx_shops_lat_band / idx_shops_lat_band_category: the box's latitude bands, then its
 * longitude range in each, see boxFilter), then the exact haversine distance, tried
 * on growing rings up to the requested radius (see ringRadii), all evaluated inside one
 * statement (searchQuery).
 *
 * The SQL text differs with and without a category, and with one or two boxes, instead of
 * `($3 IS NULL OR category = $3)`: one text whose plan must serve both cases flips plans
 * (FACTS.md: 7 ms → 39 ms at a sparse point). Each variant here has exactly one good plan.
 */
import { boundingBoxes, EARTH_RADIUS_MILES, type LatLonBox } from './geo.js';

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
  /** A stable name for this SQL text (for a named prepared statement). */
  name: string;
  /** The ring's radius in miles (the last ring is the requested radius). */
  radiusMiles: number;
  text: string;
  values: unknown[];
}

// $1 lat, $2 lon: the haversine, written exactly like haversineMiles() in geo.ts.
const DISTANCE = `2 * ${EARTH_RADIUS_MILES} * asin(least(1, sqrt(
      power(sin(radians(s.latitude - $1::float8) / 2), 2)
      + cos(radians($1::float8)) * cos(radians(s.latitude)) * power(sin(radians(s.longitude - $2::float8) / 2), 2))))`;

/**
 * Latitude bands per degree: the leading key of idx_shops_lat_band(_category), migration 016.
 * A band is floor(latitude * 20), 0.05° (≈ 3.5 miles). BAND_SQL must stay the index's
 * expression, character for character in meaning, or the planner cannot use those indexes.
 */
export const LAT_BANDS_PER_DEGREE = 20;
const BAND_SQL = `floor(s.latitude * ${LAT_BANDS_PER_DEGREE})::int`;

/** Parameters per box: the box's latitude bands (int[]), then latMin, latMax, lonMin, lonMax. */
const PARAMS_PER_BOX = 5;

/**
 * One box's filter, its parameters from $n: the bands it covers (what the btree descends to,
 * once per band, reading only the box's longitude range there), then the exact box, which
 * decides (the bands are only coarse).
 */
function boxFilter(n: number): string {
  return `(${BAND_SQL} = ANY($${n}::int[]) AND s.latitude BETWEEN $${n + 1}::float8 AND $${n + 2}::float8 AND s.longitude BETWEEN $${n + 3}::float8 AND $${n + 4}::float8)`;
}

/**
 * The bands a box's latitudes fall in, smallest first. floor(x * 20) never decreases as x
 * grows (IEEE multiplication is monotonic), so every latitude in [latMin, latMax] has a band
 * between the ends' bands; PostgreSQL computes floor(latitude * 20) with the same doubles.
 */
export function latitudeBands(box: LatLonBox): number[] {
  const first = Math.floor(box.latMin * LAT_BANDS_PER_DEGREE);
  const last = Math.floor(box.latMax * LAT_BANDS_PER_DEGREE);
  const bands: number[] = [];
  for (let b = first; b <= last; b++) bands.push(b);
  return bands;
}

/** A box's parameters, in boxFilter's order. */
function boxValues(box: LatLonBox): unknown[] {
  return [latitudeBands(box), box.latMin, box.latMax, box.lonMin, box.lonMax];
}

/**
 * The guard against a generic-plan flip, for named prepared statements (searchQuery explains
 * why): sets plan_cache_mode = force_custom_plan for the session. As an uncorrelated subquery in
 * a WHERE it is an InitPlan behind a one-time filter, evaluated once per execution — before the
 * plan cache may first consider a generic plan (after five custom ones).
 */
const PLAN_GUARD = "(SELECT set_config('plan_cache_mode', 'force_custom_plan', false))";

function buildSql(boxes: number, withCategory: boolean): string {
  // Parameters: $1 lat, $2 lon, $3 radius, $4 limit, then [category], then 5 per box (boxFilter).
  let n = withCategory ? 6 : 5;
  const boxSql: string[] = [];
  for (let i = 0; i < boxes; i++) {
    boxSql.push(boxFilter(n));
    n += PARAMS_PER_BOX;
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
   AND ${PLAN_GUARD} IS NOT NULL
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
export function ringRadii(radiusMiles: number, firstRingMiles: number = FIRST_RING_MILES): number[] {
  const radii: number[] = [];
  for (let r = firstRingMiles; r < radiusMiles; r *= RING_GROWTH) radii.push(r);
  radii.push(radiusMiles);
  return radii;
}

/** The query for one ring of `search`: shops within `ringMiles`, nearest first, at most `limit`. */
export function ringQuery(search: LocationSearch, ringMiles: number): RingQuery {
  const boxes = boundingBoxes(search.latitude, search.longitude, ringMiles);
  const values: unknown[] = [search.latitude, search.longitude, ringMiles, search.limit];
  if (search.category !== undefined) values.push(search.category);
  for (const b of boxes) values.push(...boxValues(b));
  const withCategory = search.category !== undefined;
  return { name: `routergpt_ring_${withCategory ? 'c' : 'a'}${boxes.length}`, radiusMiles: ringMiles, text: searchSql(boxes.length as 1 | 2, withCategory), values };
}

/**
 * One ring through routergpt_search_ring (migration 017): the same query as ringQuery's for one
 * box, inside a function that plans it generically once per session (why: the migration). For a
 * ring whose box crosses the 180th meridian (two boxes) there is none: send ringQuery's.
 */
export function ringFunctionQuery(search: LocationSearch, ringMiles: number): RingQuery | undefined {
  const boxes = boundingBoxes(search.latitude, search.longitude, ringMiles);
  if (boxes.length !== 1) return undefined;
  return {
    name: 'routergpt_ring_fn',
    radiusMiles: ringMiles,
    text: RING_FUNCTION_SQL,
    values: [search.latitude, search.longitude, ringMiles, search.limit, search.category ?? null, ...boxValues(boxes[0]!)],
  };
}

const RING_FUNCTION_SQL =
  'SELECT id, slug, name, category, address, city, state, postal_code, phone, timezone, latitude, longitude, distance FROM routergpt_search_ring($1::float8, $2::float8, $3::float8, $4::int, $5::text, $6::int[], $7::float8, $8::float8, $9::float8, $10::float8)';

/**
 * Every ring's query, smallest first — what the one statement of searchQuery() evaluates inside
 * the database, ring by ring, stopping at the first that returns `limit` rows. Each is also a
 * valid statement on its own (the checks explain their plans one ring at a time).
 */
export function ringQueries(search: LocationSearch): RingQuery[] {
  return ringRadii(search.radiusMiles).map((r) => ringQuery(search, r));
}

/** The whole search as one statement, ready for `db.query`. */
export interface SearchQuery {
  /** A stable name for this SQL text (for a named prepared statement). */
  name: string;
  text: string;
  values: unknown[];
  /** The rings the statement evaluates, smallest first (the last is the requested radius). */
  radii: number[];
}

/**
 * One ring inside the one-statement search: the same filter as buildSql() with its own radius
 * and boxes ($p the radius, then 5 per box), nearest first, at most `limit` ($3) rows.
 */
function ringCte(k: number, firstParam: number, boxes: number, withCategory: boolean): string {
  let n = firstParam + 1;
  const boxSql: string[] = [];
  for (let i = 0; i < boxes; i++) {
    boxSql.push(boxFilter(n));
    n += PARAMS_PER_BOX;
  }
  return `r${k} AS MATERIALIZED (
    SELECT * FROM (
      SELECT s.id, s.slug, s.name, s.category, s.address, s.city, s.state, s.postal_code, s.phone, s.timezone, s.latitude, s.longitude,
             ${DISTANCE} AS distance
        FROM shops s
       WHERE s.latitude IS NOT NULL${withCategory ? '\n         AND s.category = $4' : ''}
         AND (${boxSql.join('\n           OR ')})
    ) hits
     WHERE distance <= $${firstParam}::float8
     ORDER BY distance, slug
     LIMIT $3)`;
}

/**
 * The rings as ONE statement (one round trip, one parse, one plan): each ring is a MATERIALIZED
 * CTE, and `answer` picks the first ring that holds `limit` rows (else the last, the requested
 * radius) with a CASE, which evaluates its arms in order. A CTE is computed only when something
 * reads it, and each arm of the UNION ALL reads its ring behind a one-time filter on `answer`,
 * so the rings after the answering one are never executed — the same work as the round-trip
 * loop did, without the round trips. The result does not depend on that laziness: exactly one
 * arm passes its filter, whatever order the executor runs them in.
 *
 * The `set_config` in `answer` is the guard against a generic-plan flip: it sets
 * plan_cache_mode = force_custom_plan for the session, before the plan cache may first consider
 * a generic plan (after five custom ones), so a named prepared statement is re-planned with
 * each search's boxes — one text's generic plan cannot serve a 0.1-mile box in a metro and a
 * 50-mile box at a sparse point. Only named statements are affected (unnamed ones are always
 * planned with their values), and this repository names none but these.
 *
 * Parameters: $1 lat, $2 lon, $3 limit, $4 category (when given), then per ring its radius
 * and 5 per box (boxFilter).
 */
function buildSearchSql(boxesPerRing: number[], withCategory: boolean): string {
  let n = withCategory ? 5 : 4;
  const ctes: string[] = [];
  for (const [i, boxes] of boxesPerRing.entries()) {
    ctes.push(ringCte(i + 1, n, boxes, withCategory));
    n += 1 + PARAMS_PER_BOX * boxes;
  }
  const rings = boxesPerRing.length;
  const arms = boxesPerRing.slice(0, -1).map((_, i) => `WHEN (SELECT count(*) FROM r${i + 1}) >= $3 THEN ${i + 1}`);
  const ring = rings === 1 ? '1' : `CASE ${arms.join(' ')} ELSE ${rings} END`;
  const answer = `answer AS MATERIALIZED (
    SELECT ${ring} AS ring,
           set_config('plan_cache_mode', 'force_custom_plan', false) AS guard)`;
  const union = boxesPerRing.map((_, i) => `SELECT * FROM r${i + 1} WHERE (SELECT ring FROM answer) = ${i + 1}`).join('\n   UNION ALL\n  ');
  return `WITH ${ctes.join(',\n  ')},
  ${answer}
SELECT id::int AS id, slug, name, category, address, city, state, postal_code, phone, timezone, latitude, longitude, distance
  FROM (
  ${union}
  ) answering
 ORDER BY distance, slug`;
}

// One text per shape (rings × boxes per ring × category), built on first use: a few dozen at most.
const SEARCH_SQL = new Map<string, string>();

/**
 * The search as one statement: every ring of ringRadii() evaluated inside the database, up to
 * the first full one (see buildSearchSql). `name` identifies the text, for a named prepared
 * statement; the same shape always gets the same name and text.
 */
export function searchQuery(search: LocationSearch, firstRingMiles?: number): SearchQuery {
  const radii = ringRadii(search.radiusMiles, firstRingMiles);
  const withCategory = search.category !== undefined;
  const values: unknown[] = [search.latitude, search.longitude, search.limit];
  if (withCategory) values.push(search.category);
  const boxesPerRing: number[] = [];
  for (const r of radii) {
    const boxes = boundingBoxes(search.latitude, search.longitude, r);
    boxesPerRing.push(boxes.length);
    values.push(r);
    for (const b of boxes) values.push(...boxValues(b));
  }
  const name = `routergpt_search_${withCategory ? 'c' : 'a'}${boxesPerRing.join('')}`;
  let text = SEARCH_SQL.get(name);
  if (text === undefined) {
    text = buildSearchSql(boxesPerRing, withCategory);
    SEARCH_SQL.set(name, text);
  }
  return { name, text, values, radii };
}
