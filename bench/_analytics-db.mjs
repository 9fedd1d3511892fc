// The analytics benchmark's database: a THROWAWAY database (`routergpt_bench_analytics`, dropped by
// the benchmark when it ends unless BENCH_KEEP=1) migrated with the built migrator and loaded with
// ~10,000,000 router_analytics events in a few INSERT … SELECT FROM generate_series statements.
//
// The mix follows the product's funnel, over 35 days (so --since 30d and 7d both fall inside):
// N searches (3 % synthetic: routergpt's own checks; 1 in 17 finds nothing), 30 % of the rest
// delegated to the first shop they returned (one chat session each), 3–4 chat messages per
// delegation, a booking in a third of the delegated sessions, a rating in half of the booked
// ones, 5xx errors on 0.5 % of searches; refusals (429/422/404/toggle 503) per minute; the
// bookings table with the router's bookings and as many direct ones; router_feedback. Searches are
// evenly spread over the window in id order (rows arrive in time order, as in production), with
// random latencies (setseed: the same data every load); the table is then put in created_at order.
import path from 'node:path';
import pg from 'pg';

const ROOT = path.resolve(import.meta.dirname, '..');
export const ANALYTICS_BENCH_DB = 'routergpt_bench_analytics';
/** Searches; the other events follow from them (≈ 2.37 events per search → ≈ 10 M). */
export const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 4_220_000);
export const DAYS = 35;
const SHOPS = 1000;
const DIRECT_BOOKINGS = 300_000;

/** `name`: another throwaway database of the same data (bench/maintain changes its rows: never the analytics bench's). */
export function analyticsBenchUrl(name = ANALYTICS_BENCH_DB) {
  const base = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { adminUrl: base, url: url.toString() };
}

async function withClient(connectionString, fn) {
  const client = new pg.Client({ connectionString, application_name: 'routergpt bench analytics' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const LOAD = [
  ['shops and services', `
    INSERT INTO shops (slug, name, category, city, state, timezone, latitude, longitude, geocode_source)
    SELECT 'bench-' || i, 'Bench Shop ' || i, (ARRAY['barbershop', 'salon', 'spa', 'nail-salon'])[1 + i % 4], 'Metro', 'AZ', 'America/Phoenix',
           33 + (i % 100) / 100.0, -112 + (i / 10) / 100.0, 'seed'
      FROM generate_series(1, ${SHOPS}) i;
    INSERT INTO services (shop_id, name, duration_minutes, price_cents) SELECT id, 'Cut', 30, 3000 FROM shops`],
  // t(k): the k-th search's instant, evenly over [start, start + DAYS).
  ['search events', `
    INSERT INTO router_analytics (event_type, search_id, latency_ms, payload, created_at, synthetic, release, host)
    SELECT 'search', md5('s' || k)::uuid,
           40 + floor(random() * 300)::int + CASE WHEN random() < 0.02 THEN 1500 ELSE 0 END,
           jsonb_build_object('result_count', CASE WHEN k % 17 = 0 THEN 0 ELSE 5 END, 'shop_ids',
             CASE WHEN k % 17 = 0 THEN '[]'::jsonb ELSE jsonb_build_array(1 + k % ${SHOPS}, 1 + (k * 7) % ${SHOPS}, 1 + (k * 13) % ${SHOPS}, 1 + (k * 31) % ${SHOPS}, 1 + (k * 61) % ${SHOPS}) END),
           $1::timestamptz + k * $2::float8 * interval '1 second', k % 33 = 0, 'bench-1', 'web-' || (1 + k % 3)
      FROM generate_series(1, ${SEARCHES}) k`],
  ['delegate events', `
    INSERT INTO router_analytics (event_type, session_id, shop_id, search_id, latency_ms, created_at, synthetic, release, host)
    SELECT 'delegate', md5('c' || k)::uuid, 1 + k % ${SHOPS}, md5('s' || k)::uuid, 20 + floor(random() * 120)::int,
           $1::timestamptz + k * $2::float8 * interval '1 second' + interval '1 minute', k % 33 = 0, 'bench-1', 'web-' || (1 + k % 3)
      FROM generate_series(1, ${SEARCHES}) k WHERE k % 10 < 3 AND k % 17 <> 0`],
  ['chat_message events', `
    INSERT INTO router_analytics (event_type, session_id, shop_id, latency_ms, payload, created_at, synthetic, release, host)
    SELECT 'chat_message', md5('c' || k)::uuid, 1 + k % ${SHOPS}, 700 + floor(random() * 3000)::int, jsonb_build_object('booked', m = 3 AND k % 10 = 0),
           $1::timestamptz + k * $2::float8 * interval '1 second' + interval '1 minute' + m * interval '45 seconds', k % 33 = 0, 'bench-1', 'web-' || (1 + k % 3)
      FROM generate_series(1, ${SEARCHES}) k CROSS JOIN LATERAL generate_series(1, 3 + k % 2) m WHERE k % 10 < 3 AND k % 17 <> 0`],
  ['booking events', `
    INSERT INTO router_analytics (event_type, session_id, shop_id, search_id, created_at, synthetic, release, host)
    SELECT 'booking', md5('c' || k)::uuid, 1 + k % ${SHOPS}, md5('s' || k)::uuid,
           $1::timestamptz + k * $2::float8 * interval '1 second' + interval '4 minutes', k % 33 = 0, 'bench-1', 'web-' || (1 + k % 3)
      FROM generate_series(1, ${SEARCHES}) k WHERE k % 10 = 0 AND k % 17 <> 0`],
  ['feedback events', `
    INSERT INTO router_analytics (event_type, session_id, shop_id, latency_ms, payload, created_at, synthetic, release, host)
    SELECT 'feedback', md5('c' || k)::uuid, 1 + k % ${SHOPS}, 15 + floor(random() * 40)::int, jsonb_build_object('rating', 4),
           $1::timestamptz + k * $2::float8 * interval '1 second' + interval '6 minutes', k % 33 = 0, 'bench-1', 'web-' || (1 + k % 3)
      FROM generate_series(1, ${SEARCHES}) k WHERE k % 20 = 0 AND k % 17 <> 0`],
  ['error events', `
    INSERT INTO router_analytics (event_type, latency_ms, payload, created_at, synthetic, release, host)
    SELECT 'error', 5 + floor(random() * 50)::int,
           jsonb_build_object('route', (ARRAY['/router/search-by-location', '/router/delegate', '/chat'])[1 + k % 3], 'status', 500, 'method', 'POST'),
           $1::timestamptz + k * 200 * $2::float8 * interval '1 second', k % 33 = 0, 'bench-1', 'web-' || (1 + k % 3)
      FROM generate_series(1, ${Math.floor(SEARCHES / 200)}) k`],
  ['chat sessions', `
    INSERT INTO chat_sessions (id, shop_id, source, search_id, created_at, synthetic)
    SELECT md5('c' || k)::uuid, 1 + k % ${SHOPS}, 'search', md5('s' || k)::uuid, $1::timestamptz + k * $2::float8 * interval '1 second' + interval '1 minute', k % 33 = 0
      FROM generate_series(1, ${SEARCHES}) k WHERE k % 10 < 3 AND k % 17 <> 0;
    INSERT INTO chat_sessions (id, shop_id, source, created_at)
    SELECT md5('d' || j)::uuid, 1 + j % ${SHOPS}, 'direct', $1::timestamptz + j * ${(DAYS * 86400) / DIRECT_BOOKINGS} * interval '1 second'
      FROM generate_series(1, ${DIRECT_BOOKINGS}) j`],
  ['bookings', `
    INSERT INTO bookings (shop_id, service_id, session_id, starts_at, ends_at, created_at, synthetic)
    SELECT 1 + k % ${SHOPS}, 1 + k % ${SHOPS}, md5('c' || k)::uuid, timestamptz '2027-01-01' + k * interval '15 minutes', timestamptz '2027-01-01' + k * interval '15 minutes' + interval '30 minutes',
           $1::timestamptz + k * $2::float8 * interval '1 second' + interval '4 minutes', k % 33 = 0
      FROM generate_series(1, ${SEARCHES}) k WHERE k % 10 = 0 AND k % 17 <> 0;
    INSERT INTO bookings (shop_id, service_id, session_id, starts_at, ends_at, created_at)
    SELECT 1 + j % ${SHOPS}, 1 + j % ${SHOPS}, md5('d' || j)::uuid, timestamptz '2027-01-01' + (${SEARCHES} + j) * interval '15 minutes', timestamptz '2027-01-01' + (${SEARCHES} + j) * interval '15 minutes' + interval '30 minutes',
           $1::timestamptz + j * ${(DAYS * 86400) / DIRECT_BOOKINGS} * interval '1 second' + interval '10 minutes'
      FROM generate_series(1, ${DIRECT_BOOKINGS}) j`],
  ['router_feedback', `
    INSERT INTO router_feedback (session_id, rating, synthetic, created_at, updated_at)
    SELECT md5('c' || k)::uuid, r.rating, k % 33 = 0, t, t
      FROM generate_series(1, ${SEARCHES}) k
     CROSS JOIN LATERAL (SELECT $1::timestamptz + k * $2::float8 * interval '1 second' + interval '6 minutes' AS t,
                                (SELECT CASE WHEN u < 0.5 THEN 5 WHEN u < 0.8 THEN 4 WHEN u < 0.9 THEN 3 WHEN u < 0.95 THEN 2 ELSE 1 END FROM (SELECT random() + k * 0 AS u) x) AS rating) r
     WHERE k % 20 = 0 AND k % 17 <> 0`],
  ['router_refusals', `
    INSERT INTO router_refusals (minute, route, policy, status, client_hmac, synthetic, count)
    SELECT date_trunc('minute', $1::timestamptz) + m * interval '1 minute', v.route, v.policy, v.status, 'c' || (m % 50), m % 97 = 0, 1 + floor(random() * v.spread)::int
      FROM generate_series(1, ${DAYS * 1440 - 1}) m
     CROSS JOIN (VALUES ('/router/search-by-location', 'search', 429, 6), ('/router/search-by-location', 'search', 422, 3), ('/router/delegate', 'delegate', 404, 2), ('/chat', 'default', 422, 2)) v(route, policy, status, spread)
     WHERE m % 4 <> 0 OR v.status = 429`],
];

/**
 * Create (dropping any leftover) and load the throwaway database; returns its URL and what was
 * loaded. router_analytics' secondary indexes are dropped during the load and rebuilt after (the
 * same definitions, whatever the migrations made them), which is several times faster than
 * maintaining them row by row.
 */
export async function createAnalyticsBenchDb({ log = (line) => process.stderr.write(`${line}\n`), name = ANALYTICS_BENCH_DB } = {}) {
  const { adminUrl, url } = analyticsBenchUrl(name);
  await dropAnalyticsBenchDb(name);
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const { createPool } = await import(path.join(ROOT, 'dist/db/pool.js'));
  const { loadMigrations } = await import(path.join(ROOT, 'dist/db/migrator/files.js'));
  const { migrateUp } = await import(path.join(ROOT, 'dist/db/migrator/migrator.js'));
  const pool = createPool({ connectionString: url, max: 1, applicationName: 'routergpt bench analytics' });
  try {
    await migrateUp({ pool, migrations: loadMigrations(path.join(ROOT, 'migrations')), lockTimeoutMs: 5000, lockWaitMs: 30_000, appliedBy: 'bench' });
  } finally {
    await pool.end();
  }
  const end = new Date();
  const start = new Date(end.getTime() - DAYS * 86_400_000);
  const step = (DAYS * 86400) / SEARCHES;
  const started = Date.now();
  const counts = await withClient(url, async (c) => {
    const { rows: defs } = await c.query(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'router_analytics' AND indexname <> 'router_analytics_pkey'`,
    );
    for (const d of defs) await c.query(`DROP INDEX ${d.indexname}`);
    await c.query('SELECT setseed(0.2026)');
    for (const [what, sql] of LOAD) {
      const t = Date.now();
      for (const statement of sql.split(/;\s*\n/).filter((s) => s.trim())) {
        const params = statement.includes('$2') ? [start, step] : statement.includes('$1') ? [start] : [];
        await c.query(statement, params);
      }
      log(`  loaded ${what} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    }
    for (const d of defs) {
      const t = Date.now();
      await c.query(d.indexdef);
      log(`  rebuilt ${d.indexname} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    }
    // In production rows arrive in time order, whatever their type; the load wrote them type by
    // type. CLUSTER puts them in created_at order, as a live table is (the planner's correlation
    // statistic, and how many pages a time range touches, depend on it).
    const tc = Date.now();
    await c.query('CLUSTER router_analytics USING router_analytics_created_at_idx');
    log(`  CLUSTER router_analytics by created_at (${((Date.now() - tc) / 1000).toFixed(1)} s)`);
    const t = Date.now();
    await c.query('VACUUM ANALYZE');
    log(`  VACUUM ANALYZE (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    const { rows } = await c.query(
      `SELECT (SELECT count(*) FROM router_analytics) AS events, (SELECT count(*) FROM router_analytics WHERE synthetic) AS synthetic,
              (SELECT count(*) FROM bookings) AS bookings, (SELECT count(*) FROM chat_sessions) AS sessions,
              (SELECT count(*) FROM router_feedback) AS feedback, (SELECT count(*) FROM router_refusals) AS refusal_rows,
              pg_size_pretty(pg_total_relation_size('router_analytics')) AS size`,
    );
    return rows[0];
  });
  log(`loaded in ${((Date.now() - started) / 1000).toFixed(0)} s: ${Number(counts.events).toLocaleString('en-US')} events (${counts.size})`);
  return { url, counts, loadSeconds: (Date.now() - started) / 1000 };
}

export async function dropAnalyticsBenchDb(name = ANALYTICS_BENCH_DB) {
  const { adminUrl } = analyticsBenchUrl(name);
  await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}
