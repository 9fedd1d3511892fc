// A server for bench/http.mjs, in its own process so that the load generator, the server and
// its baselines each have their own CPU accounting:
//   app   = the real buildApp() from dist/ on the bench database (rate limits raised, logs at
//           info to /dev/null through serve's own destination, createLogDestination: batched,
//           asynchronous — as a production server writes them);
//   bare  = a bare Fastify app with the SAME SQL: POST /router/search-by-location runs the real
//           searchShops() with the same shop-density grid (named statements on PostgreSQL) and
//           returns its rows; GET /health
//           runs one `SELECT 1` — no schema, hooks, headers, rate limits or logs;
//   hello = a bare Fastify hello-world: GET /health and POST /router/search-by-location answer
//           a constant (the body is parsed, nothing else).
// Sends {url, pid} over IPC once listening; closes gracefully on SIGTERM.
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';

const ROOT = path.resolve(import.meta.dirname, '..');
const [mode, databaseUrl] = process.argv.slice(2);
// The most the configuration accepts (per minute): far above any rate this benchmark sends.
const RAISED = String(1_000_000);

let app;
let pool;
if (mode === 'hello') {
  app = Fastify({ logger: false });
  app.get('/health', async () => ({ ok: true }));
  app.post('/router/search-by-location', async () => ({ results: [] }));
} else if (mode === 'bare') {
  const { createPool } = await import(path.join(ROOT, 'dist/db/pool.js'));
  const { searchShops } = await import(path.join(ROOT, 'dist/server/search/search-shops.js'));
  const { loadDensityGrid } = await import(path.join(ROOT, 'dist/db/search/density.js'));
  pool = createPool({ connectionString: databaseUrl, max: 10, applicationName: 'routergpt bench http bare' });
  // The same SQL as serve's: the first ring sized by the same shop-density grid.
  const grid = await loadDensityGrid(pool);
  app = Fastify({ logger: false });
  app.get('/health', async () => {
    await pool.query('SELECT 1');
    return { ok: true };
  });
  app.post('/router/search-by-location', async (request) => {
    const b = request.body;
    const results = await searchShops(pool, { latitude: b.latitude, longitude: b.longitude, radiusMiles: b.radius_miles, category: b.category, limit: b.limit ?? 20 }, grid);
    return { results };
  });
} else {
  const { loadConfig } = await import(path.join(ROOT, 'dist/config/resolve.js'));
  const { createPool } = await import(path.join(ROOT, 'dist/db/pool.js'));
  const { buildApp } = await import(path.join(ROOT, 'dist/server/app.js'));
  const { createLogDestination } = await import(path.join(ROOT, 'dist/server/logger.js'));
  const { config } = loadConfig({
    flags: { env: 'prod' },
    cwd: os.tmpdir(),
    env: { DATABASE_URL: databaseUrl, RATE_LIMIT_SEARCH_PER_MIN: RAISED, RATE_LIMIT_DELEGATE_PER_MIN: RAISED },
  });
  pool = createPool({ connectionString: databaseUrl, max: 10, applicationName: 'routergpt bench http app' });
  app = await buildApp({
    pool,
    config,
    logger: { level: process.env.BENCH_LOG_LEVEL ?? 'info', destination: createLogDestination('/dev/null') },
    // The shared fallback policy (/health, 404s) too, so the /health run is never 429'd.
    rateLimit: { fallbackPerMinute: 1_000_000_000 },
  });
  // As a server that has served its first search: the shop-density grid has been read (in
  // production the first search starts the read in the background; here it is awaited so that
  // every measured request runs with it, like the bare route's).
  await app.rgpt.density.refresh();
}
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ url, pid: process.pid });
process.on('SIGTERM', async () => {
  await app.close();
  await pool?.end();
  process.disconnect?.();
});
