// bench/verify-local: `routergpt verify --env local` (every check) against a running local
// server, against the same database and HTTP probes done the way the checklist does them by
// hand — one `psql -c` or `curl` process per probe, in sequence — measured in the same run.
// Targets (issue 16): verify under 3 s, and at least 3× faster than by hand (bench/verify-pg.mjs
// measures the same against real PostgreSQL: ≥ 5×). Medians of interleaved runs, with the spread.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, freePort, freshDir, startServe, stopServe } from './_local.mjs';
import { figure, fmt, median } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** The checklist's database queries and HTTP probes, one `psql -c` / `curl` process each; `pgArgs` says where psql connects. */
export function byHandProbes(port, pgArgs) {
  const psql = (sql) => ['psql', [...pgArgs, '-At', '-c', sql]];
  const curl = (p, body, extra = []) => ['curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...extra, ...(body ? ['-X', 'POST', '-H', 'Content-Type: application/json', '-d', JSON.stringify(body)] : []), `http://127.0.0.1:${port}${p}`]];
  const db = [
    'SELECT 1',
    'SELECT version, checksum FROM routergpt_schema_migrations ORDER BY version',
    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'shops'",
    "SELECT to_regclass('geocoding_cache')",
    "SELECT to_regclass('router_analytics')",
    "SELECT * FROM pg_indexes WHERE tablename = 'shops' AND indexname LIKE 'idx_shops_%'",
    "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_shops_location_category'::regclass",
    "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_shops_lat'::regclass",
    "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_shops_lon'::regclass",
    'SELECT * FROM router_usage_summary LIMIT 5',
    'SELECT * FROM router_shop_discovery LIMIT 10',
    'SELECT * FROM router_conversion_funnel LIMIT 5',
    'SELECT COUNT(*), provider FROM geocoding_cache GROUP BY provider',
    "SELECT slug FROM shops WHERE slug LIKE '%tempe%' OR slug LIKE '%test%'",
    'SELECT slug FROM shops WHERE latitude IS NULL',
    "EXPLAIN ANALYZE SELECT * FROM shops WHERE latitude IS NOT NULL AND longitude IS NOT NULL AND category = 'barbershop' ORDER BY latitude, longitude",
    "SELECT event_type, COUNT(*) FROM router_analytics WHERE created_at > NOW() - INTERVAL '1 hour' GROUP BY event_type",
  ].map(psql);
  const places = [[33.4255, -111.94], [33.4484, -112.074], [33.4942, -111.9261], [33.4152, -111.8315]];
  const http = [
    curl('/health'),
    ...places.flatMap(([latitude, longitude]) => [curl('/router/search-by-location', { latitude, longitude, radius_miles: 10 }), curl('/router/search-by-location', { latitude, longitude, radius_miles: 10, category: 'barbershop' })]),
    ...['bishops-barbershop-tempe', 'tempe-hair-salon', 'mesa-cuts'].map((shop_slug) => curl('/router/delegate', { shop_slug })),
    curl('/router/delegate', { shop_slug: 'no-such-shop-xyz' }),
    ...[{ latitude: 91, longitude: 0 }, { latitude: 0, longitude: -181 }, { latitude: 0, longitude: 0, radius_miles: 0 }, { latitude: 0, longitude: 0, radius_miles: 51 }, { longitude: 0 }].map((b) => curl('/router/search-by-location', b)),
    curl('/router/search-by-location', { latitude: 0, longitude: -140, radius_miles: 5 }),
    curl('/health', null, ['-H', 'Origin: https://chatgpt.com']),
    curl('/health', null, ['-H', 'Origin: https://evil.example']),
    curl('/openapi.yaml'),
    ...Array.from({ length: 20 }, () => curl('/router/search-by-location', { latitude: 33.4255, longitude: -111.94 })),
    ...Array.from({ length: 20 }, () => curl('/router/delegate', { shop_slug: 'tempe-hair-salon' })),
  ];
  return [...db, ...http];
}

export async function run() {
  const dir = freshDir();
  const port = await freePort();
  const server = await startServe(dir, port);
  try {
    const lock = JSON.parse(readFileSync(path.join(dir, '.routergpt', 'local', 'routergpt.lock'), 'utf8'));
    const probes = byHandProbes(port, ['-h', '127.0.0.1', '-p', String(lock.port), '-U', 'postgres', '-d', 'postgres']);
    const env = { PUBLIC_API_BASE: `http://127.0.0.1:${port}` };
    const { verify, byHand, checks } = timeVerifyAndProbes(dir, env, probes, RUNS);
    return verifyResult('verify-local', 'verify --env local < 3 s and ≥ 3× faster than the probes by hand', { verify, byHand, probes: probes.length, checks, minFaster: 3, maxMs: 3000 });
  } finally {
    await stopServe(server);
  }
}

/**
 * `routergpt verify` and the same probes by hand, interleaved `runs` times after one warm-up
 * verify: the milliseconds of each, and how many checks verify ran.
 */
export function timeVerifyAndProbes(dir, env, probes, runs) {
  cli(['verify', '--reporter', 'json'], dir, env); // warm-up
  const verify = [];
  const byHand = [];
  let checks = 0;
  for (let i = 0; i < runs; i += 1) {
    const r = cli(['verify', '--reporter', 'json'], dir, env);
    verify.push(r.ms);
    checks = JSON.parse(r.stdout).checks.length;
    const started = performance.now();
    for (const [cmd, args] of probes) spawnSync(cmd, args, { stdio: 'ignore', env: { ...process.env, PGCONNECT_TIMEOUT: '5' } });
    byHand.push(performance.now() - started);
  }
  return { verify, byHand, checks };
}

const spread = (xs) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;

export function verifyResult(name, target, { verify, byHand, probes, checks, minFaster, maxMs = Infinity }) {
  const v = median(verify);
  const h = median(byHand);
  const where = name === 'verify-pg' ? 'real PostgreSQL' : 'local';
  // Per run: the probes by hand ÷ the verify interleaved with them (how many times faster).
  const faster = verify.map((ms, i) => byHand[i] / ms);
  const figures = [figure(`${name}.faster`, `the same probes by hand ÷ \`verify\`, ${where} (times faster)`, faster, { target: { op: '>=', value: minFaster }, baseline: { label: `${probes} psql/curl processes by hand`, median: h, unit: 'ms' } })];
  if (Number.isFinite(maxMs)) figures.push(figure(`${name}.ms`, `\`verify\` wall time, ${where}`, verify, { unit: 'ms', target: { op: '<', value: maxMs } }));
  return {
    name,
    target,
    runs: verify.length,
    pass: figures.every((f) => f.pass === true),
    figures,
    lines: [
      `by hand: ${probes} psql/curl processes in sequence   median ${fmt(h).padStart(10)} (${spread(byHand)})   ×1.00`,
      `routergpt verify (${checks} checks, concurrency 4)       median ${fmt(v).padStart(10)} (${spread(verify)})   ×${(v / h).toFixed(2)} (${(h / v).toFixed(1)}× faster; target ≥ ${minFaster}×)`,
      `load average (1 min) ${os.loadavg()[0].toFixed(1)} at the end, on ${os.cpus().length} cores`,
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(`${r.name}: ${r.target} (${r.runs} runs) → ${r.pass ? 'PASS' : 'MISS'}`);
  for (const line of r.lines) console.log(`  ${line}`);
}
