import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Redis } from 'ioredis';
import type { RateLimits } from '../../../config/types.js';
import { errorBody } from '../../errors.js';
import { createClientKey, type KeyBy } from './client-key.js';
import { rateLimitHeaders } from './headers.js';
import { MemoryStore } from './memory-store.js';
import type { RedisStore } from './redis-store.js';
import type { RateLimitDecision, RateLimitPolicy, RateLimitStatus } from './types.js';

export type { KeyBy } from './client-key.js';
export { MemoryStore } from './memory-store.js';
// RedisStore (and ioredis) are imported from './redis-store.js' where needed: the plugin loads them only when Redis is configured.
export type { RateLimitDecision, RateLimitPolicy, RateLimitStatus } from './types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Rate-limit store health for /health: `{store, redis: 'ok'|'unreachable'|'not-configured', …}`. */
    rateLimitStatus(): RateLimitStatus;
    /** The client a request's budget belongs to (`ip:…`, `openai-user:…`): what router_refusals stores an HMAC of. */
    rateLimitClientKey(request: FastifyRequest): string;
  }
  interface FastifyRequest {
    /** The rate-limit decision for this request (set by the first onRequest hook). */
    rateLimit: RateLimitDecision | null;
  }
}

export interface RateLimitPolicies {
  /** Route URL pattern (as registered, e.g. `/router/search-by-location`) → its own policy. */
  routes: Record<string, RateLimitPolicy>;
  /** Every other route, unknown URLs (404) included, shares this one; so every response carries headers. */
  fallback: RateLimitPolicy;
  /**
   * Requests with a valid synthetic marker (routergpt's own checks, src/lib/synthetic.ts) spend
   * this budget instead, so a verify run never eats a real client's; a marker asking for
   * `policy=real` (api.rate-limit, api.performance) spends the real one. Absent: no distinction.
   */
  synthetic?: RateLimitPolicy;
}

export interface RateLimitOptions {
  policies: RateLimitPolicies;
  /** A `redis://` URL (the plugin owns and closes the client) or a client owned by the caller. Absent → memory. */
  redis?: string | Redis;
  /** Redis key prefix (default `routergpt:rl:`); keys are `<prefix><policy>:<client>`. */
  keyPrefix?: string;
  /** Inject a clock (tests). Without one, memory uses Date.now and Redis uses its own TIME. */
  now?: () => number;
  keyBy?: KeyBy;
  /** The environment's API key; `keyBy: 'openai-user'` trusts OpenAI headers only on requests bearing it. */
  apiKey?: string;
  /** How often a continuing Redis outage is logged again (default 30 s). */
  logIntervalMs?: number;
  /** How long start-up waits for Redis before serving with the fallback (default 1 s). */
  connectTimeoutMs?: number;
  /** Per-command timeout (default 200 ms). */
  commandTimeoutMs?: number;
  /** After a failed Redis command, Redis is skipped this long, then one request probes it (default 5000 ms). */
  breakerMs?: number;
  /** Upper bound on clients tracked in memory (default 100 000). */
  maxKeys?: number;
}

export const MINUTE_MS = 60_000;
/** Routes without a policy of their own share this generous one, so headers appear on every response. */
export const DEFAULT_FALLBACK_PER_MINUTE = 600;
/** The synthetic budget per client: a verify run sends ~100 requests; a flood of forged markers is ordinary traffic. */
export const DEFAULT_SYNTHETIC_PER_MINUTE = 600;
/**
 * GET /health's own budget per client: it is for probes (load balancers, uptime monitors, deploy
 * gates), which may poll often from one address, so it is far above the shared one; a flood of
 * it is still bounded (each answer costs a `SELECT 1`, shared by the requests in flight).
 */
export const DEFAULT_HEALTH_PER_MINUTE = 6000;

/**
 * The policies of issue #3: search and delegate (and feedback, under delegate) from config,
 * /health its own high one (issue 16), everything else the fallback.
 */
export function policiesFromConfig(
  limits: RateLimits,
  options: { windowMs?: number; fallbackPerMinute?: number; syntheticPerMinute?: number; healthPerMinute?: number } = {},
): RateLimitPolicies {
  const windowMs = options.windowMs ?? MINUTE_MS;
  const delegate: RateLimitPolicy = { name: 'delegate', limit: limits.delegatePerMinute, windowMs };
  const fallbackLimit = options.fallbackPerMinute ?? DEFAULT_FALLBACK_PER_MINUTE;
  return {
    routes: {
      '/router/search-by-location': { name: 'search', limit: limits.searchPerMinute, windowMs },
      '/router/delegate': delegate,
      // One budget with delegate (a policy is its budget: same name, same store key): a rating
      // follows a delegation, at most one per session worth keeping.
      '/router/feedback': delegate,
      // Never below the shared policy: raising that (tests, benchmarks) raises this too.
      '/health': { name: 'health', limit: options.healthPerMinute ?? Math.max(DEFAULT_HEALTH_PER_MINUTE, fallbackLimit), windowMs },
    },
    fallback: { name: 'default', limit: fallbackLimit, windowMs },
    synthetic: { name: 'synthetic', limit: options.syntheticPerMinute ?? DEFAULT_SYNTHETIC_PER_MINUTE, windowMs },
  };
}

function policyFor(policies: RateLimitPolicies, request: FastifyRequest): RateLimitPolicy {
  const url = request.routeOptions.url;
  return (url !== undefined && policies.routes[url]) || policies.fallback;
}

const rateLimitPlugin: FastifyPluginAsync<RateLimitOptions> = async (app: FastifyInstance, options) => {
  const memory = new MemoryStore({ now: options.now, maxKeys: options.maxKeys });
  const clientKey = createClientKey(options.keyBy ?? 'ip', options.apiKey);
  const now = options.now;
  const logEvery = options.logIntervalMs ?? 30_000;
  let lastLogged = Number.NEGATIVE_INFINITY;

  let redis: RedisStore | undefined;
  if (options.redis) {
    // Loaded only when configured: ioredis is ~10 MB of a server's idle memory (issue 16).
    const { RedisStore } = await import('./redis-store.js');
    redis = new RedisStore({
      redis: options.redis,
      keyPrefix: options.keyPrefix,
      fallback: memory,
      connectTimeoutMs: options.connectTimeoutMs,
      commandTimeoutMs: options.commandTimeoutMs,
      breakerMs: options.breakerMs,
      onStateChange: (state, error) => {
        if (state === 'ok') {
          if (lastLogged !== Number.NEGATIVE_INFINITY) app.log.info('[ROUTER] rate limits: Redis reachable again; budgets are shared across servers');
          lastLogged = Number.NEGATIVE_INFINITY;
          return;
        }
        const t = Date.now();
        if (t - lastLogged < logEvery) return;
        lastLogged = t;
        app.log.error({ err: error }, '[ROUTER] rate limits: Redis unreachable; serving with per-server in-memory limits until it returns');
      },
    });
    await redis.waitReady(options.connectTimeoutMs ?? 1000);
  }

  /**
   * A request bearing a synthetic marker that does not ask for the real policy is decided once
   * the marker is verified — which needs the body, so in preParsing, after the synthetic
   * plugin's hook (registered before this plugin). A valid marker spends the synthetic budget;
   * a forged or stale one the real budget, like any request. The verdict never depends on
   * anything but the signature.
   */
  const syntheticPolicy = options.policies.synthetic;
  const isDeferred = (request: FastifyRequest) => syntheticPolicy !== undefined && request.syntheticClaim != null && request.syntheticClaim.policy !== 'real';
  const decide = (request: FastifyRequest, policy: RateLimitPolicy): Promise<RateLimitDecision> =>
    redis ? redis.hit(clientKey(request), policy, now?.()) : Promise.resolve(memory.hitSync(clientKey(request), policy, now?.()));

  app.decorate('rateLimitClientKey', clientKey);
  app.decorate('rateLimitStatus', (): RateLimitStatus => redis?.status() ?? { store: 'memory', redis: 'not-configured' });
  app.decorateRequest('rateLimit', null);

  // 1. Decide and set the headers before anything can answer (404, CORS preflight, 401, 422, 5xx all
  //    carry them: Fastify keeps headers set here on error replies).
  if (redis) {
    const store = redis;
    app.addHook('onRequest', async (request, reply) => {
      if (isDeferred(request)) return;
      const decision = await store.hit(clientKey(request), policyFor(options.policies, request), now?.());
      request.rateLimit = decision;
      reply.headers(rateLimitHeaders(decision));
    });
  } else {
    // Synchronous path: no promise per request on the hot path.
    app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      if (isDeferred(request)) return done();
      const decision = memory.hitSync(clientKey(request), policyFor(options.policies, request), now?.());
      request.rateLimit = decision;
      reply.headers(rateLimitHeaders(decision));
      done();
    });
  }

  // 2. Refuse in preParsing — after every onRequest hook (CORS, HSTS, HTTPS redirect, auth) has run,
  //    so a 429 still carries CORS headers, and before the body is read.
  const refused = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const decision = request.rateLimit;
    if (!decision || decision.allowed) return false;
    const seconds = reply.getHeader('retry-after');
    reply
      .code(429)
      .type('application/json; charset=utf-8')
      .send(errorBody('rate_limited', `Too many ${decision.policy.name} requests: at most ${decision.policy.limit} per ${Math.round(decision.policy.windowMs / 1000)} s. Retry after ${String(seconds)} s.`));
    return true;
  };
  app.addHook('preParsing', (request, reply, payload, done) => {
    if (request.rateLimit === null && isDeferred(request)) {
      decide(request, request.synthetic ? syntheticPolicy! : policyFor(options.policies, request)).then(
        (decision) => {
          request.rateLimit = decision;
          reply.headers(rateLimitHeaders(decision));
          if (!refused(request, reply)) done(null, payload);
        },
        (error: unknown) => done(error as Error),
      );
      return;
    }
    if (!refused(request, reply)) done(null, payload);
  });

  // A deferred request answered before preParsing (a preflight, a 401): the real budget, as
  // every such answer spends, and the headers every response carries.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.rateLimit !== null || !isDeferred(request)) return done(null, payload);
    decide(request, policyFor(options.policies, request)).then(
      (decision) => {
        request.rateLimit = decision;
        reply.headers(rateLimitHeaders(decision));
        done(null, payload);
      },
      () => done(null, payload),
    );
  });

  app.addHook('onClose', async () => {
    await redis?.close();
    await memory.close();
  });
};

// Not encapsulated (what fastify-plugin does): the hooks must apply to every route and the 404 handler.
Object.assign(rateLimitPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'routergpt-rate-limit' });

export { rateLimitPlugin };
