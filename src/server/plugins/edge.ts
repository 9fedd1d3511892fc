/**
 * The edge plugins: rate limits (src/server/plugins/rate-limit/), CORS, HSTS, HTTPS redirect,
 * API-key auth (src/server/plugins/security.ts). Registered here, in this ONE place, before
 * any route, so their headers and refusals apply to every response.
 *
 * Order matters. The rate limiter's onRequest hook runs first, so every response — 404s,
 * preflights, 308 redirects, 401s, 422s, 5xx — carries the rate-limit headers; it refuses with
 * 429 in preParsing, after CORS/security headers/redirect/auth have run, so a 429 still has CORS headers.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { EnvironmentConfig } from '../../config/types.js';
import { policiesFromConfig, rateLimitPlugin, type RateLimitOptions } from './rate-limit/index.js';
import { EDGE_ANSWER_PATH, type EdgeAnswers } from './edge-answers.js';
import { DEFAULT_PUBLIC_PATHS, securityPlugin } from './security.js';

/** Test and benchmark overrides: a fake clock, a short window, a key prefix, raised limits, keyBy… */
export type EdgeRateLimitOverrides = Partial<Omit<RateLimitOptions, 'policies'>> & {
  /** Window of every policy (default 60 000 ms); tests use e.g. 2 s to run in real time. */
  windowMs?: number;
  /** Limit of the shared policy for routes without their own (default 600 per window). */
  fallbackPerMinute?: number;
  /** Limit of GET /health's own policy (default 6000 per window, never below the fallback's). */
  healthPerMinute?: number;
};

export interface EdgeDeps {
  config: EnvironmentConfig;
  /**
   * An ioredis client owned by the caller (not closed here). Without one, the rate limiter
   * connects to `config.redisUrl` itself (closing it on app close), or keeps limits in memory.
   */
  redis?: unknown;
  rateLimit?: EdgeRateLimitOverrides;
  /**
   * The answers given outside the router (CONNECT, parser errors, undecodable URLs), from
   * createEdgeAnswers(): the app's factory options must also route clientError and
   * frameworkErrors to them. Registered here, after the edge hooks, so they run on its route.
   */
  answers?: EdgeAnswers;
}

function isRedisClient(value: unknown): value is Redis {
  return typeof value === 'object' && value !== null && typeof (value as Redis).defineCommand === 'function' && typeof (value as Redis).status === 'string';
}

export async function registerEdgePlugins(app: FastifyInstance, deps: EdgeDeps): Promise<void> {
  const { config } = deps;
  const { windowMs, fallbackPerMinute, healthPerMinute, ...overrides } = deps.rateLimit ?? {};
  await app.register(rateLimitPlugin, {
    policies: policiesFromConfig(config.rateLimits.value, { windowMs, fallbackPerMinute, healthPerMinute }),
    // A client of the caller's (duck-typed: ioredis is loaded only when Redis is configured), else the URL.
    redis: isRedisClient(deps.redis) ? deps.redis : config.redisUrl.value,
    apiKey: config.apiKey.value,
    ...overrides,
  });
  await app.register(securityPlugin, {
    allowedOrigins: config.allowedOrigins.value,
    apiKey: config.apiKey.value,
    publicApiBase: config.publicApiBase.value,
    publicPaths: deps.answers ? [...DEFAULT_PUBLIC_PATHS, EDGE_ANSWER_PATH] : DEFAULT_PUBLIC_PATHS,
  });
  deps.answers?.register(app);
}
