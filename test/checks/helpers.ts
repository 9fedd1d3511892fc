/**
 * Real parts for the check tests: a migrated, seeded PostgreSQL database per file, the real
 * app (buildApp) listening on loopback, its log in a temp file, and a way to run one check
 * against it. Broken-server scenarios use small node:http servers named for the scenario.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { Check, CheckDeps, CheckResult } from '../../src/checks/define-check.js';
import { loadConfig } from '../../src/config/resolve.js';
import type { EnvironmentConfig } from '../../src/config/types.js';
import { type Pool } from '../../src/db/pool.js';
import { OPENAPI_TEMPLATE_PATH } from '../../src/openapi/document.js';
import { buildApp, type ServerDeps } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { openapiRoutes } from '../../src/server/routes/openapi.js';
import { tempDir } from '../helpers/cli.js';
import { createMigratedDatabase } from '../helpers/migrated-db.js';
import { type TestDatabase } from '../helpers/db.js';

export interface SeededDb {
  db: TestDatabase;
  pool: Pool;
  close(): Promise<void>;
}

/** A fresh database, migrated, with the demo shops (the five test shops included). */
export async function createSeededDb(prefix = 'chk'): Promise<SeededDb> {
  const migrated = await createMigratedDatabase({ prefix, seed: true });
  return { db: migrated, pool: migrated.pool, close: migrated.close };
}

/** A resolved configuration for `env` (staging by default: test bookings allowed, the real 20/10 limits). */
export function checkConfig(databaseUrl: string, env: Record<string, string> = {}, name = 'staging'): EnvironmentConfig {
  return loadConfig({ flags: { env: name }, cwd: tempDir(), env: { DATABASE_URL: databaseUrl, ...env } }).config;
}

export interface RealServer {
  url: string;
  app: FastifyInstance;
  config: EnvironmentConfig;
  logFile: string;
  close(): Promise<void>;
}

/** The real app on 127.0.0.1:0, logging JSON lines to a temp file (config.logFile). */
export async function startRealServer(pool: Pool, env: Record<string, string> = {}, extra: Partial<ServerDeps> = {}, name = 'staging'): Promise<RealServer> {
  const logFile = path.join(tempDir('routergpt-log-'), 'server.log');
  const config = checkConfig('postgres://unused@127.0.0.1/unused', { ROUTERGPT_LOG_FILE: logFile, ...env }, name);
  const logger = createLogger({ level: 'debug', destination: pino.destination({ dest: logFile, sync: true }), secrets: [config.apiKey.value, config.openaiApiKey.value] });
  const app = await buildApp({ pool, config, logger, analytics: { flushIntervalMs: 50 }, ...extra });
  // GET /openapi.yaml: the route exists (src/server/routes/openapi.ts); register it when buildApp does not yet.
  if (!app.hasRoute({ method: 'GET', url: '/openapi.yaml' })) await app.register(openapiRoutes, { config });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, app, config, logFile, close: () => app.close() };
}

export function depsFor(config: EnvironmentConfig, extra: Partial<CheckDeps> = {}): CheckDeps {
  return { config, fetch, now: () => new Date(), openapiFile: OPENAPI_TEMPLATE_PATH, ...extra };
}

/** Run one check as the runner would (needs are the runner's business; tests call run directly). */
export async function runCheck(check: Check, deps: CheckDeps): Promise<CheckResult> {
  return check.run({ ...deps, signal: AbortSignal.timeout(check.timeoutMs ?? 30_000) });
}

export type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

/** A small node:http server for a broken-server scenario; returns its base URL. */
export async function startFakeServer(handler: Handler): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}
