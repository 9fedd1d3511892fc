/**
 * Location search on core PostgreSQL: a bounding box the btree indexes can use
 * (idx_shops_location / idx_shops_location_category), then the exact haversine distance,
 * tried on growing rings up to the requested radius (see ringRadii).
 *
 * The SQL text differs with and without a category, and with one or two boxes, instead of
 * `($3 IS NULL OR category = $3)`: one text whose plan must serve both cases flips plans
 * (FACTS.md: 7 ms → 39 ms at a sparse point). Each variant here has exactly one good plan.
 */
import type { Queryable } from '../../db/pool.js';
import type { ShopRow } from '../booking/types.js';
import { boundingBoxes, EARTH_RADIUS_MILES } from './geo.js';

export interface SearchShopsParams {
  latitude: number;
  longitude: number;
  radiusMiles: number;
  category?: string;
  limit: number;
}

/** A shop row (the booking code's ShopRow) with its coordinates and distance. */
export interface ShopHit extends ShopRow {
  latitude: number;
  longitude: number;
  /** Exact distance in miles (not rounded). */
  distance: number;
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

async function searchWithin(db: Queryable, params: SearchShopsParams, radiusMiles: number): Promise<ShopHit[]> {
  const boxes = boundingBoxes(params.latitude, params.longitude, radiusMiles);
  const values: unknown[] = [params.latitude, params.longitude, radiusMiles, params.limit];
  if (params.category !== undefined) values.push(params.category);
  for (const b of boxes) values.push(b.latMin, b.latMax, b.lonMin, b.lonMax);
  const sql = searchSql(boxes.length as 1 | 2, params.category !== undefined);
  const { rows } = await db.query<ShopHit>(sql, values);
  return rows;
}

export async function searchShops(db: Queryable, params: SearchShopsParams): Promise<ShopHit[]> {
  const radii = ringRadii(params.radiusMiles);
  for (const [i, radius] of radii.entries()) {
    const rows = await searchWithin(db, params, radius);
    // A full page within a smaller ring is the exact answer for the whole radius (see ringRadii).
    if (rows.length >= params.limit || i === radii.length - 1) return rows;
  }
  return [];
}
