/**
 * Shared resources of the app, decorated on the root instance and closed on `onClose`
 * (STYLE.md §12): the analytics writer and the refused-request counts (both flushed on close), the feature toggle, the search's
 * shop-density grid, and the schema
 * status /health reports (the code's newest migration is read here, once, at start-up).
 * The pool is the caller's: buildApp borrows it and never ends it.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Pool } from '../../db/pool.js';
import { createRefusalCounter, type RefusalCounter } from '../analytics/refusals.js';
import { createAnalyticsWriter, type AnalyticsSettings, type AnalyticsWriter } from '../analytics/writer.js';
import { createRouterToggle, type RouterToggle } from '../flags.js';
import type { Assistant } from '../chat/types.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { createSchemaStatus, expectedSchemaVersion, type SchemaStatus } from '../schema-status.js';
import { createSearchDensity, type SearchDensity } from '../search/search-density.js';
import { globalPlugin } from './skip-override.js';

declare module 'fastify' {
  interface FastifyInstance {
    rgpt: AppContext;
  }
}

export interface AppContext {
  pool: Pool;
  config: EnvironmentConfig;
  clock: () => Date;
  analytics: AnalyticsWriter;
  /** Refused router requests, counted per minute (router_refusals). */
  refusals: RefusalCounter;
  /** The release and host written on every analytics, refusal and feedback row. */
  served: { release?: string; host?: string };
  toggle: RouterToggle;
  schema: SchemaStatus;
  /** The shop-density grid that sizes each search's first ring (read in the background). */
  density: SearchDensity;
  assistant: Assistant;
  log: Logger;
}

export interface ResourcesOptions extends Record<string, unknown> {
  pool: Pool;
  config: EnvironmentConfig;
  clock: () => Date;
  assistant: Assistant;
  analytics?: AnalyticsSettings;
  flagTtlMs?: number;
}

export const resourcesPlugin = globalPlugin<ResourcesOptions>(async (app: FastifyInstance, opts) => {
  const log = app.log as unknown as Logger;
  const analytics = createAnalyticsWriter(opts.pool, log, opts.analytics, opts.clock);
  const served = { release: opts.analytics?.release, host: opts.analytics?.host };
  const refusals = createRefusalCounter(
    opts.pool,
    log,
    { flushIntervalMs: Math.max(1000, opts.analytics?.flushIntervalMs ?? 0), ...opts.analytics?.refusals, ...served },
    opts.clock,
  );
  const toggle = createRouterToggle({
    db: opts.pool,
    configEnabled: opts.config.enableRouterGpt.value,
    configOrigin: opts.config.enableRouterGpt.origin,
    ttlMs: opts.flagTtlMs,
    onError: (error) => log.warn({ err: error }, '[ROUTER] could not read the router_gpt feature flag; keeping the last known state'),
  });
  const schema = createSchemaStatus({
    db: opts.pool,
    expected: expectedSchemaVersion(opts.config.migrationsDir.value),
    onError: (error) => log.warn({ err: error }, `[ROUTER] could not read the applied schema version from the migrations table`),
  });
  const density = createSearchDensity({
    db: opts.pool,
    onError: (error) => log.warn({ err: error }, '[ROUTER] could not read the shop-density grid; searches start at the 1-mile ring until it can be read'),
  });
  app.decorate('rgpt', { pool: opts.pool, config: opts.config, clock: opts.clock, analytics, refusals, served, toggle, schema, density, assistant: opts.assistant, log });
  // Runs after the HTTP server has stopped and in-flight requests have finished, so every
  // event they recorded is in the buffer being flushed.
  app.addHook('onClose', async () => {
    log.debug('[ANALYTICS] closing: flushing buffered events');
    await Promise.all([analytics.close(), refusals.close(), density.close()]);
    log.debug({ ...analytics.stats(), refusals: refusals.stats() }, '[ANALYTICS] closed');
  });
}, 'routergpt-resources');
