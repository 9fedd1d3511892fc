// bench/http: the real server (dist/server/app.js buildApp on the 1M-shop bench database) over
// loopback, against two baselines measured in the same run and the same way: a bare Fastify
// route running the same SQL (`bare`), and a Fastify hello-world (`hello`) — each in its own
// child process (bench/_http-server.mjs).
//
// The load generator is Debian's `wrk` (installed with apt-get when missing), open loop: a Lua
// script (bench/_wrk-pace.lua) sends at a constant arrival rate, evenly spaced over one
// connection per wrk thread, and takes each request's latency from its scheduled send time (no
// coordinated omission; see the script). `/health` throughput is closed loop (plain wrk, as many
// requests as the server answers). For every run: the client's CPU per request (wrk's own user
// + system time), the server process's, and PostgreSQL's (the backends of that server's pool,
// from /proc) — all on the same 2 shared cores.
//
// Targets (issue 16), medians over BENCH_REPEATS repeats (default 3), ratios within a repeat:
//   - search at 500 req/s (varied bodies): p99 ≤ 10 ms, no errors / non-2xx
//   - search: app ÷ bare same-SQL route, p99 ≤ ×1.15 and CPU per request ≤ ×1.15
//   - GET /health throughput: ≥ ×1.0 the bare `SELECT 1` route, ≥ ×0.55 hello-world
//   - idle RSS of the app ÷ the bare same-SQL route ≤ ×1.4
//   - delegate at 200 req/s: p99 ≤ 15 ms (reported; no same-SQL baseline)
import { fork, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ensureBenchDb } from './_bench-db.mjs';
import { figure, median, percentile } from './lib.mjs';
import { queryMix } from './search-db.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 30);
const HEALTH_DURATION = Number(process.env.BENCH_HEALTH_DURATION ?? 10);
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3));
// BENCH_SEARCH_RATE: another arrival rate for search (the target is judged at 500/s).
const SEARCH_RATE = Number(process.env.BENCH_SEARCH_RATE ?? 500);
const DELEGATE_RATE = 200;
// One connection per wrk thread (the pacing script needs it): 25, each sending every 50 ms at 500/s.
const PACED_CONNECTIONS = 25;
const HEALTH_CONNECTIONS = 20;
const HEALTH_THREADS = 2;
const SERVER = path.join(import.meta.dirname, '_http-server.mjs');
const PACE = path.join(import.meta.dirname, '_wrk-pace.lua');
const TICK_US = 1e6 / 100; // /proc/<pid>/stat times are in clock ticks (USER_HZ = 100 on Linux)
const TARGET = { p99: 10, vsBareP99: 1.15, vsBareCpu: 1.15, healthVsBare: 1.0, healthVsHello: 0.55, rss: 1.4, delegateP99: 15 };

/** wrk on PATH, installing Debian's package when it is missing. */
function ensureWrk() {
  const has = () => spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status === 0;
  if (has()) return;
  process.stderr.write('wrk is missing: apt-get update && apt-get install -y wrk\n');
  spawnSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq wrk'], { stdio: ['ignore', 2, 2] });
  if (!has()) throw new Error('wrk is not installed and apt-get could not install it → apt-get install -y wrk');
}

async function startServer(mode, databaseUrl) {
  const child = fork(SERVER, [mode, databaseUrl ?? ''], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [message] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`bench server (${mode}) exited ${code} before listening`);
    }),
  ]);
  return {
    mode,
    url: message.url,
    pid: message.pid,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}

/** utime + stime of a process, in µs (0 when it is gone). */
function cpuUs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return 0;
  }
}

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU of the PostgreSQL backends serving `applicationName`, in µs, by pid. */
async function pgCpu(admin, applicationName) {
  const { rows } = await admin.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  return new Map(rows.map((r) => [r.pid, cpuUs(r.pid)]));
}
function pgDelta(before, after) {
  let sum = 0;
  for (const [pid, us] of after) sum += us - (before.get(pid) ?? 0);
  return sum;
}

/**
 * One wrk run: paced at `rate` (open loop, one connection per thread) or, with rate 0, closed
 * loop. Returns latencies (ms), counts, and the client's CPU (µs) from bash's `times`.
 */
async function wrk({ url, rate, connections, threads, duration, bodiesFile }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rgpt-wrk-'));
  const out = path.join(dir, 'samples');
  try {
    const args = [`-t${threads}`, `-c${connections}`, `-d${duration}s`, '--timeout', '10s', '-s', PACE, url];
    // bash's `times` prints the children's user and system CPU: wrk's own cost.
    const child = spawn('bash', ['-c', `wrk ${args.map((a) => `'${a}'`).join(' ')} >/dev/null && times`], {
      env: { ...process.env, WRK_RATE: String(rate), WRK_CONNECTIONS: String(connections), WRK_BODIES: bodiesFile ?? '', WRK_OUT: out },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const [code] = await once(child, 'exit');
    if (code !== 0) throw new Error(`wrk exited ${code}`);
    const toSec = (s) => {
      const m = /(\d+)m([\d.]+)s/.exec(s);
      return Number(m[1]) * 60 + Number(m[2]);
    };
    const [, childTimes] = stdout.trim().split('\n');
    const [cu, cs] = childTimes.trim().split(/\s+/);
    const clientCpuUs = (toSec(cu) + toSec(cs)) * 1e6;
    const [head, ...lines] = readFileSync(out, 'utf8').trim().split('\n');
    const counters = Object.fromEntries(head.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
    const open = [];
    const strict = [];
    const sent = [];
    const late = [];
    let non2xx = 0;
    for (const line of lines) {
      const [o, s, d, l, status] = line.split(' ').map(Number);
      open.push(o / 1000);
      strict.push(s / 1000);
      sent.push(d / 1000);
      if (l < 1e11) late.push(l / 1000);
      if (status < 200 || status > 299) non2xx += 1;
    }
    const errors = counters.connect + counters.read + counters.write + counters.timeout;
    return { responses: open.length, rps: open.length / (counters.duration_us / 1e6), open, strict, sent, late, non2xx, errors, clientCpuUs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A run against `server` with CPU accounting for the client, the server and its PostgreSQL backends. */
async function measured(admin, server, options) {
  const app = `routergpt bench http ${server.mode}`;
  const pgBefore = await pgCpu(admin, app);
  const serverBefore = cpuUs(server.pid);
  const r = await wrk({ ...options, url: `${server.url}${options.path}` });
  const serverUs = cpuUs(server.pid) - serverBefore;
  const pgUs = pgDelta(pgBefore, await pgCpu(admin, app));
  const n = Math.max(1, r.responses);
  return {
    ...r,
    p50: median(r.open),
    p99: percentile(r.open, 99),
    max: r.open.reduce((a, b) => (b > a ? b : a), 0),
    strictP99: percentile(r.strict, 99),
    sentP99: percentile(r.sent, 99),
    lateP50: r.late.length ? median(r.late) : NaN,
    lateP99: r.late.length ? percentile(r.late, 99) : NaN,
    cpu: { client: r.clientCpuUs / n, server: serverUs / n, pg: pgUs / n },
  };
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
/** "median (min–max)" over repeats. */
const spread = (xs, f = f1) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
const good = (r) => r.errors === 0 && r.non2xx === 0;

export async function run() {
  ensureWrk();
  const databaseUrl = await ensureBenchDb();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rgpt-bench-http-'));
  const searchBodies = path.join(tmp, 'search.jsonl');
  const delegateBodies = path.join(tmp, 'delegate.jsonl');
  writeFileSync(searchBodies, queryMix(2000, 11).map((q) => JSON.stringify({ latitude: q.latitude, longitude: q.longitude, radius_miles: q.radiusMiles, ...(q.category ? { category: q.category } : {}), limit: q.limit })).join('\n'));
  writeFileSync(delegateBodies, Array.from({ length: 5000 }, (_, k) => JSON.stringify({ shop_slug: `bench-${k + 1}`, ...(k % 2 ? { intent: 'a haircut tomorrow afternoon' } : {}) })).join('\n'));
  const admin = new pg.Client({ connectionString: databaseUrl, application_name: 'routergpt bench http admin' });
  await admin.connect();
  const servers = {};
  const rss = {};
  const loads = [];
  const reps = [];
  try {
    for (const mode of ['app', 'bare', 'hello']) {
      servers[mode] = await startServer(mode, databaseUrl);
      await new Promise((r) => setTimeout(r, 500));
      rss[mode] = rssMb(servers[mode].pid);
    }
    const search = { path: '/router/search-by-location', rate: SEARCH_RATE, connections: PACED_CONNECTIONS, threads: PACED_CONNECTIONS, bodiesFile: searchBodies };
    const health = { path: '/health', rate: 0, connections: HEALTH_CONNECTIONS, threads: HEALTH_THREADS };
    // Warm-up: plans, pool connections, JIT of the JS.
    for (const mode of ['app', 'bare', 'hello']) await measured(admin, servers[mode], { ...search, rate: 300, duration: 3 });
    await measured(admin, servers.app, { path: '/router/delegate', rate: 100, connections: 20, threads: 20, duration: 2, bodiesFile: delegateBodies });
    for (let rep = 0; rep < REPEATS; rep += 1) {
      loads.push(os.loadavg()[0]);
      // Rotate the order, so that no server always runs first (or last) in a repeat.
      const order = ['app', 'bare', 'hello'].map((_, i, a) => a[(i + rep) % a.length]);
      const r = { search: {}, health: {} };
      for (const mode of order) r.search[mode] = await measured(admin, servers[mode], { ...search, duration: DURATION });
      r.delegate = await measured(admin, servers.app, { path: '/router/delegate', rate: DELEGATE_RATE, connections: 20, threads: 20, duration: DURATION, bodiesFile: delegateBodies });
      for (const mode of order) r.health[mode] = await measured(admin, servers[mode], { ...health, duration: HEALTH_DURATION });
      reps.push(r);
      process.stderr.write(`http: repeat ${rep + 1}/${REPEATS}: search p99 app ${f1(r.search.app.p99)} / bare ${f1(r.search.bare.p99)} / hello ${f1(r.search.hello.p99)} ms; /health ${r.health.app.rps.toFixed(0)} / ${r.health.bare.rps.toFixed(0)} / ${r.health.hello.rps.toFixed(0)} req/s\n`);
    }
    rss.appAfter = rssMb(servers.app.pid);
    rss.bareAfter = rssMb(servers.bare.pid);
  } finally {
    for (const s of Object.values(servers)) await s.stop();
    await admin.end();
    rmSync(tmp, { recursive: true, force: true });
  }

  const col = (fn) => reps.map(fn);
  const s = (mode) => (fn) => col((r) => fn(r.search[mode]));
  const p99 = s('app')((x) => x.p99);
  const vsBareP99 = col((r) => r.search.app.p99 / r.search.bare.p99);
  const vsHelloP99 = col((r) => r.search.app.p99 / r.search.hello.p99);
  const cpuTotal = (x) => x.cpu.server + x.cpu.pg;
  const vsBareCpu = col((r) => r.search.app.cpu.server / r.search.bare.cpu.server);
  const vsBareCpuTotal = col((r) => cpuTotal(r.search.app) / cpuTotal(r.search.bare));
  const healthVsBare = col((r) => r.health.app.rps / r.health.bare.rps);
  const healthVsHello = col((r) => r.health.app.rps / r.health.hello.rps);
  const rssRatio = rss.app / rss.bare;
  const allGood = reps.every((r) => [...Object.values(r.search), ...Object.values(r.health), r.delegate].every(good));
  const pass =
    allGood &&
    median(p99) <= TARGET.p99 &&
    median(vsBareP99) <= TARGET.vsBareP99 &&
    median(vsBareCpu) <= TARGET.vsBareCpu &&
    median(healthVsBare) >= TARGET.healthVsBare &&
    median(healthVsHello) >= TARGET.healthVsHello &&
    rssRatio <= TARGET.rss &&
    median(col((r) => r.delegate.p99)) <= TARGET.delegateP99;

  const searchRow = (mode, label) => {
    const g = s(mode);
    return `  ${label.padEnd(22)} p50 ${spread(g((x) => x.p50))}  p99 ${spread(g((x) => x.p99))}  max ${spread(g((x) => x.max))} ms; strict p99 ${spread(g((x) => x.strictP99))}; ${spread(g((x) => x.rps), (v) => v.toFixed(0))} req/s; CPU µs/req server ${spread(g((x) => x.cpu.server), (v) => v.toFixed(0))}, PostgreSQL ${spread(g((x) => x.cpu.pg), (v) => v.toFixed(0))}, client ${spread(g((x) => x.cpu.client), (v) => v.toFixed(0))}`;
  };
  const healthRow = (mode, label) => {
    const g = (fn) => col((r) => fn(r.health[mode]));
    return `  ${label.padEnd(22)} ${spread(g((x) => x.rps), (v) => v.toFixed(0))} req/s; p99 ${spread(g((x) => x.sentP99))} ms; CPU µs/req server ${spread(g((x) => x.cpu.server), (v) => v.toFixed(0))}, PostgreSQL ${spread(g((x) => x.cpu.pg), (v) => v.toFixed(0))}, client ${spread(g((x) => x.cpu.client), (v) => v.toFixed(0))}`;
  };
  const mark = (ok) => (ok ? 'PASS' : 'MISS');
  const lateP99 = reps.flatMap((r) => Object.values(r.search).map((x) => x.lateP99));
  const lateP50 = reps.flatMap((r) => Object.values(r.search).map((x) => x.lateP50));
  const lines = [
    `wrk (open loop, ${PACED_CONNECTIONS} paced connections), the 3 servers (child processes) and PostgreSQL 15 share 2 cores; ${REPEATS} repeats, figures "median (min–max)" over repeats; load average (1 min) at each repeat: ${loads.map((l) => l.toFixed(1)).join(', ')}`,
    `generator's own lateness on idle connections (send − schedule): p50 ${f2(median(lateP50))} ms, p99 ${spread(lateP99)} ms — "strict" charges it to the server too`,
    `search @${SEARCH_RATE} req/s × ${DURATION} s, varied bodies, latency from the scheduled send:`,
    searchRow('app', 'serve (buildApp)'),
    searchRow('bare', 'bare route, same SQL'),
    searchRow('hello', 'hello-world'),
    `  p99 ≤ ${TARGET.p99} ms: ${spread(p99)} ms ${mark(median(p99) <= TARGET.p99)}; serve ÷ bare p99 ×${spread(vsBareP99, f2)} (target ≤ ×${TARGET.vsBareP99}) ${mark(median(vsBareP99) <= TARGET.vsBareP99)}; ÷ hello-world p99 ×${spread(vsHelloP99, f2)}`,
    `  serve ÷ bare CPU per request: server ×${spread(vsBareCpu, f2)} (target ≤ ×${TARGET.vsBareCpu}) ${mark(median(vsBareCpu) <= TARGET.vsBareCpu)}; server + PostgreSQL ×${spread(vsBareCpuTotal, f2)}`,
    `delegate @${DELEGATE_RATE} req/s × ${DURATION} s (serve): p50 ${spread(col((r) => r.delegate.p50))} p99 ${spread(col((r) => r.delegate.p99))} ms (target ≤ ${TARGET.delegateP99}) ${mark(median(col((r) => r.delegate.p99)) <= TARGET.delegateP99)}; CPU µs/req server ${spread(col((r) => r.delegate.cpu.server), (v) => v.toFixed(0))}, PostgreSQL ${spread(col((r) => r.delegate.cpu.pg), (v) => v.toFixed(0))}`,
    `GET /health, closed loop, ${HEALTH_CONNECTIONS} connections × ${HEALTH_DURATION} s:`,
    healthRow('app', 'serve (buildApp)'),
    healthRow('bare', 'bare route, SELECT 1'),
    healthRow('hello', 'hello-world'),
    `  /health throughput ÷ bare ×${spread(healthVsBare, f2)} (target ≥ ×${TARGET.healthVsBare}) ${mark(median(healthVsBare) >= TARGET.healthVsBare)}; ÷ hello-world ×${spread(healthVsHello, f2)} (target ≥ ×${TARGET.healthVsHello}) ${mark(median(healthVsHello) >= TARGET.healthVsHello)}`,
    `idle RSS: serve ${f1(rss.app)} MB, bare ${f1(rss.bare)} MB, hello ${f1(rss.hello)} MB → serve ÷ bare ×${f2(rssRatio)} (target ≤ ×${TARGET.rss}) ${mark(rssRatio <= TARGET.rss)}; after the runs ${f1(rss.appAfter)} / ${f1(rss.bareAfter)} MB`,
    `errors / non-2xx in any run: ${allGood ? 'none' : reps.map((r) => [...Object.entries(r.search), ['delegate', r.delegate], ...Object.entries(r.health).map(([k, v]) => [`health ${k}`, v])].filter(([, v]) => !good(v)).map(([k, v]) => `${k} ${v.errors}/${v.non2xx}`).join(', ')).join('; ')}`,
  ];
  const le = (value) => ({ op: '<=', value });
  const ge = (value) => ({ op: '>=', value });
  const appCpu = s('app')((x) => x.cpu.server);
  const figures = [
    figure('http.search-p99', `HTTP search @${SEARCH_RATE}/s open loop: p99`, p99, { unit: 'ms', target: le(TARGET.p99) }),
    figure('http.search-p99-vs-bare', 'HTTP search p99, serve ÷ bare same-SQL route', vsBareP99, { target: le(TARGET.vsBareP99), baseline: { label: 'bare route p99', median: median(s('bare')((x) => x.p99)), unit: 'ms' } }),
    figure('http.search-cpu-vs-bare', 'HTTP search CPU per request, serve ÷ bare same-SQL route', vsBareCpu, { target: le(TARGET.vsBareCpu), baseline: { label: `bare route (serve ${Math.round(median(appCpu))} µs)`, median: median(s('bare')((x) => x.cpu.server)), unit: 'µs' } }),
    figure('http.search-p99-vs-hello', 'HTTP search p99, serve ÷ hello-world', vsHelloP99, { baseline: { label: 'hello-world p99', median: median(s('hello')((x) => x.p99)), unit: 'ms' } }),
    figure('http.health-vs-bare', '`/health` throughput ÷ bare `SELECT 1` route', healthVsBare, { target: ge(TARGET.healthVsBare), baseline: { label: 'bare route', median: median(col((r) => r.health.bare.rps)), unit: 'req/s' } }),
    figure('http.health-vs-hello', '`/health` throughput ÷ hello-world', healthVsHello, { target: ge(TARGET.healthVsHello), baseline: { label: 'hello-world', median: median(col((r) => r.health.hello.rps)), unit: 'req/s' } }),
    figure('http.idle-rss', 'idle RSS of `serve` ÷ bare same-SQL route', [rssRatio], { target: le(TARGET.rss), baseline: { label: 'bare route', median: rss.bare, unit: 'MB' }, note: 'once per run, before the load' }),
    figure('http.delegate-p99', `HTTP delegate @${DELEGATE_RATE}/s: p99`, col((r) => r.delegate.p99), { unit: 'ms', target: le(TARGET.delegateP99) }),
  ];
  return {
    name: 'http',
    figures,
    target: `search p99 ≤ ${TARGET.p99} ms @${SEARCH_RATE}/s and ≤ ×${TARGET.vsBareP99} a bare same-SQL route (CPU ≤ ×${TARGET.vsBareCpu}); /health ≥ ×${TARGET.healthVsBare} bare, ≥ ×${TARGET.healthVsHello} hello-world; idle RSS ≤ ×${TARGET.rss}; delegate p99 ≤ ${TARGET.delegateP99} ms @${DELEGATE_RATE}/s`,
    runs: REPEATS,
    pass,
    lines,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run();
  console.log(`${result.name}: ${result.target} (${result.runs} runs) → ${result.pass ? 'PASS' : 'MISS'}`);
  for (const line of result.lines) console.log(`  ${line}`);
}
