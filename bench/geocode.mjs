// bench/geocode: `routergpt geocode` (the real CLI from dist/) on a throwaway database
// `routergpt_bench_geocode` of BENCH_GEOCODE_SHOPS shops (default 10,000) without coordinates.
//
// 1. Google: a loopback server speaking Google's JSON, answering each request after 20 ms. The
//    run is SIGKILLed once half the shops were answered (later requests held, never answered),
//    then `geocode --resume` finishes it. Reported: the resumed run's provider rate (answers on
//    the server's clock) against the configured geocoding.google.qps (BENCH_QPS, default 100) —
//    the bound — and against the client alone (createGoogleGeocoder from dist/, no database, the
//    same concurrency, same server, same run); the calls repeated after the kill (distinct
//    addresses vs answers). Target: ≥ 90 % of qps, 0 repeated.
// 2. Nominatim: `geocode --dry-run --provider nominatim --limit 60` against a loopback Nominatim
//    answering at once: the measured rate against the policy's 1 request/s, and the most requests
//    in any 1 s window on the server's clock. Target: 1.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { figure } from './lib.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'routergpt.js');
const NAME = 'routergpt_bench_geocode';
const SHOPS = Number(process.env.BENCH_GEOCODE_SHOPS ?? 10_000);
const QPS = Number(process.env.BENCH_QPS ?? 100);
const ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const KEY = 'AIzaSyBENCH-not-a-real-key-000000000000'; // routergpt:allow-secret (a loopback fixture)

function dbUrl() {
  const u = new URL(ADMIN);
  u.pathname = `/${NAME}`;
  return u.toString();
}

async function admin(sql) {
  const c = new pg.Client({ connectionString: ADMIN });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A loopback server; `answer(req, url)` returns [status, body] or null (hold the request). */
async function loopback(answer) {
  const times = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const got = answer(url);
    if (!got) return;
    const [delay, body] = got;
    const send = () => {
      times.push(performance.timeOrigin + performance.now());
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (delay) setTimeout(send, delay);
    else send();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, times, close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections(); }) };
}

function cli(args, env, dir) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', () => {});
  const done = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, done };
}

function googleBody(n) {
  return { status: 'OK', results: [{ formatted_address: 'Somewhere, USA', geometry: { location: { lat: 33 + (n % 1000) / 1000, lng: -112 - (n % 997) / 1000 }, location_type: 'ROOFTOP' }, place_id: `p${n}`, types: ['street_address'], address_components: [{ short_name: '85004', long_name: '85004', types: ['postal_code'] }, { short_name: 'AZ', long_name: 'Arizona', types: ['administrative_area_level_1'] }] }] };
}

function rate(times) {
  const t = [...times].sort((a, b) => a - b);
  return t.length < 2 ? 0 : ((t.length - 1) * 1000) / (t.at(-1) - t[0]);
}

function maxInWindow(times, ms) {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i] - t[j] >= ms) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

export async function run() {
  await admin(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${NAME}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'routergpt-bench-geocode-'));
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), ['version: 1', 'environments:', '  staging:', '    database: { url_env: DATABASE_URL }', '    geocoding:', '      provider: google', `      google: { qps: ${QPS} }`, ''].join('\n'));
  const lines = [];
  try {
    // --- Google ----------------------------------------------------------------------------
    const answered = [];
    let holdAfter = Math.floor(SHOPS / 2);
    let onHold;
    const google = await loopback((url) => {
      if (holdAfter !== undefined && answered.length >= holdAfter) {
        onHold?.();
        return null;
      }
      answered.push(url.searchParams.get('address'));
      return [20, googleBody(answered.length)];
    });
    const env = { DATABASE_URL: dbUrl(), ROUTERGPT_ENV: 'staging', GOOGLE_MAPS_API_KEY: KEY, GOOGLE_GEOCODING_URL: `http://127.0.0.1:${google.port}/maps/api/geocode/json`, NOMINATIM_URL: 'http://127.0.0.1:9' };
    const mig = spawnSync(process.execPath, [BIN, 'migrate', 'up'], { cwd: dir, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
    if (mig.status !== 0) throw new Error(`migrate up: ${mig.stderr}`);
    const c = new pg.Client({ connectionString: dbUrl() });
    await c.connect();
    await c.query(`INSERT INTO shops (slug, name, category, address, city, state, postal_code)
                   SELECT 'bench-' || g, 'Bench ' || g, 'barbershop', g || ' E Van Buren St', 'Phoenix', 'AZ', '85004' FROM generate_series(1, $1) g`, [SHOPS]);

    // Baseline in the same run: the client alone (no database), same server, same qps and concurrency.
    const { createGoogleGeocoder } = await import(path.join(ROOT, 'dist', 'geocode', 'google.js'));
    const alone = createGoogleGeocoder({ apiKey: KEY, baseUrl: env.GOOGLE_GEOCODING_URL, qps: QPS });
    const baselineStart = google.times.length;
    holdAfter = undefined;
    const n = Math.min(1000, SHOPS);
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < n) {
        const i = next++;
        await alone.geocode({ address: `${i} Baseline Rd`, city: 'Phoenix', state: 'AZ' });
      }
    }));
    const baselineRate = rate(google.times.slice(baselineStart));
    answered.length = 0;
    const startOfRuns = google.times.length;
    holdAfter = Math.floor(SHOPS / 2);

    const first = cli(['geocode', '--yes', '--no-backup', '--batch', '100'], env, dir);
    // Killed once every answer sent has reached the cache ("after N calls"): an answer still in
    // flight when a process dies is the one call a rerun may repeat, and is not what is measured.
    onHold = () => {
      onHold = undefined;
      void (async () => {
        for (let i = 0; i < 400; i++) {
          const { rows } = await c.query(`SELECT count(*)::int AS n FROM geocoding_cache WHERE provider = 'google' AND query_normalized NOT LIKE '%baseline%'`);
          if (rows[0].n >= answered.length) break;
          await new Promise((r) => setTimeout(r, 25));
        }
        first.child.kill('SIGKILL');
      })();
    };
    const r1 = await first.done;
    if (r1.signal !== 'SIGKILL') throw new Error(`the first run was not killed: ${r1.code} ${r1.stderr.slice(-500)}`);
    const killedAt = answered.length;
    const written1 = (await c.query('SELECT count(*)::int AS n FROM shops WHERE latitude IS NOT NULL')).rows[0].n;
    holdAfter = undefined;
    const resumeStart = google.times.length;
    const t0 = performance.now();
    const second = cli(['geocode', '--yes', '--resume'], env, dir);
    const r2 = await second.done;
    const wallS = (performance.now() - t0) / 1000;
    if (r2.code !== 0) throw new Error(`the resumed run failed: ${r2.stderr.slice(-800)}`);
    const written = (await c.query('SELECT count(*)::int AS n FROM shops WHERE latitude IS NOT NULL')).rows[0].n;
    await c.end();
    await google.close();
    const resumedRate = rate(google.times.slice(resumeStart));
    const repeated = answered.length - new Set(answered).size;
    const shopsPerS = (SHOPS - written1) / wallS;
    const googlePass = resumedRate >= 0.9 * QPS && repeated === 0 && written === SHOPS;
    lines.push(
      `google: ${SHOPS.toLocaleString('en-US')} shops, loopback answering in 20 ms, qps ${QPS}; killed after ${killedAt.toLocaleString('en-US')} answers (${written1.toLocaleString('en-US')} shops written), resumed to the end: ${written.toLocaleString('en-US')} written`,
      `google: resumed run's provider rate ${resumedRate.toFixed(1)}/s = ${(100 * resumedRate / QPS).toFixed(1)} % of qps ${QPS} (the bound); the client alone ${baselineRate.toFixed(1)}/s (×${(resumedRate / baselineRate).toFixed(2)} of it)`,
      `google: resumed run wall time ${wallS.toFixed(1)} s for ${(SHOPS - written1).toLocaleString('en-US')} shops = ${shopsPerS.toFixed(1)} shops/s (process start, plan and journal included) = ${(100 * shopsPerS / QPS).toFixed(1)} % of qps`,
      `google: answers ${answered.length.toLocaleString('en-US')} for ${new Set(answered).size.toLocaleString('en-US')} distinct addresses: ${repeated} repeated after the kill (target 0); all runs ${google.times.length - startOfRuns} answers`,
    );

    // --- Nominatim ---------------------------------------------------------------------------
    const nominatim = await loopback(() => [0, [{ place_id: 1, lat: '33.45', lon: '-112.07', place_rank: 30, addresstype: 'house', display_name: '1 Main St, Phoenix', address: { postcode: '85004', state: 'Arizona', 'ISO3166-2-lvl4': 'US-AZ' } }]]);
    const nEnv = { ...env, NOMINATIM_URL: `http://127.0.0.1:${nominatim.port}` };
    const c2 = new pg.Client({ connectionString: dbUrl() });
    await c2.connect();
    await c2.query(`UPDATE shops SET latitude = NULL, longitude = NULL WHERE id IN (SELECT id FROM shops ORDER BY id LIMIT 60)`);
    await c2.end();
    // Spawned, not spawnSync: the loopback server answers from this process's event loop.
    const nr = await cli(['geocode', '--dry-run', '--provider', 'nominatim', '--limit', '60'], nEnv, dir).done;
    await nominatim.close();
    if (nr.code !== 0) throw new Error(`nominatim dry run: ${nr.stderr}`);
    const nRate = rate(nominatim.times);
    const worst = maxInWindow(nominatim.times, 1000);
    const nominatimPass = nominatim.times.length === 60 && worst <= 1;
    lines.push(`nominatim: ${nominatim.times.length} requests at ${nRate.toFixed(3)}/s (×${nRate.toFixed(3)} of the policy's 1/s); most in any 1 s window: ${worst} (target 1)`);
    const figures = [
      figure('geocode.google-rate', 'geocode, Google: the resumed run\'s rate ÷ `geocoding.google.qps`', [resumedRate / QPS], { target: { op: '>=', value: 0.9 }, baseline: { label: `geocoding.google.qps (the client alone: ${baselineRate.toFixed(1)}/s)`, median: QPS, unit: 'req/s' }, note: 'one resumed run' }),
      figure('geocode.google-repeated', 'geocode, Google: calls repeated after a kill', [repeated], { unit: '', target: { op: '<=', value: 0 }, note: `of ${answered.length} answers` }),
      figure('geocode.nominatim-window', 'geocode, Nominatim: most requests in any 1 s window', [worst], { unit: '', target: { op: '<=', value: 1 }, note: `${nominatim.times.length} requests` }),
    ];
    return { name: 'geocode', target: 'Google ≥ 90 % of qps, 0 calls repeated after a kill; Nominatim ≤ 1 request in any 1 s window', pass: googlePass && nominatimPass, figures, lines };
  } finally {
    if (!process.env.BENCH_KEEP) await admin(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
  }
}
