/**
 * The shop-density summary that sizes a search's first ring (searchQuery's `firstRingMiles`).
 *
 * A grid of shop counts per cell of 0.05° × 0.05° (the latitude bands of migration 016, each
 * cut into the same width of longitude), read from the database in one aggregate statement and
 * kept in two typed arrays (≈ 8 bytes per occupied cell: 116k cells, < 1 MB, for 1M shops).
 * With it a search starts at the ring that should hold about FILL × limit shops where it is,
 * instead of at 1 mile everywhere: a 1-mile ring in a dense metro reads hundreds of rows to keep
 * twenty, and in the country it misses and costs a second and third ring.
 *
 * The summary is a hint and nothing else: every ring is exact (ringRadii), so a stale or wrong
 * count changes how much a search reads, never what it answers. That is why it is refreshed
 * from time to time (the server's SearchDensity), not kept transactionally up to date.
 */
import type { Queryable } from '../pool.js';
import { EARTH_RADIUS_MILES } from './geo.js';
import { LAT_BANDS_PER_DEGREE } from './location-sql.js';

/** Cells per degree of latitude and of longitude (0.05°: the latitude band of migration 016). */
export const CELLS_PER_DEGREE = LAT_BANDS_PER_DEGREE;
/** The first ring should hold about this many times `limit` shops where the density is even. */
export const FILL = 2;
/** How far (in cells each way) the estimate looks for enough shops before it gives up. */
const MAX_REACH_CELLS = 12;
/** The smallest first ring (miles): below it a ring's cost no longer shrinks with its area. */
const MIN_FIRST_RING_MILES = 0.05;

const MILES_PER_DEGREE = (Math.PI / 180) * EARTH_RADIUS_MILES;
// A cell key: (lat cell + 1800) × 7201 + (lon cell + 3600), unique for -90..90 × -180..180 and
// ordered like (lat cell, lon cell). KEY_SQL computes the same in the database.
const LAT_OFFSET = 90 * CELLS_PER_DEGREE;
const LON_OFFSET = 180 * CELLS_PER_DEGREE;
const LON_CELLS = 360 * CELLS_PER_DEGREE + 1;
export const cellKey = (latCell: number, lonCell: number) => (latCell + LAT_OFFSET) * LON_CELLS + (lonCell + LON_OFFSET);
const KEY_SQL = `(floor(latitude * ${CELLS_PER_DEGREE})::int + ${LAT_OFFSET}) * ${LON_CELLS} + (floor(longitude * ${CELLS_PER_DEGREE})::int + ${LON_OFFSET})`;

/** The counts, by cell and by category, as of one read of the shops table. */
export class DensityGrid {
  /** Occupied cells' keys, ascending, and their shop counts. */
  private readonly keys: Int32Array;
  private readonly counts: Int32Array;
  /** Each category's share of the located shops (a category query expects that share of a cell). */
  private readonly shares: Map<string, number>;
  readonly shops: number;

  /**
   * From the occupied cells' keys (cellKey), ascending and distinct, with their counts — the
   * shape loadDensityGrid reads, copied into typed arrays without a JavaScript object per cell
   * (a 1M-shop grid is read in the server's event loop).
   */
  constructor(sortedKeys: ArrayLike<number>, counts: ArrayLike<number>, categories: Array<[category: string, shops: number]>) {
    this.keys = Int32Array.from(sortedKeys);
    this.counts = Int32Array.from(counts);
    let shops = 0;
    for (let i = 0; i < this.counts.length; i += 1) shops += this.counts[i]!;
    this.shops = shops;
    const total = categories.reduce((sum, [, n]) => sum + n, 0);
    this.shares = new Map(categories.map(([c, n]) => [c, total > 0 ? n / total : 0]));
  }

  /** From [lat cell, lon cell, shops] in any order (tests, and grids made by hand). */
  static fromCells(cells: Array<[latCell: number, lonCell: number, shops: number]>, categories: Array<[category: string, shops: number]>): DensityGrid {
    const sorted = cells.map(([la, lo, n]) => [cellKey(la, lo), n] as const).sort((a, b) => a[0] - b[0]);
    return new DensityGrid(
      sorted.map(([k]) => k),
      sorted.map(([, n]) => n),
      categories,
    );
  }

  get cells(): number {
    return this.keys.length;
  }

  /**
   * Shops in one cell (0 when none). A longitude cell past ±180° is the one across the
   * antimeridian (the square around a point at 179.99° takes in -179.99°, not a cell of the next
   * latitude row); a latitude cell beyond a pole holds nothing.
   */
  count(latCell: number, lonCell: number): number {
    if (latCell < -LAT_OFFSET || latCell > LAT_OFFSET) return 0;
    let lon = lonCell;
    if (lon >= LON_OFFSET) lon -= 2 * LON_OFFSET;
    else if (lon < -LON_OFFSET) lon += 2 * LON_OFFSET;
    // -180° and 180° are one meridian: a shop at exactly 180° has the cell key of +180.
    return lon === -LON_OFFSET ? this.stored(latCell, lon) + this.stored(latCell, LON_OFFSET) : this.stored(latCell, lon);
  }

  private stored(latCell: number, lonCell: number): number {
    const k = cellKey(latCell, lonCell);
    let lo = 0;
    let hi = this.keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.keys[mid]!;
      if (v === k) return this.counts[mid]!;
      if (v < k) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /**
   * The radius (miles) of a ring expected to hold FILL × limit shops (of `category`, when
   * given) around (lat, lon): the density of the smallest square of cells around the point that
   * holds that many, spread evenly. Undefined when no square within reach holds enough (the
   * caller starts at its default ring), or for a category with no shops at all.
   */
  firstRingMiles(latitude: number, longitude: number, limit: number, category?: string): number | undefined {
    const share = category === undefined ? 1 : (this.shares.get(category) ?? 0);
    if (share <= 0 || !(limit > 0)) return undefined;
    const want = (FILL * limit) / share;
    const latCell = Math.floor(latitude * CELLS_PER_DEGREE);
    const lonCell = Math.floor(longitude * CELLS_PER_DEGREE);
    const cellMiles = MILES_PER_DEGREE / CELLS_PER_DEGREE;
    const cellArea = cellMiles * cellMiles * Math.max(0.01, Math.cos((latitude * Math.PI) / 180));
    let sum = this.count(latCell, lonCell);
    for (let reach = 0; reach <= MAX_REACH_CELLS; reach += 1) {
      if (reach > 0) {
        // Add the square's new rim.
        for (let d = -reach; d <= reach; d += 1) {
          sum += this.count(latCell - reach, lonCell + d) + this.count(latCell + reach, lonCell + d);
          if (d !== -reach && d !== reach) sum += this.count(latCell + d, lonCell - reach) + this.count(latCell + d, lonCell + reach);
        }
      }
      if (sum >= want) {
        const side = 2 * reach + 1;
        const density = sum / (side * side * cellArea);
        return Math.max(MIN_FIRST_RING_MILES, Math.sqrt(want / (Math.PI * density)));
      }
    }
    return undefined;
  }
}

/** A bytea of big-endian int4s (int4send) as numbers. */
function int4s(bytes: Buffer | null | undefined): Int32Array {
  if (!bytes) return new Int32Array(0);
  const out = new Int32Array(bytes.length >>> 2);
  for (let i = 0; i < out.length; i += 1) out[i] = bytes.readInt32BE(i * 4);
  return out;
}

/**
 * Read the grid: one aggregate over the located shops (an index-only scan of idx_shops_lat_band
 * where the visibility map allows: ≈ 250 ms for 1M shops), answered as one row of two byte
 * strings — the cells' keys, sorted by the database, and their counts, 4 bytes each — rather
 * than 100k row objects or int arrays as text, whose parsing held the server's event loop for
 * 45–60 ms at 1M shops; then the category counts.
 */
export async function loadDensityGrid(db: Queryable): Promise<DensityGrid> {
  const { rows } = await db.query<{ k: Buffer | null; n: Buffer | null }>(
    `SELECT string_agg(int4send(k), ''::bytea ORDER BY k) AS k, string_agg(int4send(n), ''::bytea ORDER BY k) AS n
       FROM (SELECT ${KEY_SQL} AS k, count(*)::int AS n
               FROM shops WHERE latitude IS NOT NULL AND longitude IS NOT NULL GROUP BY 1) cells`,
  );
  const { rows: categories } = await db.query<{ category: string; n: number }>(
    'SELECT category, count(*)::int AS n FROM shops WHERE latitude IS NOT NULL AND longitude IS NOT NULL GROUP BY category',
  );
  return new DensityGrid(
    int4s(rows[0]?.k),
    int4s(rows[0]?.n),
    categories.map((c) => [c.category, c.n]),
  );
}
