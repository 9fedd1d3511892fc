// A server for bench/http.mjs, in its own process so autocannon does not share its event loop:
// `app` = the real buildApp() from dist/ on the bench database (rate limits raised, logs at
// info to /dev/null, as a production server writes them); `hello` = a bare Fastify hello-world.
// Sends {url} over IPC once listening; closes gracefully on SIGTERM.
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { pino } from 'pino';

const ROOT = path.resolve(import.meta.dirname, '..');
const [mode, databaseUrl] = process.argv.slice(2);
const RAISED = String(1_000_000_000);

let app;
let pool;
if (mode === 'hello') {
  app = Fastify({ logger: false });
  app.get('/health', async () => ({ ok: true }));
} else {
  const { loadConfig } = await import(path.join(ROOT, 'dist/config/resolve.js'));
  const { createPool } = await import(path.join(ROOT, 'dist/db/pool.js'));
  const { buildApp } = await import(path.join(ROOT, 'dist/server/app.js'));
  const { config } = loadConfig({
    flags: { env: 'prod' },
    cwd: os.tmpdir(),
    env: { DATABASE_URL: databaseUrl, RATE_LIMIT_SEARCH_PER_MIN: RAISED, RATE_LIMIT_DELEGATE_PER_MIN: RAISED },
  });
  pool = createPool({ connectionString: databaseUrl, max: 10, applicationName: 'routergpt bench http' });
  app = await buildApp({
    pool,
    config,
    logger: { level: process.env.BENCH_LOG_LEVEL ?? 'info', destination: pino.destination({ dest: '/dev/null', sync: false }) },
    // The shared fallback policy (/health, 404s) too, so the /health run is never 429'd.
    rateLimit: { fallbackPerMinute: 1_000_000_000 },
  });
}
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ url });
process.on('SIGTERM', async () => {
  await app.close();
  await pool?.end();
  process.disconnect?.();
});
