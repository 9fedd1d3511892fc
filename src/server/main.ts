/**
 * Start the API for real: open the environment's database (on `local`, the embedded one,
 * migrated and seeded automatically), listen, and shut down gracefully on SIGTERM/SIGINT:
 * stop accepting, let in-flight requests finish, flush analytics, close the pool and the
 * embedded database — and exit within 10 s whatever happens. With src/cli/main.ts, the only
 * module allowed to end the process (STYLE.md §2).
 */
import type { FastifyInstance } from 'fastify';
import type { EnvironmentConfig } from '../config/types.js';
import { openDatabase, type Database } from '../db/connect.js';
import { premigratedTemplate } from '../db/embedded-premigrated.js';
import { refuseUnmanaged } from '../db/migrator/baseline.js';
import { loadMigrations } from '../db/migrator/files.js';
import { migrateUp } from '../db/migrator/migrator.js';
import { seedDemo } from '../db/seed.js';
import { buildApp } from './app.js';
import { createLogDestination, createLogger, flushLog, type LogDestination } from './logger.js';

export const SHUTDOWN_DEADLINE_MS = 10_000;

export interface StartServerOptions {
  config: EnvironmentConfig;
  /** The process environment merged with .env (OPENAI_BASE_URL, OPENAI_MODEL, LOG_LEVEL). */
  env?: NodeJS.ProcessEnv;
  port?: number;
  host?: string;
}

export interface StartedServer {
  url: string;
  app: FastifyInstance;
  database: string;
  /** What happened before listening (migrations applied, demo data seeded). */
  prepared: { migrationsApplied: number; seededShops: number };
  /** Graceful: stop accepting, finish in-flight requests, flush analytics, close the database. Idempotent. */
  close(): Promise<void>;
}

async function prepareLocal(db: Database, config: EnvironmentConfig): Promise<{ migrationsApplied: number; seededShops: number }> {
  const migrations = loadMigrations(config.migrationsDir.value);
  const result = await migrateUp({
    pool: db.pool,
    migrations,
    lockTimeoutMs: config.lockTimeoutMs.value,
    lockWaitMs: 30_000,
    appliedBy: 'routergpt serve',
    beforeApply: refuseUnmanaged(migrations, config.name),
  });
  const { rows } = await db.pool.query<{ empty: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM shops) AS empty');
  // A fresh clone should have shops to find; an existing database is never touched.
  const seeded = rows[0]?.empty ? await seedDemo(db.pool) : { shops: 0 };
  return { migrationsApplied: result.ran.length, seededShops: seeded.shops };
}

export async function startServer(options: StartServerOptions): Promise<StartedServer> {
  const { config } = options;
  const env = options.env ?? process.env;
  // A fresh embedded state is copied from the pre-migrated template: prepareLocal's migrate up then claims it.
  const templateVariant = config.database.value.kind === 'embedded' ? premigratedTemplate(loadMigrations(config.migrationsDir.value), { lockTimeoutMs: config.lockTimeoutMs.value }) : undefined;
  // A server runs for hours: PGlite's hot functions are worth optimising (embedded.ts).
  const db = await openDatabase(config, { applicationName: 'routergpt serve', wasmTier: 'optimized', ...(templateVariant ? { templateVariant } : {}) });
  let app: FastifyInstance | undefined;
  let destination: LogDestination | undefined;
  try {
    const prepared = config.name === 'local' || db.kind === 'embedded' ? await prepareLocal(db, config) : { migrationsApplied: 0, seededShops: 0 };
    const secrets = [config.openaiApiKey.value, config.apiKey.value];
    // Asynchronous (stdout or the log file), flushed on close and at exit: src/server/logger.ts.
    destination = createLogDestination(config.logFile.value || undefined);
    const logger = createLogger({ level: env.LOG_LEVEL ?? 'info', destination, secrets });
    const timeoutMs = Number(env.OPENAI_TIMEOUT_MS);
    app = await buildApp({
      pool: db.pool,
      config,
      logger,
      // What /health reports as `version`: the release the deploy commands were given (ROUTERGPT_RELEASE).
      ...(env.ROUTERGPT_RELEASE?.trim() ? { release: env.ROUTERGPT_RELEASE.trim() } : {}),
      openai: {
        baseURL: env.OPENAI_BASE_URL || undefined,
        model: env.OPENAI_MODEL || undefined,
        timeoutMs: Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : undefined,
      },
    });
    const host = options.host ?? config.server.value.host;
    const port = options.port ?? config.server.value.port;
    const url = await app.listen({ host, port });
    app.log.info({ url, env: config.name, release: env.ROUTERGPT_RELEASE?.trim() || undefined, database: db.display, expectedSchema: app.rgpt.schema.expected, ...prepared }, `[ROUTER] RouterGPT API listening on ${url} (${config.name})`);
    let closing: Promise<void> | undefined;
    const started = app;
    const log = destination;
    return {
      url,
      app,
      database: db.display,
      prepared,
      close: () =>
        (closing ??= (async () => {
          try {
            await started.close();
            started.log.info('[ROUTER] HTTP server closed and analytics flushed; closing the database');
          } finally {
            await db.close();
            if (log) await flushLog(log);
          }
        })()),
    };
  } catch (error) {
    await app?.close().catch(() => {});
    await db.close();
    if (destination) await flushLog(destination);
    throw error;
  }
}

/**
 * Serve until SIGTERM or SIGINT, then close gracefully. Resolves with the signal once closed.
 * A watchdog ends the process if shutdown has not finished within SHUTDOWN_DEADLINE_MS, and a
 * second SIGINT ends it at once.
 */
export function serveUntilSignal(server: StartedServer, deadlineMs = SHUTDOWN_DEADLINE_MS): Promise<NodeJS.Signals> {
  return new Promise((resolve, reject) => {
    let received: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) {
        // A second Ctrl-C means "now"; a repeated SIGTERM (process managers, wrappers) does not.
        if (signal === 'SIGINT') {
          server.app.log.warn('[ROUTER] SIGINT received again; exiting without finishing the shutdown');
          // 130: cancelled by the user (docs/exit-codes.md), as the first Ctrl-C's clean stop.
          process.exit(130);
        }
        return;
      }
      received = signal;
      server.app.log.info({ signal }, `[ROUTER] ${signal} received: refusing new requests, finishing in-flight ones, flushing analytics`);
      const watchdog = setTimeout(() => {
        server.app.log.error(`[ROUTER] graceful shutdown took longer than ${deadlineMs} ms; exiting`);
        process.exit(1);
      }, deadlineMs);
      watchdog.unref();
      server.close().then(
        () => {
          // "Cleanly" only when every analytics event recorded was written (or refused for its content, logged then).
          const { buffered, dropped } = server.app.rgpt.analytics.stats();
          if (buffered + dropped > 0) server.app.log.error({ lost: buffered + dropped }, `[ROUTER] shut down; ${buffered + dropped} analytics event(s) were lost (the database refused or could not be reached)`);
          else server.app.log.info('[ROUTER] shut down cleanly');
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          // If some library still holds the event loop open, do not hang: the work is done.
          setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
          resolve(signal);
        },
        (error: unknown) => {
          clearTimeout(watchdog);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
