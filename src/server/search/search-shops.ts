/**
 * Location search: the rings of src/db/search/location-sql.ts, evaluated inside the database,
 * smallest first, answering with the first ring that holds a full page (see ringRadii for why
 * that is exact). With the shop-density grid, the first ring is the one expected to be full
 * here, alone in its statement (routergpt_search_ring, migration 017); without it (or when that
 * ring is not full), ONE statement
 * holds the rings (searchQuery). On the bench's 1M shops: 1.00 statements per search.
 *
 * On real PostgreSQL each statement is a named prepared statement (parsed once per connection,
 * planned per search with its own boxes: see the plan_cache_mode guard in location-sql.ts). On
 * the embedded database it is unnamed: PGlite's pglite-socket gives every connection the same
 * single backend, where two connections preparing the same name would collide ("prepared
 * statement already exists"). Which one a pool talks to is asked once per pool (`SELECT version()`).
 */
import type { Queryable } from '../../db/pool.js';
import type { DensityGrid } from '../../db/search/density.js';
import { RING_GROWTH, ringFunctionQuery, ringQuery, searchQuery, type LocationSearch } from '../../db/search/location-sql.js';
import type { ShopRow } from '../booking/types.js';

export type SearchShopsParams = LocationSearch;

/** A shop row (the booking code's ShopRow) with its coordinates and distance. */
export interface ShopHit extends ShopRow {
  latitude: number;
  longitude: number;
  /** Exact distance in miles (not rounded). */
  distance: number;
}

// Per pool (or client): may it use named prepared statements? Settled by the first search.
const namedOk = new WeakMap<object, Promise<boolean>>();
// The settled answers, read synchronously: a search then awaits its query alone (bench/http).
const namedKnown = new WeakMap<object, boolean>();

/**
 * True on a real PostgreSQL server; false on PGlite (its version() says so). A failed probe
 * (the database unreachable) fails the search with the probe's error — the error the search
 * itself would have met, without waiting for the connection a second time — and is asked
 * again by the next search.
 */
function usesNamedStatements(db: Queryable): Promise<boolean> {
  let known = namedOk.get(db);
  if (known === undefined) {
    const probe = db.query<{ v: string }>('SELECT version() AS v').then(({ rows }) => {
      const named = !/PGlite|emscripten/i.test(rows[0]?.v ?? '');
      namedKnown.set(db, named);
      return named;
    });
    probe.catch(() => {
      if (namedOk.get(db) === probe) namedOk.delete(db);
    });
    namedOk.set(db, probe);
    known = probe;
  }
  return known;
}

// Per pool (or client): when the database was found without routergpt_search_ring (a schema
// older than 017). Asked again after RING_FUNCTION_RETRY_MS: a server started before its
// migration (a rolling deploy's window) takes the function up once it is there, not at restart.
const noRingFunction = new WeakMap<object, number>();
const UNDEFINED_FUNCTION = '42883';
export const RING_FUNCTION_RETRY_MS = 60_000;

function ringFunctionMissing(db: Queryable): boolean {
  const since = noRingFunction.get(db);
  if (since === undefined) return false;
  if (Date.now() - since < RING_FUNCTION_RETRY_MS) return true;
  noRingFunction.delete(db);
  return false;
}

/**
 * The grid's first ring: through routergpt_search_ring (migration 017: planned once per session)
 * where the database has it, else — a schema older than this code, a ring across the 180th
 * meridian — as the ring's SQL. Both give the same rows.
 */
async function firstRing(db: Queryable, params: SearchShopsParams, ringMiles: number, named: boolean): Promise<ShopHit[]> {
  const viaFunction = ringFunctionMissing(db) ? undefined : ringFunctionQuery(params, ringMiles);
  if (viaFunction) {
    try {
      const { rows } = await db.query<ShopHit>(named ? { name: viaFunction.name, text: viaFunction.text, values: viaFunction.values } : { text: viaFunction.text, values: viaFunction.values });
      return rows;
    } catch (error) {
      if ((error as { code?: string }).code !== UNDEFINED_FUNCTION) throw error;
      noRingFunction.set(db, Date.now());
    }
  }
  const ring = ringQuery(params, ringMiles);
  const { rows } = await db.query<ShopHit>(named ? { name: ring.name, text: ring.text, values: ring.values } : { text: ring.text, values: ring.values });
  return rows;
}

/**
 * The search. Without a density grid: one statement, the rings from 1 mile (searchQuery).
 * With one (DensityGrid, src/db/search/density.ts): first the ring the grid expects to hold
 * about twice `limit` shops here, as a single-ring statement (the cheapest to plan); only when
 * it is not full, a second statement with the rest of the rings, from four times that radius up
 * to the requested one. Every ring is exact, so either path answers the same rows; the grid
 * decides only how much is read (on the bench's 1M shops the first ring answers 399 of 400).
 */
export async function searchShops(db: Queryable, params: SearchShopsParams, density?: DensityGrid): Promise<ShopHit[]> {
  const named = namedKnown.get(db) ?? (await usesNamedStatements(db));
  const first = density?.firstRingMiles(params.latitude, params.longitude, params.limit, params.category);
  if (first !== undefined) {
    const rows = await firstRing(db, params, Math.min(first, params.radiusMiles), named);
    if (rows.length >= params.limit || first >= params.radiusMiles) return rows;
  }
  const { name, text, values } = searchQuery(params, first === undefined ? undefined : first * RING_GROWTH);
  const { rows } = await db.query<ShopHit>(named ? { name, text, values } : { text, values });
  return rows;
}
