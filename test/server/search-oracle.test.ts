/**
 * Location search equals a brute-force oracle (JS haversine over every row) on a 100,000-shop
 * fixture with dense cities, sparse rural points, both poles, the ±180° meridian, duplicate
 * coordinates and shops without coordinates; radii 0.1–50 mi, with and without a category —
 * without the shop-density grid, with it, and with grids that lie both ways.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CELLS_PER_DEGREE, DensityGrid, loadDensityGrid } from '../../src/db/search/density.js';
import { boundingBoxes, EARTH_RADIUS_MILES, haversineMiles } from '../../src/db/search/geo.js';
import { searchShops } from '../../src/server/search/search-shops.js';
import { buildTestApp, createServerDb, listen, postJson, testConfig, type ServerDb } from './helpers.js';

const CATEGORIES = ['barbershop', 'salon', 'spa', 'nails', 'beauty'];

interface Row {
  id: number;
  slug: string;
  category: string;
  latitude: number;
  longitude: number;
}

// Deterministic pseudo-random numbers in SQL: md5 of (row, salt) → [0, 1).
const R = (salt: string) => `(('x' || substr(md5(g::text || '${salt}'), 1, 8))::bit(32)::bigint / 4294967296.0)`;

const FIXTURE_SQL = `
INSERT INTO shops (slug, name, category, latitude, longitude)
SELECT 'shop-' || lpad(g::text, 6, '0'), 'Shop ' || g, (ARRAY['barbershop','salon','spa','nails','beauty'])[1 + floor(${R('c')} * 5)::int],
       CASE WHEN kind = 'none' THEN NULL ELSE lat END, CASE WHEN kind = 'none' THEN NULL ELSE lon END
  FROM (
    SELECT g, k.kind,
           CASE k.kind
             WHEN 'city' THEN (ARRAY[33.45, 40.71, 51.50, -33.87, 64.14])[1 + (g % 5)] + (${R('a')} - 0.5) * 0.8
             WHEN 'pole' THEN CASE WHEN g % 2 = 0 THEN 90 - ${R('a')} * 1.5 ELSE -90 + ${R('a')} * 1.5 END
             WHEN 'meridian' THEN (${R('a')} - 0.5) * 120
             WHEN 'dup' THEN 33.4255
             ELSE (${R('a')} - 0.5) * 180
           END AS lat,
           CASE k.kind
             WHEN 'city' THEN (ARRAY[-112.07, -74.01, -0.13, 151.21, -21.94])[1 + (g % 5)] + (${R('b')} - 0.5) * 0.8
             WHEN 'pole' THEN (${R('b')} - 0.5) * 360
             WHEN 'meridian' THEN CASE WHEN g % 2 = 0 THEN 180 - ${R('b')} * 0.6 ELSE -180 + ${R('b')} * 0.6 END
             WHEN 'dup' THEN -111.94
             ELSE (${R('b')} - 0.5) * 360
           END AS lon
      FROM generate_series(1, 100000) AS g
      CROSS JOIN LATERAL (SELECT CASE
             WHEN g % 500 = 0 THEN 'dup'
             WHEN g % 97 = 0 THEN 'none'
             WHEN ${R('k')} < 0.45 THEN 'city'
             WHEN ${R('k')} < 0.55 THEN 'pole'
             WHEN ${R('k')} < 0.65 THEN 'meridian'
             ELSE 'rural' END AS kind) AS k
  ) t`;

/** A small deterministic PRNG for the queries (mulberry32). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The density grid's cells, counted in JS: [lat cell, lon cell, shops]. */
function cellsOf(rows: Row[]): Array<[number, number, number]> {
  const counts = new Map<string, [number, number, number]>();
  for (const r of rows) {
    const la = Math.floor(r.latitude * CELLS_PER_DEGREE);
    const lo = Math.floor(r.longitude * CELLS_PER_DEGREE);
    const cell = counts.get(`${la},${lo}`) ?? [la, lo, 0];
    cell[2] += 1;
    counts.set(`${la},${lo}`, cell);
  }
  return [...counts.values()];
}

function oracle(rows: Row[], lat: number, lon: number, radius: number, category: string | undefined, limit: number): Array<{ slug: string; d: number }> {
  return rows
    .filter((r) => category === undefined || r.category === category)
    .map((r) => ({ slug: r.slug, d: haversineMiles(lat, lon, r.latitude, r.longitude) }))
    .filter((r) => r.d <= radius)
    .sort((a, b) => a.d - b.d || (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0))
    .slice(0, limit);
}

describe('location search vs brute-force oracle (100,000 shops)', () => {
  let sdb: ServerDb;
  let rows: Row[];

  beforeAll(async () => {
    sdb = await createServerDb('geo');
    await sdb.pool.query(FIXTURE_SQL);
    await sdb.pool.query('ANALYZE shops');
    const result = await sdb.pool.query<Row>('SELECT id::int AS id, slug, category, latitude, longitude FROM shops WHERE latitude IS NOT NULL');
    rows = result.rows;
  });
  afterAll(async () => {
    await sdb?.close();
  });

  it('fixture has 100,000 shops including poles, the meridian, duplicates and shops without coordinates', async () => {
    const { rows: stats } = await sdb.pool.query<{ total: number; located: number; north: number; south: number; east: number; west: number }>(
      `SELECT count(*)::int AS total, count(latitude)::int AS located,
              count(*) FILTER (WHERE latitude > 89)::int AS north, count(*) FILTER (WHERE latitude < -89)::int AS south,
              count(*) FILTER (WHERE longitude > 179.5)::int AS east, count(*) FILTER (WHERE longitude < -179.5)::int AS west
         FROM shops`,
    );
    expect(stats[0]!.total).toBe(100_000);
    expect(stats[0]!.located).toBeLessThan(100_000);
    for (const k of ['north', 'south', 'east', 'west'] as const) expect(stats[0]![k]).toBeGreaterThan(100);
  });

  it('300+ mixed queries (cities, sparse points, poles, ±180°, radii 0.1–50, half with a category) return exactly the oracle ids in order', async () => {
    const rand = prng(42);
    const centres: Array<[number, number]> = [
      [33.4255, -111.94], [40.71, -74.01], [51.5, -0.13], [-33.87, 151.21], [64.14, -21.94],
      [89.99, 0], [90, 45], [-89.95, 120], [88.7, -170], [-88.9, 10],
      [0, 179.99], [10, -179.95], [-20, 180], [35, -180], [0.5, 179.7],
    ];
    const radii = [0.1, 0.5, 1, 2.5, 5, 10, 25, 50];
    const real = await loadDensityGrid(sdb.pool);
    expect(real.shops).toBe(rows.length);
    // Every located cell ×1000 (first rings far too small: they miss, the rest of the rings follow),
    // and one shop per 1000 (first rings far too large: often the whole radius at once).
    const scaled = (f: number) => DensityGrid.fromCells(cellsOf(rows).map(([la, lo, n]) => [la, lo, Math.max(1, Math.round(n * f))]), CATEGORIES.map((c) => [c, 1]));
    const grids: Array<[string, DensityGrid | undefined]> = [['no grid', undefined], ['grid', real], ['grid ×1000', scaled(1000)], ['grid ÷1000', scaled(0.001)]];
    // Statements sent per grid (after each wrapper's one version() probe).
    const statements = new Map<string, number>();
    const counted = new Map(grids.map(([label]) => [label, { query: ((...args: Parameters<typeof sdb.pool.query>) => (statements.set(label, (statements.get(label) ?? 0) + 1), sdb.pool.query(...args))) as typeof sdb.pool.query }]));
    let compared = 0;
    let nonEmpty = 0;
    for (let i = 0; i < 320; i++) {
      let lat: number;
      let lon: number;
      if (i < centres.length * 4) [lat, lon] = centres[i % centres.length]!;
      else if (rand() < 0.15) [lat, lon] = [(rand() - 0.5) * 180, (rand() - 0.5) * 360]; // sparse rural
      else {
        const base = rows[Math.floor(rand() * rows.length)]!; // near a real shop
        lat = Math.max(-90, Math.min(90, base.latitude + (rand() - 0.5) * 0.2));
        lon = Math.max(-180, Math.min(180, base.longitude + (rand() - 0.5) * 0.2));
      }
      const radius = i % 3 === 0 ? radii[i % radii.length]! : Math.round((0.1 + rand() * 49.9) * 100) / 100;
      const category = i % 2 === 0 ? CATEGORIES[i % CATEGORIES.length] : undefined;
      const limit = 50;
      const want = oracle(rows, lat, lon, radius, category, limit);
      // Without the density grid (rings from 1 mile), with the fixture's own grid, and with grids
      // that lie both ways: the grid only picks the first ring, never the answer.
      for (const [label, grid] of grids) {
        const got = await searchShops(counted.get(label)!, { latitude: lat, longitude: lon, radiusMiles: radius, category, limit }, grid);
        expect(got.map((g) => g.slug), `query ${i} (${label}): (${lat}, ${lon}) r=${radius} ${category ?? ''}`).toEqual(want.map((w) => w.slug));
        for (const [j, g] of got.entries()) expect(g.distance).toBeCloseTo(want[j]!.d, 9);
      }
      compared++;
      if (want.length > 0) nonEmpty++;
    }
    expect(compared).toBeGreaterThanOrEqual(300);
    // Both paths were taken: without a grid one statement per search; a grid far too dense
    // misses its first ring and sends the rest of the rings as a second statement.
    expect(statements.get('no grid')).toBe(compared + 1);
    expect(statements.get('grid ×1000')!).toBeGreaterThan(compared * 1.5);
    expect(statements.get('grid ÷1000')!).toBeLessThan(statements.get('grid ×1000')!);
    expect(nonEmpty).toBeGreaterThan(100);
  });

  it('the HTTP route returns the same ids as the oracle, rounds distance_miles to 2 decimals and ties by slug', async () => {
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url) });
    try {
      const url = await listen(app);
      // 200 shops share these coordinates (every 500th row): all tie at distance 0, ordered by slug.
      const res = await postJson(`${url}/router/search-by-location`, { latitude: 33.4255, longitude: -111.94, radius_miles: 0.1, limit: 50 });
      expect(res.status).toBe(200);
      const want = oracle(rows, 33.4255, -111.94, 0.1, undefined, 50);
      expect(res.body.results.map((r: { slug: string }) => r.slug)).toEqual(want.map((w) => w.slug));
      expect(res.body.results[0].distance_miles).toBe(0);
      const wide = await postJson(`${url}/router/search-by-location`, { latitude: 40.71, longitude: -74.01, radius_miles: 50, category: 'SALON' });
      expect(wide.status).toBe(200);
      expect(wide.body.results).toHaveLength(20);
      expect(wide.body.results.map((r: { slug: string }) => r.slug)).toEqual(oracle(rows, 40.71, -74.01, 50, 'salon', 20).map((w) => w.slug));
      for (const r of wide.body.results) expect(Math.round(r.distance_miles * 100) / 100).toBe(r.distance_miles);
    } finally {
      await app.close();
    }
  });
});

describe('boundingBoxes', () => {
  // A point at distance d and bearing θ from (lat, lon) — the direct geodesic problem on a sphere.
  function destination(lat: number, lon: number, d: number, bearing: number): [number, number] {
    const φ1 = (lat * Math.PI) / 180;
    const λ1 = (lon * Math.PI) / 180;
    const δ = d / EARTH_RADIUS_MILES;
    const φ2 = Math.asin(Math.sin(φ1) * Math.cos(δ) + Math.cos(φ1) * Math.sin(δ) * Math.cos(bearing));
    const λ2 = λ1 + Math.atan2(Math.sin(bearing) * Math.sin(δ) * Math.cos(φ1), Math.cos(δ) - Math.sin(φ1) * Math.sin(φ2));
    let lonDeg = (λ2 * 180) / Math.PI;
    lonDeg = ((((lonDeg + 180) % 360) + 360) % 360) - 180;
    return [(φ2 * 180) / Math.PI, lonDeg];
  }

  it('every point within the radius lies inside one of the boxes (poles and ±180° included)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -90, max: 90, noNaN: true }),
        fc.double({ min: -180, max: 180, noNaN: true }),
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
        (lat, lon, r, f, bearing) => {
          const [plat, plon] = destination(lat, lon, r * f, bearing);
          const boxes = boundingBoxes(lat, lon, r);
          return boxes.some((b) => plat >= b.latMin && plat <= b.latMax && plon >= b.lonMin && plon <= b.lonMax);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('splits in two across the antimeridian and uses every longitude when the circle holds a pole', () => {
    expect(boundingBoxes(0, 179.99, 10)).toHaveLength(2);
    expect(boundingBoxes(0, -179.99, 10)).toHaveLength(2);
    expect(boundingBoxes(89.99, 0, 5)).toEqual([expect.objectContaining({ lonMin: -180, lonMax: 180, latMax: 90 })]);
    expect(boundingBoxes(33.4, -111.9, 10)).toHaveLength(1);
  });
});
