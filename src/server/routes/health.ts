/**
 * GET /health: 200 {"ok":true} when the database answers `SELECT 1` within 2 s, else 503 with
 * the reason. Nothing is cached, so it recovers as soon as the database does (the pool opens
 * new connections by itself). Not behind the feature toggle: it reports the toggle instead.
 * It also reports the rate-limit store (`rate_limits`); Redis unreachable stays 200 because the
 * limiter keeps serving with per-server limits.
 */
import type { FastifyInstance } from 'fastify';
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

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const ping = sharedPing(app);
  app.get('/health', { schema: { response: { 200: healthResponseSchema, 503: healthResponseSchema } } }, async (request, reply) => {
    const [problem, toggle] = await Promise.all([ping(), app.rgpt.toggle.state()]);
    // Redis down is not unhealthy: limits fall back to this server (fail open), so still 200.
    const rateLimits = app.rateLimitStatus();
    if (problem) {
      request.log.warn({ reason: problem }, `[ROUTER] health check failed: ${problem}`);
      return reply.code(503).send({ ok: false, database: 'unreachable', router_enabled: toggle.enabled, reason: problem, rate_limits: rateLimits });
    }
    return { ok: true, database: 'ok', router_enabled: toggle.enabled, rate_limits: rateLimits };
  });
}
