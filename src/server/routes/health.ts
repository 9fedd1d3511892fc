/**
 * GET /health: 200 {"ok":true} when the database answers `SELECT 1` within 2 s, else 503 with
 * the reason. The ping is never cached, so it recovers as soon as the database does (the pool
 * opens new connections by itself). Not behind the feature toggle: it reports the toggle instead.
 * It also reports the rate-limit store (`rate_limits`); Redis unreachable stays 200 because the
 * limiter keeps serving with per-server limits.
 *
 * `schema` says which migration the database is at and which the code needs
 * (src/server/schema-status.ts, re-read at most once a second). A database behind the code is
 * 503 `schema_behind`: a rollback of migrations without the code (or a deploy of code before its
 * migration) must not look healthy. A database ahead of the code is expand/contract: 200.
 */
import type { FastifyInstance } from 'fastify';
import { describeSchemaBehind, isSchemaBehind } from '../schema-status.js';
import { healthResponseSchema } from '../schemas.js';

export const HEALTH_DB_TIMEOUT_MS = 2000;

async function pingDatabase(app: FastifyInstance): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the database did not answer within ${HEALTH_DB_TIMEOUT_MS} ms`), HEALTH_DB_TIMEOUT_MS);
  });
  const ping = app.rgpt.pool.query('SELECT 1').then(
    () => undefined,
    (error: { code?: string; message?: string }) => `the database is unreachable (${error.code ?? 'error'})`,
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Requests that arrive while a ping is in flight share it (single flight): each answer comes
 * from a `SELECT 1` that was in flight when the request arrived — never an older, cached one —
 * but a burst of probes costs one database round trip instead of one each (bench/http: /health
 * throughput against a bare Fastify server).
 */
function sharedPing(app: FastifyInstance): () => Promise<string | undefined> {
  let inFlight: Promise<string | undefined> | undefined;
  return () => {
    inFlight ??= pingDatabase(app).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

export interface HealthRouteOptions {
  /** The release this server runs, reported as `version`. */
  version: string;
}

export async function healthRoutes(app: FastifyInstance, { version }: HealthRouteOptions): Promise<void> {
  const ping = sharedPing(app);
  app.get('/health', { schema: { response: { 200: healthResponseSchema, 503: healthResponseSchema } } }, async (request, reply) => {
    const pinged = ping();
    // The flag and the schema version are cached (≤ 1 s): taken as they are, without a promise
    // each, except for the one probe a second that reads them — while the ping is in flight.
    const toggle = app.rgpt.toggle.fresh() ?? (await app.rgpt.toggle.state());
    const schema = (app.rgpt.schema.fresh() ?? { report: await app.rgpt.schema.report() }).report;
    const problem = await pinged;
    // Redis down is not unhealthy: limits fall back to this server (fail open), so still 200.
    const rateLimits = app.rateLimitStatus();
    // Omitted when the migrations table could not be read; the ping then says why.
    const reported = schema ? { schema } : {};
    if (problem) {
      request.log.warn({ reason: problem }, `[ROUTER] health check failed: ${problem}`);
      return reply.code(503).send({ ok: false, database: 'unreachable', router_enabled: toggle.enabled, reason: problem, version, ...reported, rate_limits: rateLimits });
    }
    if (schema && isSchemaBehind(schema)) {
      const reason = `schema_behind: ${describeSchemaBehind(schema)}`;
      request.log.warn({ reason, schema }, `[ROUTER] health check failed: ${reason}`);
      return reply.code(503).send({ ok: false, database: 'ok', router_enabled: toggle.enabled, reason, version, ...reported, rate_limits: rateLimits });
    }
    return { ok: true, database: 'ok', router_enabled: toggle.enabled, version, ...reported, rate_limits: rateLimits };
  });
}
