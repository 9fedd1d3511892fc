// The benchmark database: `routergpt_bench` on BENCH_DATABASE_URL's server, migrated with the
// built migrator and loaded ONCE with 1,000,000 shops; later runs reuse it (a marker row says
// which dataset is loaded; change DATASET to force a reload). Shared by search-db and http.
//
// The shops cluster around ~200 US metro centres (sizes Zipf-like, spreads 2–25 mi), plus 10%
// sparse rural points spread uniformly over the continental US. Deterministic: a seeded PRNG
// picks the centres here, setseed() drives PostgreSQL's random() for the rows.
import path from 'node:path';
import pg from 'pg';

const ROOT = path.resolve(import.meta.dirname, '..');
export const BENCH_DB = 'routergpt_bench';
export const SHOPS = 1_000_000;
const DATASET = `shops-v1-${SHOPS}`;
export const CATEGORIES = [
  ['barbershop', 0.3],
  ['salon', 0.25],
  ['nail-salon', 0.15],
  ['spa', 0.1],
  ['tattoo', 0.08],
  ['massage', 0.07],
  ['pet-grooming', 0.05],
];
// Continental US, for the sparse points and the metro centres.
export const US = { latMin: 25, latMax: 49, lonMin: -124.5, lonMax: -67 };

/** mulberry32: a small seeded PRNG, so centres and query mixes are the same in every run. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ~200 metro centres: position, share of the clustered shops (Zipf s=0.9), spread in miles. */
export function metroCentres(count = 200) {
  const rand = prng(20260101);
  const weights = Array.from({ length: count }, (_, i) => 1 / (i + 1) ** 0.9);
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w, i) => ({
    id: i + 1,
    lat: US.latMin + 1 + rand() * (US.latMax - US.latMin - 2),
    lon: US.lonMin + 2 + rand() * (US.lonMax - US.lonMin - 4),
    share: w / total,
    // The biggest metros sprawl the most.
    spreadMiles: 2 + 23 * Math.sqrt(w),
  }));
}

export function benchUrl() {
  const base = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const url = new URL(base);
  url.pathname = `/${BENCH_DB}`;
  return { adminUrl: base, url: url.toString() };
}

async function withPgClient(connectionString, fn) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function loadShops(client, log) {
  const centres = metroCentres();
  await client.query('CREATE TEMP TABLE bench_centres (id int, lat float8, lon float8, lo float8, hi float8, spread_deg float8)');
  let cum = 0;
  const rows = centres.map((c) => {
    const lo = cum;
    cum += c.share;
    return [c.id, c.lat, c.lon, lo, c.id === centres.length ? 1.0000001 : cum, c.spreadMiles / 69.05];
  });
  await client.query(
    `INSERT INTO bench_centres SELECT * FROM unnest($1::int[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[])`,
    [0, 1, 2, 3, 4, 5].map((k) => rows.map((r) => r[k])),
  );
  const catCase = (() => {
    let acc = 0;
    const arms = CATEGORIES.map(([name, p]) => {
      acc += p;
      return `WHEN r.c < ${acc.toFixed(4)} THEN '${name}'`;
    });
    return `CASE ${arms.join(' ')} ELSE '${CATEGORIES[0][0]}' END`;
  })();
  await client.query('SELECT setseed(0.4242)');
  const batch = 100_000;
  for (let from = 1; from <= SHOPS; from += batch) {
    const to = Math.min(SHOPS, from + batch - 1);
    const started = Date.now();
    // r.u picks a metro (or rural when < 0.1); g1/g2 are Box–Muller normals for the offset.
    await client.query(
      `INSERT INTO shops (slug, name, category, city, state, timezone, latitude, longitude, geocode_source)
       SELECT 'bench-' || r.i, 'Bench Shop ' || r.i, ${catCase},
              CASE WHEN r.u < 0.1 THEN NULL ELSE 'Metro ' || m.id END, NULL, 'America/Chicago',
              CASE WHEN r.u < 0.1 THEN ${US.latMin} + r.x * ${US.latMax - US.latMin}
                   ELSE least(89.9, greatest(-89.9, m.lat + r.g1 * m.spread_deg)) END,
              CASE WHEN r.u < 0.1 THEN ${US.lonMin} + r.y * ${US.lonMax - US.lonMin}
                   ELSE m.lon + r.g2 * m.spread_deg / cos(radians(m.lat)) END,
              'seed'
         FROM (SELECT i, random() AS u, random() AS c, random() AS x, random() AS y,
                      sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS g1,
                      sqrt(-2 * ln(1 - random())) * sin(2 * pi() * random()) AS g2,
                      random() AS pick
                 FROM generate_series($1::int, $2::int) i) r
         LEFT JOIN bench_centres m ON r.pick >= m.lo AND r.pick < m.hi`,
      [from, to],
    );
    log(`  loaded shops ${from}–${to} (${Date.now() - started} ms)`);
  }
  // A menu for the first 5,000 shops, so delegation greets like a real shop.
  await client.query(
    `INSERT INTO services (shop_id, name, duration_minutes, price_cents)
     SELECT s.id, v.name, v.d, v.p FROM shops s CROSS JOIN (VALUES ('Classic Haircut', 30, 3000), ('Beard Trim', 15, 1500)) v(name, d, p)
      WHERE s.slug ~ '^bench-[0-9]+$' AND substring(s.slug from 7)::int <= 5000`,
  );
}

/**
 * Make sure the bench database exists, is migrated, and holds the dataset; returns its URL.
 * `log` gets progress lines (stderr by default: stdout carries the results).
 */
export async function ensureBenchDb({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const { adminUrl, url } = benchUrl();
  await withPgClient(adminUrl, async (c) => {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [BENCH_DB]);
    if (!rowCount) {
      log(`creating database ${BENCH_DB}`);
      await c.query(`CREATE DATABASE ${BENCH_DB}`);
    }
  });
  const { createPool } = await import(path.join(ROOT, 'dist/db/pool.js'));
  const { loadMigrations } = await import(path.join(ROOT, 'dist/db/migrator/files.js'));
  const { migrateUp } = await import(path.join(ROOT, 'dist/db/migrator/migrator.js'));
  const pool = createPool({ connectionString: url, max: 2, applicationName: 'routergpt bench' });
  try {
    const migrated = await migrateUp({ pool, migrations: loadMigrations(path.join(ROOT, 'migrations')), lockTimeoutMs: 5000, lockWaitMs: 30_000, appliedBy: 'bench' });
    if (migrated.ran.length) log(`applied ${migrated.ran.length} migration(s) to ${BENCH_DB}`);
    await pool.query('CREATE TABLE IF NOT EXISTS bench_dataset (name text PRIMARY KEY, loaded_at timestamptz NOT NULL DEFAULT now())');
    const { rowCount } = await pool.query('SELECT 1 FROM bench_dataset WHERE name = $1', [DATASET]);
    if (!rowCount) {
      log(`loading ${SHOPS.toLocaleString('en-US')} shops into ${BENCH_DB} (once; kept for later runs)…`);
      const started = Date.now();
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('TRUNCATE shops RESTART IDENTITY CASCADE');
        await client.query('DELETE FROM bench_dataset');
        await loadShops(client, log);
        await client.query('INSERT INTO bench_dataset (name) VALUES ($1)', [DATASET]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
      // VACUUM sets the visibility map (index-only scans), ANALYZE the planner statistics.
      await pool.query('VACUUM ANALYZE shops');
      await pool.query('VACUUM ANALYZE services');
      log(`loaded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  } finally {
    await pool.end();
  }
  return url;
}

/** The loaded dataset's name (for RESULTS.md). */
export const DATASET_NAME = DATASET;
