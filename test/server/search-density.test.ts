/**
 * Issue 16 item 2: the shop-density grid that sizes a search's first ring. The grid itself (its
 * cells, its estimate), the read from a real database, the server's background copy (refresh,
 * failure, close), and what it does to a search: one statement where the first ring is full,
 * a second only when it is not, named and never planned generically. Exactness with any grid,
 * true or false, is search-oracle.test.ts's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CELLS_PER_DEGREE, DensityGrid, FILL, loadDensityGrid } from '../../src/db/search/density.js';
import { createSearchDensity } from '../../src/server/search/search-density.js';
import { RING_FUNCTION_RETRY_MS, searchShops } from '../../src/server/search/search-shops.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { buildTestApp, createServerDb, listen, type LocatedShop, postJson, searchOracle, type ServerDb, testConfig } from './helpers.js';

// 2,000 shops evenly over a 0.2° × 0.2° square around Tempe (a lattice, 0.0045° apart), half
// barbershops; 20 spas 30 miles north; one pet groomer far away.
const FIXTURE = `
INSERT INTO shops (slug, name, category, latitude, longitude)
SELECT 'grid-' || lpad(g::text, 4, '0'), 'Grid ' || g, CASE WHEN g % 2 = 0 THEN 'barbershop' ELSE 'salon' END,
       33.3255 + (g % 45) * 0.0045, -112.04 + (g / 45) * 0.0045
  FROM generate_series(0, 1999) g
UNION ALL
SELECT 'north-' || lpad(g::text, 2, '0'), 'North ' || g, 'spa', 33.86 + g * 0.001, -111.94
  FROM generate_series(1, 20) g
UNION ALL
SELECT 'far-away', 'Far away', 'pet-grooming', 45.5, -122.6`;

describe('DensityGrid: the estimate of the first ring', () => {
  // One dense cell (4,000 shops) with empty neighbours, and a sparse area of one shop per cell.
  const dense: [number, number, number] = [Math.floor(33.43 * CELLS_PER_DEGREE), Math.floor(-111.94 * CELLS_PER_DEGREE), 4000];
  const sparse: Array<[number, number, number]> = [];
  for (let i = -6; i <= 6; i += 1) for (let j = -6; j <= 6; j += 1) sparse.push([Math.floor(40 * CELLS_PER_DEGREE) + i, Math.floor(-100 * CELLS_PER_DEGREE) + j, 1]);
  const grid = DensityGrid.fromCells([dense, ...sparse], [['barbershop', 3], ['salon', 1]]);

  it('counts shops per cell and in all', () => {
    expect(grid.cells).toBe(1 + 13 * 13);
    expect(grid.shops).toBe(4000 + 169);
    expect(grid.count(dense[0], dense[1])).toBe(4000);
    expect(grid.count(dense[0] + 1, dense[1])).toBe(0);
  });

  it('in a dense cell: the radius whose circle holds FILL × limit shops at that density', () => {
    const r = grid.firstRingMiles(33.43, -111.94, 20)!;
    // The cell: 0.05° of latitude by 0.05° of longitude at 33.43°; 4,000 shops spread evenly.
    const cellMiles = (0.05 * Math.PI * 3958.7613) / 180;
    const area = cellMiles * cellMiles * Math.cos((33.43 * Math.PI) / 180);
    expect(r).toBeCloseTo(Math.sqrt((FILL * 20) / (Math.PI * (4000 / area))), 9);
    expect(r).toBeLessThan(0.5);
    // A bigger page needs a bigger ring; a category holding a quarter of the shops, twice the radius.
    expect(grid.firstRingMiles(33.43, -111.94, 80)!).toBeCloseTo(2 * r, 9);
    expect(grid.firstRingMiles(33.43, -111.94, 20, 'salon')!).toBeCloseTo(2 * r, 9);
  });

  it('in a sparse area it looks farther out; with nothing within reach, or an unknown category, it has no estimate', () => {
    const r = grid.firstRingMiles(40.02, -99.98, 20)!;
    // 1 shop per cell: 40 shops need a 7×7 square (49 cells) → the radius of 40 cells' area.
    expect(r).toBeGreaterThan(5);
    expect(r).toBeLessThan(15);
    expect(grid.firstRingMiles(0, 0, 20)).toBeUndefined();
    expect(grid.firstRingMiles(33.43, -111.94, 20, 'spa')).toBeUndefined();
    expect(new DensityGrid([], [], []).firstRingMiles(33.43, -111.94, 20)).toBeUndefined();
  });

  it('across the antimeridian the square takes in the cells on the other side, never another latitude row; no estimate for a limit of 0', () => {
    const row = Math.floor(-17.5 * CELLS_PER_DEGREE);
    const west = -180 * CELLS_PER_DEGREE; // the cell from -180° to -179.95°
    const east = 180 * CELLS_PER_DEGREE - 1; // the cell from 179.95° to 180°
    // 100 shops just west of the antimeridian, and 1,000 in the next latitude row's first cell,
    // which a key one cell past +180° would alias to.
    const decoy = DensityGrid.fromCells([[row, west, 100], [row + 1, west, 1000]], []);
    expect(decoy.count(row, east + 1)).toBe(100);
    expect(decoy.count(row, east + 2)).toBe(0);
    expect(decoy.count(row, west - 1)).toBe(0);
    // From 179.99° E the square reaches the 100 shops across the line, as it would anywhere else:
    // the same cells one east of the point at the prime meridian.
    const fiji = DensityGrid.fromCells([[row, west, 100]], []);
    const here = DensityGrid.fromCells([[row, 1, 100]], []);
    expect(fiji.firstRingMiles(-17.49, 179.99, 20)).toBeCloseTo(here.firstRingMiles(-17.49, 0.04, 20)!, 9);
    expect(fiji.firstRingMiles(-17.49, 179.99, 20)!).toBeLessThan(5);
    // A shop at exactly 180° is counted with -180° (one meridian).
    expect(DensityGrid.fromCells([[row, 180 * CELLS_PER_DEGREE, 7]], []).count(row, west)).toBe(7);
    expect(grid.firstRingMiles(33.43, -111.94, 0)).toBeUndefined();
  });
});

describe('the density grid on a real database', () => {
  let sdb: ServerDb;
  let rows: LocatedShop[];

  beforeAll(async () => {
    sdb = await createServerDb('density');
    await sdb.pool.query(FIXTURE);
    await sdb.pool.query("INSERT INTO shops (slug, name, category) VALUES ('no-coordinates', 'Nowhere', 'salon')");
    await sdb.pool.query('ANALYZE shops');
    rows = (await sdb.pool.query<LocatedShop>('SELECT slug, category, latitude, longitude FROM shops WHERE latitude IS NOT NULL')).rows;
  });
  afterAll(async () => {
    await sdb?.close();
  });

  it('loadDensityGrid counts the located shops per cell, as JavaScript counts them', async () => {
    const grid = await loadDensityGrid(sdb.pool);
    expect(grid.shops).toBe(2021);
    const byCell = new Map<string, number>();
    for (const r of rows) {
      const k = `${Math.floor(r.latitude * CELLS_PER_DEGREE)},${Math.floor(r.longitude * CELLS_PER_DEGREE)}`;
      byCell.set(k, (byCell.get(k) ?? 0) + 1);
    }
    expect(grid.cells).toBe(byCell.size);
    for (const [k, n] of byCell) {
      const [la, lo] = k.split(',').map(Number) as [number, number];
      expect(grid.count(la, lo), k).toBe(n);
    }
    // The category shares come along: pet grooming is 1 shop of 2,021.
    expect(grid.firstRingMiles(33.43, -111.94, 20, 'pet-grooming')).toBeUndefined();
    expect(grid.firstRingMiles(33.43, -111.94, 20, 'barbershop')).toBeGreaterThan(grid.firstRingMiles(33.43, -111.94, 20)!);
  });

  it('with the grid: one statement where the first ring is full, a second only where it is not, both named and never planned generically', async () => {
    const grid = await loadDensityGrid(sdb.pool);
    const client = new pg.Client({ connectionString: sdb.db.url });
    await client.connect();
    try {
      const sent: string[] = [];
      const db = { query: ((config: { name?: string }, values?: unknown[]) => (sent.push(config.name ?? '(unnamed)'), client.query(config as never, values as never))) as never };
      await searchShops(db, { latitude: 33.43, longitude: -111.94, radiusMiles: 1, limit: 1 }, grid); // the version() probe
      sent.length = 0;
      // Inside the lattice: the first ring holds a page, 12 times over.
      for (let i = 0; i < 12; i += 1) {
        const s = { latitude: 33.36 + i * 0.01, longitude: -111.95, radiusMiles: 50, limit: 20 };
        expect((await searchShops(db, s, grid)).map((h) => h.slug)).toEqual(searchOracle(rows, s.latitude, s.longitude, s.radiusMiles, undefined, s.limit));
      }
      expect(sent).toEqual(Array(12).fill('routergpt_ring_fn'));
      sent.length = 0;
      // The 20 spas up north, with a grid that believes a million shops are there: its first ring
      // (≈ 0.01 mi) misses, and the other rings follow in one more statement.
      const spa = { latitude: 33.87, longitude: -111.94, radiusMiles: 40, category: 'spa', limit: 20 };
      const crowded = DensityGrid.fromCells([[Math.floor(33.87 * CELLS_PER_DEGREE), Math.floor(-111.94 * CELLS_PER_DEGREE), 1_000_000]], [['spa', 1]]);
      expect(crowded.firstRingMiles(spa.latitude, spa.longitude, 20, 'spa')).toBeLessThan(0.1);
      expect((await searchShops(db, spa, crowded)).map((h) => h.slug)).toEqual(searchOracle(rows, spa.latitude, spa.longitude, spa.radiusMiles, 'spa', 20));
      expect(sent).toEqual(['routergpt_ring_fn', expect.stringMatching(/^routergpt_search_c1+$/)]);
      // Across the 180th meridian (two boxes) the first ring is sent as SQL, not through the function.
      // (No shops there: the first ring, ≈ 0.2 mi, misses and the other rings follow.)
      sent.length = 0;
      await searchShops(db, { latitude: 10, longitude: 179.999, radiusMiles: 50, limit: 20 }, DensityGrid.fromCells([[200, 3599, 5000]], []));
      expect(sent).toEqual(['routergpt_ring_a2', expect.stringMatching(/^routergpt_search_a2+$/)]);
      // The SQL statements are planned per search (the guard); the function's queries
      // generically, once: it runs with its own plan_cache_mode (migration 017). (The call itself,
      // a function scan with one possible plan, may be planned either way.)
      const { rows: prepared } = await client.query<{ name: string; generic_plans: string }>("SELECT name, generic_plans FROM pg_prepared_statements WHERE name LIKE 'routergpt_%'");
      expect(prepared.map((p) => p.name)).toEqual(expect.arrayContaining(['routergpt_ring_fn', 'routergpt_ring_a2']));
      for (const p of prepared.filter((x) => x.name !== 'routergpt_ring_fn')) expect(p.generic_plans, p.name).toBe('0');
      expect((await client.query<{ m: string }>("SELECT current_setting('plan_cache_mode') AS m")).rows[0]!.m).toBe('force_custom_plan');
      const { rows: fn } = await client.query<{ config: string[] }>("SELECT proconfig AS config FROM pg_proc WHERE proname = 'routergpt_search_ring'");
      expect(fn[0]!.config).toEqual(['plan_cache_mode=force_generic_plan']);
    } finally {
      await client.end();
    }
  });

  it("the server's copy: read in the background on first use, again when stale, kept through a failed read", async () => {
    let clock = 1_000;
    let reads = 0;
    let broken = false;
    const errors: unknown[] = [];
    const db = {
      query: ((text: string, values?: unknown[]) => {
        reads += 1;
        return broken ? Promise.reject(new Error('connection refused')) : sdb.pool.query(text, values);
      }) as typeof sdb.pool.query,
    };
    const density = createSearchDensity({ db, refreshMs: 60_000, retryMs: 5_000, now: () => clock, onError: (e) => errors.push(e) });
    expect(density.current()).toBeUndefined(); // starts the read, does not wait for it
    await density.refresh(); // shares the read in flight
    expect(reads).toBe(2); // the cells, then the categories: one read
    const first = density.current()!;
    expect(first.shops).toBe(2021);
    clock += 59_000;
    expect(density.current()).toBe(first);
    expect(reads).toBe(2);
    // Stale: the next search starts a read and still gets the grid it had.
    broken = true;
    clock += 2_000;
    expect(density.current()).toBe(first);
    await density.refresh();
    expect(density.current()).toBe(first);
    expect(errors).toHaveLength(1);
    // Tried again after retryMs, not before; a second failure in a row is not logged again.
    const afterFailure = reads;
    clock += 1_000;
    density.current();
    expect(reads).toBe(afterFailure);
    clock += 5_000;
    density.current();
    await density.refresh();
    expect(errors).toHaveLength(1);
    broken = false;
    clock += 5_000;
    density.current();
    await density.close();
    expect(density.current()).not.toBe(first); // the read in flight landed before close() returned
    const closedAt = reads;
    clock += 120_000;
    density.current();
    await density.refresh();
    expect(reads).toBe(closedAt); // no read after close
  });

  it('the HTTP search uses the grid once it is read, with the same answers', async () => {
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url) });
    try {
      const url = await listen(app);
      const body = { latitude: 33.4, longitude: -112.0, radius_miles: 25, limit: 30 };
      const before = await postJson(`${url}/router/search-by-location`, body);
      await app.rgpt.density.refresh();
      expect(app.rgpt.density.current()!.shops).toBe(2021);
      const after = await postJson(`${url}/router/search-by-location`, body);
      const want = searchOracle(rows, body.latitude, body.longitude, body.radius_miles, undefined, body.limit);
      expect(before.body.results.map((r: { slug: string }) => r.slug)).toEqual(want);
      expect(after.body.results.map((r: { slug: string }) => r.slug)).toEqual(want);
    } finally {
      await app.close();
    }
  });

  it('on a schema older than 017 (no routergpt_search_ring) the first ring is sent as SQL, with the same answers', async () => {
    const grid = await loadDensityGrid(sdb.pool);
    const s = { latitude: 33.4, longitude: -112.0, radiusMiles: 25, limit: 20 };
    const want = searchOracle(rows, s.latitude, s.longitude, s.radiusMiles, undefined, s.limit);
    await sdb.pool.query('DROP FUNCTION routergpt_search_ring');
    const sent: string[] = [];
    const db = { query: ((config: { name?: string; text: string }, values?: unknown[]) => (sent.push(config.name ?? '(unnamed)'), sdb.pool.query(config as never, values as never))) as never };
    // The clock stands still (Date only) from the failure on, so the retry's timing is exact.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      expect((await searchShops(db, s, grid)).map((h) => h.slug)).toEqual(want);
      expect((await searchShops(db, s, grid)).map((h) => h.slug)).toEqual(want);
      // The version() probe, the function's failure once, then the ring's SQL each time.
      expect(sent).toEqual(['(unnamed)', 'routergpt_ring_fn', 'routergpt_ring_a1', 'routergpt_ring_a1']);
      // The migration lands (017 applied while the server runs): within RING_FUNCTION_RETRY_MS the
      // function is asked for again and used from then on, without a restart.
      await sdb.pool.query(readFileSync(path.join(REPO_ROOT, 'migrations', '017_search_ring_function.sql'), 'utf8'));
      vi.setSystemTime(Date.now() + RING_FUNCTION_RETRY_MS - 1_000);
      expect((await searchShops(db, s, grid)).map((h) => h.slug)).toEqual(want);
      vi.setSystemTime(Date.now() + 2_000);
      expect((await searchShops(db, s, grid)).map((h) => h.slug)).toEqual(want);
      expect((await searchShops(db, s, grid)).map((h) => h.slug)).toEqual(want);
    } finally {
      vi.useRealTimers();
    }
    expect(sent.slice(4)).toEqual(['routergpt_ring_a1', 'routergpt_ring_fn', 'routergpt_ring_fn']);
  });
});
