// bench/http: the real server (dist/server/app.js buildApp on the 1M-shop bench database) over
// loopback, driven by autocannon's programmatic API from this process; the server runs in a
// child process. NOTE: autocannon, the server and PostgreSQL share the machine's 2 cores.
// Targets:
//   - search at a fixed 500 req/s for 30 s (BENCH_DURATION), varied bodies: p99 ≤ 25 ms, no errors/non-2xx
//   - delegate at a fixed 200 req/s: p99 ≤ 15 ms, no errors/non-2xx
//   - GET /health max throughput ≥ 0.7 × a bare Fastify hello-world measured in the same run
//     (same autocannon settings, also in a child process)
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import autocannon from 'autocannon';
import { ensureBenchDb } from './_bench-db.mjs';
import { queryMix } from './search-db.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 30);
const HEALTH_DURATION = Number(process.env.BENCH_HEALTH_DURATION ?? 10);
const HEALTH_CONNECTIONS = 20;
const SERVER = path.join(import.meta.dirname, '_http-server.mjs');

async function startServer(mode, databaseUrl) {
  const child = fork(SERVER, [mode, databaseUrl ?? ''], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [message] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`bench server (${mode}) exited ${code} before listening`);
    }),
  ]);
  return {
    url: message.url,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}

function cannon(options) {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** A request list whose body changes on every request (setupRequest), cycling through `bodies`. */
function variedPost(pathName, bodies) {
  let i = 0;
  return [
    {
      method: 'POST',
      path: pathName,
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => {
        const body = bodies[i % bodies.length];
        i += 1;
        return { ...request, body: JSON.stringify(body) };
      },
    },
  ];
}

const good = (r) => r.errors === 0 && r.timeouts === 0 && r.non2xx === 0;
const summary = (r) => `${r.requests.total} req, ${r.requests.average.toFixed(0)} req/s; p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms; errors ${r.errors}, timeouts ${r.timeouts}, non-2xx ${r.non2xx}`;

export async function run() {
  const databaseUrl = await ensureBenchDb();
  const bodies = queryMix(2000, 11).map((q) => ({ latitude: q.latitude, longitude: q.longitude, radius_miles: q.radiusMiles, ...(q.category ? { category: q.category } : {}), limit: q.limit }));
  const slugs = Array.from({ length: 5000 }, (_, k) => ({ shop_slug: `bench-${k + 1}`, intent: k % 2 ? 'a haircut tomorrow afternoon' : undefined }));

  const lines = [`2 shared cores: autocannon, the server (child process) and PostgreSQL 15 all run on them`];
  let pass = true;
  const app = await startServer('app', databaseUrl);
  let search;
  let delegate;
  let health;
  try {
    // Warm-up: plans, pool connections, JIT of the JS.
    await cannon({ url: app.url, connections: 10, duration: 3, requests: variedPost('/router/search-by-location', bodies) });
    search = await cannon({ url: app.url, connections: 20, overallRate: 500, duration: DURATION, requests: variedPost('/router/search-by-location', bodies) });
    delegate = await cannon({ url: app.url, connections: 10, overallRate: 200, duration: DURATION, requests: variedPost('/router/delegate', slugs) });
    health = await cannon({ url: `${app.url}/health`, connections: HEALTH_CONNECTIONS, duration: HEALTH_DURATION });
  } finally {
    await app.stop();
  }
  const hello = await startServer('hello');
  let base;
  try {
    await cannon({ url: `${hello.url}/health`, connections: HEALTH_CONNECTIONS, duration: 2 });
    base = await cannon({ url: `${hello.url}/health`, connections: HEALTH_CONNECTIONS, duration: HEALTH_DURATION });
  } finally {
    await hello.stop();
  }

  const searchOk = good(search) && search.latency.p99 <= 25;
  const delegateOk = good(delegate) && delegate.latency.p99 <= 15;
  const ratio = health.requests.average / base.requests.average;
  const healthOk = good(health) && ratio >= 0.7;
  pass = searchOk && delegateOk && healthOk;
  lines.push(
    `search   @500 req/s × ${DURATION} s (p99 ≤ 25 ms) ${searchOk ? 'PASS' : 'MISS'}: ${summary(search)}`,
    `delegate @200 req/s × ${DURATION} s (p99 ≤ 15 ms) ${delegateOk ? 'PASS' : 'MISS'}: ${summary(delegate)}`,
    `GET /health, ${HEALTH_CONNECTIONS} connections × ${HEALTH_DURATION} s: ${summary(health)}`,
    `bare Fastify hello-world (baseline), same settings: ${summary(base)}`,
    `/health ÷ hello-world throughput: ×${ratio.toFixed(2)} (target ≥ 0.7) ${healthOk ? 'PASS' : 'MISS'}`,
  );
  return { name: 'http', target: 'search p99 ≤ 25 ms @500 rps, delegate p99 ≤ 15 ms @200 rps, /health ≥ 0.7× hello-world', pass, lines };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run();
  console.log(`${result.name}: ${result.target} → ${result.pass ? 'PASS' : 'MISS'}`);
  for (const line of result.lines) console.log(`  ${line}`);
}
