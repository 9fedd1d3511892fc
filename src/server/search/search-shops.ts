/**
 * Location search: ONE statement per search (searchQuery in src/db/search/location-sql.ts),
 * which evaluates the rings inside the database, smallest first, and answers with the first
 * ring that holds a full page (see ringRadii for why that is exact).
 *
 * On real PostgreSQL the statement is a named prepared statement (parsed once per connection,
 * planned per search with its own boxes: see the plan_cache_mode guard in searchQuery). On the
 * embedded database it is unnamed: PGlite's pglite-socket gives every connection the same single
 * backend, where two connections preparing the same name would collide ("prepared statement
 * already exists"). Which one a pool talks to is asked once per pool (`SELECT version()`).
 */
import type { Queryable } from '../../db/pool.js';
import { searchQuery, type LocationSearch } from '../../db/search/location-sql.js';
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

export async function searchShops(db: Queryable, params: SearchShopsParams): Promise<ShopHit[]> {
  const { name, text, values } = searchQuery(params);
  const named = namedKnown.get(db) ?? (await usesNamedStatements(db));
  const { rows } = await db.query<ShopHit>(named ? { name, text, values } : { text, values });
  return rows;
}
