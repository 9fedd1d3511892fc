import { createHash, timingSafeEqual } from 'node:crypto';
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { errorBody } from '../errors.js';
import { setSecurityHeaders } from './security-headers.js';

export interface SecurityOptions {
  /** Exact origins allowed to call from a browser (scheme://host[:port]); nothing else is reflected. */
  allowedOrigins: readonly string[];
  /** When set, every route except the public ones needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** The https base the API is published at; HTTP→HTTPS redirects go there when set. */
  publicApiBase?: string;
  /** Paths that never need the API key (default /health and /openapi.yaml). */
  publicPaths?: readonly string[];
}

export const DEFAULT_PUBLIC_PATHS = ['/health', '/openapi.yaml'] as const;

/** Headers a browser may read on a CORS response. */
const EXPOSED_HEADERS = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'RateLimit', 'RateLimit-Policy', 'Retry-After'];
/** Headers a browser may send; the openai-* ones are what GPT Actions add. */
// Idempotency-Key: the delegate instructions tell clients to send it, so a browser must be allowed to.
const ALLOWED_HEADERS = ['Content-Type', 'Authorization', 'Idempotency-Key', 'openai-conversation-id', 'openai-ephemeral-user-id'];

/** A request carries a body when it says so in its framing (RFC 9112 §6.3): a non-zero length or chunked. */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Constant-time check of an `Authorization: Bearer …` header against the key. Both sides are
 * hashed first so neither the content nor the length of the key leaks through timing.
 */
export function bearerTokenMatches(authorization: string | undefined, apiKey: string): boolean {
  if (!authorization) return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (!match) return false;
  return timingSafeEqual(digest(match[1]!), digest(apiKey));
}

/**
 * True when the request reached us through a trusted proxy. Fastify includes the peer's
 * forwarded address in `request.ips` only when the peer matches `trustProxy`; without
 * trustProxy `ips` is undefined. (Proxies send X-Forwarded-For with X-Forwarded-Proto.)
 */
export function isFromTrustedProxy(request: FastifyRequest): boolean {
  return Array.isArray(request.ips) && request.ips.length > 1;
}

/**
 * Where an HTTP request is sent on HTTPS: the configured public_api_base's host, never the
 * request's Host or X-Forwarded-Host (a client could name any site there: an open redirect).
 * Undefined when no base is configured: there is no host to send the client to.
 */
export function httpsLocation(url: string, publicApiBase: string | undefined): string | undefined {
  if (!publicApiBase) return undefined;
  let base: URL;
  try {
    base = new URL(publicApiBase);
  } catch {
    return undefined;
  }
  const prefix = base.pathname.replace(/\/+$/, '');
  return `https://${base.host}${prefix}${url.startsWith('/') ? url : `/${url}`}`;
}

const securityPlugin: FastifyPluginAsync<SecurityOptions> = async (app: FastifyInstance, options) => {
  const allowed = new Set(options.allowedOrigins);
  const publicPaths = new Set<string>(options.publicPaths ?? DEFAULT_PUBLIC_PATHS);

  // Security headers for a JSON API (src/server/plugins/security-headers.ts: HSTS, a CSP that
  // allows nothing, …), computed once. Added before CORS, so its preflight answers carry them too
  // (issue 14, A12: they lacked HSTS).
  app.addHook('onRequest', setSecurityHeaders);

  // CORS: exact allowlist. A function origin makes @fastify/cors add `Vary: Origin` to every
  // response and set Access-Control-Allow-Origin only to the matching origin (never `*`, never
  // an echo of an unlisted one). Preflights are answered here, before auth (browsers send none).
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: 600,
    // An OPTIONS from an allowed origin without Access-Control-Request-Method is answered like a
    // preflight (204) instead of @fastify/cors's text/plain 400.
    strictPreflight: false,
  });

  const apiKey = options.apiKey;
  // The contract says JSON (issue 14, A12): Fastify's built-in text/plain parser let a JSON body
  // sent as text/plain through to validation (a 422); without it, that is the documented 415.
  app.removeContentTypeParser('text/plain');

  // What the edge decides about a request once CORS has run, in order — one hook, not four: a
  // hook is a dispatch and a closure call for every request (bench/http).
  app.addHook('onRequest', (request, reply, done) => {
    // 1. An OPTIONS that CORS did not answer: from an origin that is not allowed, a JSON 403 saying
    //    so (it was a 404, as if the route did not exist); without an Origin, a 204 with the
    //    methods. Over its budget: on to the rate limiter's 429 (in preParsing), not answered here for free.
    if (request.method === 'OPTIONS' && request.rateLimit?.allowed !== false) {
      const origin = request.headers.origin;
      if (origin !== undefined && !allowed.has(origin)) {
        void reply.code(403).send(errorBody('origin_not_allowed', `The origin ${JSON.stringify(origin.slice(0, 100))} may not call this API from a browser. Allowed origins are set in ALLOWED_ORIGINS.`));
        return;
      }
      void reply.code(204).header('allow', 'GET, POST, OPTIONS').header('content-length', '0').send();
      return;
    }

    // 2. HTTP → HTTPS: only when a trusted proxy says the client used plain http. A direct
    //    plain-http connection (local use, tests, a load balancer's health probe) is served as is;
    //    an untrusted peer's X-Forwarded-Proto is ignored because request.protocol ignores it.
    if (request.headers['x-forwarded-proto'] !== undefined && request.protocol === 'http' && isFromTrustedProxy(request)) {
      const location = httpsLocation(request.url, options.publicApiBase);
      if (location) {
        reply.code(308).header('location', location).send();
        return;
      }
    }

    // 3. Bodies are read as sent: a compressed one (Content-Encoding: gzip, br …) would be parsed
    //    as garbage, so it is refused as the media type it is. Only a request with a body has one
    //    to decode: a GET /health with a stray Content-Encoding header is served (the fuzz suite
    //    found it refused with 415).
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity' && encoding.trim() !== '' && hasBody(request)) {
      void reply.code(415).send(errorBody('unsupported_media_type', `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported: send the body uncompressed, as JSON with Content-Type: application/json.`));
      return;
    }

    // 4. The API key, when one is configured. The matched route pattern, not the raw URL: no
    //    spelling of a URL can make a private route public.
    if (apiKey) {
      const route = request.routeOptions.url;
      if (!(request.method === 'OPTIONS' || (route !== undefined && publicPaths.has(route)) || bearerTokenMatches(request.headers.authorization, apiKey))) {
        reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="routergpt"')
          .type('application/json; charset=utf-8')
          .send(errorBody('unauthorized', 'Missing or wrong API key. Send `Authorization: Bearer <key>` (the key configured as ROUTERGPT_API_KEY).'));
        return;
      }
    }
    done();
  });
};

// Not encapsulated: CORS, the security headers and the hooks must cover every route and the 404 handler.
Object.assign(securityPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'routergpt-security' });

export { securityPlugin };
