/**
 * Every router request leaves exactly one trace (docs/metrics.md#what-the-server-records):
 *
 * - 2xx: the route's own success event (search, delegate, chat_message, feedback), recorded by
 *   the route with its ids and latency — this hook adds nothing;
 * - 5xx other than the toggle's deliberate 503: an `error` event with payload.route and
 *   payload.status, recorded here (so a 5xx that never went through the error handler counts too);
 * - 4xx (422, 404, 401, 413, 415, 429 …) and the toggle's 503: one more in the refusal counts
 *   (router_refusals), per minute, route, policy, status and client HMAC.
 *
 * onResponse sees every response once, whoever sent it: the rate limiter's 429 (preParsing),
 * the API-key 401 and the toggle 503 (onRequest), validation 422s, route errors.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { clientHmac } from '../analytics/client-hmac.js';
import { globalPlugin } from './skip-override.js';

/** The router routes, as registered: what "a request" means in every metric. */
export const ROUTER_ROUTES: ReadonlySet<string> = new Set(['/router/search-by-location', '/router/delegate', '/router/feedback', '/chat']);

declare module 'fastify' {
  interface FastifyRequest {
    /** Answered 503 router_disabled by the toggle (src/server/routes/guard.ts): a refusal, not an error. */
    refusedByToggle: boolean;
  }
}

export type Outcome = 'success' | 'error' | 'refusal' | 'none';

/** What a router response counts as. 1xx/3xx (the HTTPS redirect) are `none`: the client asks again. */
export function outcomeOf(status: number, refusedByToggle: boolean): Outcome {
  if (status >= 200 && status < 300) return 'success';
  if (status >= 400 && status < 500) return 'refusal';
  if (status === 503 && refusedByToggle) return 'refusal';
  if (status >= 500) return 'error';
  return 'none';
}

export function isRouterRoute(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return route !== undefined && ROUTER_ROUTES.has(route);
}

export const outcomesPlugin = globalPlugin(async (app: FastifyInstance) => {
  app.decorateRequest('refusedByToggle', false);

  // Callback style, not async: most responses need nothing here, and an async hook would cost
  // every one of them (/health included) a promise.
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (!isRouterRoute(request)) return done();
    const route = request.routeOptions.url!;
    const status = reply.statusCode;
    const outcome = outcomeOf(status, request.refusedByToggle);
    if (outcome === 'error') {
      app.rgpt.analytics.record({ eventType: 'error', latencyMs: reply.elapsedTime, synthetic: request.synthetic === true, payload: { route, status, method: request.method, request_id: request.id } });
    } else if (outcome === 'refusal') {
      app.rgpt.refusals.count({
        route,
        policy: request.rateLimit?.policy.name ?? '',
        status,
        // The key as the synthetic plugin last read it (at start, and again while it is missing).
        clientHmac: clientHmac(app.currentSyntheticKey(), app.rateLimitClientKey(request)),
        synthetic: request.synthetic === true,
      });
    }
    done();
  });
}, 'routergpt-outcomes');
