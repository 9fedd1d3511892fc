/**
 * Location search: the ring queries of src/db/search/location-sql.ts (shared with the check
 * db.search-query-plan, so the check explains exactly what runs here), smallest ring first,
 * stopping at the first ring that holds a full page (see ringRadii for why that is exact).
 */
import type { Queryable } from '../../db/pool.js';
import { ringQuery, ringRadii, type LocationSearch } from '../../db/search/location-sql.js';
import type { ShopRow } from '../booking/types.js';

export type SearchShopsParams = LocationSearch;

/** A shop row (the booking code's ShopRow) with its coordinates and distance. */
export interface ShopHit extends ShopRow {
  latitude: number;
  longitude: number;
  /** Exact distance in miles (not rounded). */
  distance: number;
}

export async function searchShops(db: Queryable, params: SearchShopsParams): Promise<ShopHit[]> {
  const radii = ringRadii(params.radiusMiles);
  for (const [i, radius] of radii.entries()) {
    // Built one ring at a time: most searches stop at the first ring.
    const { text, values } = ringQuery(params, radius);
    const { rows } = await db.query<ShopHit>(text, values);
    // A full page within a smaller ring is the exact answer for the whole radius (see ringRadii).
    if (rows.length >= params.limit || i === radii.length - 1) return rows;
  }
  return [];
}
