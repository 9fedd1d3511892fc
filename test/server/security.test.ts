import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { bearerTokenMatches } from '../../src/server/plugins/security.js';
import { buildEdgeTestApp, edgeConfig } from './edge-test-app.js';

const SEARCH = '/router/search-by-location';
const body = { latitude: 33.42, longitude: -111.94 };

const apps: FastifyInstance[] = [];
async function app(env: Record<string, string> = {}): Promise<FastifyInstance> {
  const a = await buildEdgeTestApp(edgeConfig(env));
  apps.push(a);
  return a;
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

const varyIncludesOrigin = (vary: unknown) => String(vary).split(',').map((s) => s.trim().toLowerCase()).includes('origin');

describe('CORS allowlist', () => {
  it('allows exactly the configured origins and never reflects another', async () => {
    const a = await app({ ALLOWED_ORIGINS: 'https://app.example.com,https://chat.openai.com,https://chatgpt.com' });
    for (const origin of ['https://chat.openai.com', 'https://chatgpt.com', 'https://app.example.com']) {
      const r = await a.inject({ method: 'GET', url: '/health', headers: { origin } });
      expect(r.headers['access-control-allow-origin']).toBe(origin);
      expect(varyIncludesOrigin(r.headers.vary)).toBe(true);
      expect(String(r.headers['access-control-expose-headers'])).toContain('Retry-After');
    }
    for (const origin of ['https://evil.example', 'https://chat.openai.com.evil.example', 'null', 'http://chat.openai.com']) {
      const r = await a.inject({ method: 'GET', url: '/health', headers: { origin } });
      expect(r.statusCode).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      expect(varyIncludesOrigin(r.headers.vary)).toBe(true); // caches must not reuse an allowed answer
    }
  });

  it('answers preflights for allowed origins (with rate-limit headers), and gives nothing to others', async () => {
    const a = await app({ ROUTERGPT_API_KEY: 'k-0123456789' });
    const preflight = (origin: string) =>
      a.inject({ method: 'OPTIONS', url: SEARCH, headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    const ok = await preflight('https://chatgpt.com');
    expect(ok.statusCode).toBe(204); // before auth: browsers send no credentials on a preflight
    expect(ok.headers['access-control-allow-origin']).toBe('https://chatgpt.com');
    expect(String(ok.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(ok.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    expect(ok.headers['x-ratelimit-limit']).toBeDefined();
    const denied = await preflight('https://evil.example');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('regression: a browser may send Idempotency-Key (the delegate instructions ask for it)', async () => {
    const a = await app();
    const ok = await a.inject({ method: 'OPTIONS', url: '/chat', headers: { origin: 'https://chatgpt.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,idempotency-key' } });
    expect(ok.statusCode).toBe(204);
    expect(String(ok.headers['access-control-allow-headers']).toLowerCase()).toContain('idempotency-key');
  });

  it('a 429 still carries CORS headers, so a browser can read it', async () => {
    const a = await app({ RATE_LIMIT_SEARCH_PER_MIN: '1' });
    const call = () => a.inject({ method: 'POST', url: SEARCH, payload: body, headers: { origin: 'https://chatgpt.com' } });
    expect((await call()).statusCode).toBe(200);
    const limited = await call();
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['access-control-allow-origin']).toBe('https://chatgpt.com');
  });
});

const HELMET_SET: [string, string][] = [
  // Listed from a real response of the helmet-based edge (helmet 8, this API's options) before it was replaced.
  ['content-security-policy', "default-src 'none';frame-ancestors 'none'"],
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['origin-agent-cluster', '?1'],
  ['referrer-policy', 'no-referrer'],
  ['strict-transport-security', 'max-age=31536000; includeSubDomains'],
  ['x-content-type-options', 'nosniff'],
  ['x-dns-prefetch-control', 'off'],
  ['x-download-options', 'noopen'],
  ['x-frame-options', 'SAMEORIGIN'],
  ['x-permitted-cross-domain-policies', 'none'],
  ['x-xss-protection', '0'],
];
const names = new Set(HELMET_SET.map(([n]) => n));

/** One request over a raw socket; the response's status line and header lines as sent, in order. */
function rawHead(base: URL, lines: readonly string[]): Promise<{ status: string; headers: [string, string][] }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(base.port), base.hostname);
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const [statusLine = '', ...headerLines] = data.slice(0, data.indexOf('\r\n\r\n')).split('\r\n');
      const headers = headerLines.map((line): [string, string] => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]);
      resolve({ status: statusLine.replace(/^HTTP\/1\.1 /, ''), headers });
    });
    socket.write(`${lines.join('\r\n')}${lines.includes('') ? '' : '\r\n\r\n'}`);
  });
}

describe('security headers', () => {
  it('sends HSTS for a year with subdomains, a deny-all CSP and nosniff, on errors too', async () => {
    const a = await app();
    for (const r of [await a.inject({ method: 'GET', url: '/health' }), await a.inject({ method: 'GET', url: '/missing' })]) {
      expect(r.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(r.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('issue 16: the static header set is what @fastify/helmet sent, byte for byte and in order — on 200, 404, 429, 401 and preflights', async () => {
    const a = await app({ RATE_LIMIT_SEARCH_PER_MIN: '1', ROUTERGPT_API_KEY: 'k'.repeat(32) }); // routergpt:allow-secret
    const auth = { authorization: `Bearer ${'k'.repeat(32)}` }; // routergpt:allow-secret
    const responses = [
      await a.inject({ method: 'GET', url: '/health' }),
      await a.inject({ method: 'GET', url: '/missing', headers: auth }),
      await a.inject({ method: 'POST', url: SEARCH, payload: body, headers: auth }),
      await a.inject({ method: 'POST', url: SEARCH, payload: body, headers: auth }),
      await a.inject({ method: 'POST', url: SEARCH, payload: body }),
      await a.inject({ method: 'OPTIONS', url: SEARCH, headers: { origin: 'https://chatgpt.com', 'access-control-request-method': 'POST' } }),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([200, 404, 200, 429, 401, 204]);
    for (const r of responses) {
      const seen = Object.entries(r.headers).filter(([n]) => names.has(n));
      expect(seen, `status ${r.statusCode}`).toEqual(HELMET_SET);
    }
  });

  it('issue 16: on a real socket the head carries the set once, first and in order — with what routes set in place, and on the edge answers', async () => {
    const a = await app({ RATE_LIMIT_SEARCH_PER_MIN: '1', ROUTERGPT_API_KEY: 'k'.repeat(32) }); // routergpt:allow-secret
    // A route that replaces one of the set (its value, the set's position), one that sets
    // headers on the raw response (Node's header map), one that writes the head itself, and
    // one that ends without writing a head (Node writes it).
    a.get('/framed', async (_request, reply) => reply.header('x-frame-options', 'DENY').send({ ok: true }));
    a.get('/raw-header', async (_request, reply) => {
      reply.raw.setHeader('X-Raw', 'yes');
      reply.raw.setHeader('referrer-policy', 'same-origin');
      return { ok: true };
    });
    a.get('/raw-head', (_request, reply) => {
      reply.hijack();
      reply.raw.writeHead(202, 'Taken', ['x-listed', 'one', 'content-length', '0']);
      reply.raw.end();
    });
    a.get('/implicit-head', (_request, reply) => {
      reply.hijack();
      reply.raw.statusCode = 200;
      reply.raw.end('plain');
    });
    const base = new URL(await a.listen({ port: 0, host: '127.0.0.1' }));
    const auth = `authorization: Bearer ${'k'.repeat(32)}`; // routergpt:allow-secret
    const heads = new Map<string, { status: string; headers: [string, string][] }>();
    for (const [label, lines] of [
      ['health', ['GET /health HTTP/1.1']],
      ['404', ['GET /missing HTTP/1.1', auth]],
      ['search', [`POST ${SEARCH} HTTP/1.1`, auth, 'content-type: application/json', `content-length: ${JSON.stringify(body).length}`, '', JSON.stringify(body)]],
      ['429', [`POST ${SEARCH} HTTP/1.1`, auth, 'content-type: application/json', `content-length: ${JSON.stringify(body).length}`, '', JSON.stringify(body)]],
      ['401', [`POST ${SEARCH} HTTP/1.1`, 'content-type: application/json', `content-length: ${JSON.stringify(body).length}`, '', JSON.stringify(body)]],
      ['preflight', [`OPTIONS ${SEARCH} HTTP/1.1`, 'origin: https://chatgpt.com', 'access-control-request-method: POST']],
      ['bad-url', ['GET /%zz HTTP/1.1']],
      ['framed', ['GET /framed HTTP/1.1', auth]],
      ['raw-header', ['GET /raw-header HTTP/1.1', auth]],
      ['raw-head', ['GET /raw-head HTTP/1.1', auth]],
      ['implicit-head', ['GET /implicit-head HTTP/1.1', auth]],
    ] as const) {
      heads.set(label, await rawHead(base, [lines[0], `host: ${base.host}`, 'connection: close', ...lines.slice(1)]));
    }
    expect([...heads].map(([label, h]) => `${label} ${h.status}`)).toEqual([
      'health 200 OK',
      '404 404 Not Found',
      'search 200 OK',
      '429 429 Too Many Requests',
      '401 401 Unauthorized',
      'preflight 204 No Content',
      'bad-url 400 Bad Request',
      'framed 200 OK',
      'raw-header 200 OK',
      'raw-head 202 Taken',
      'implicit-head 200 OK',
    ]);
    const expected: Record<string, [string, string][]> = {
      framed: HELMET_SET.map(([n, v]) => [n, n === 'x-frame-options' ? 'DENY' : v]),
      'raw-header': HELMET_SET.map(([n, v]) => [n, n === 'referrer-policy' ? 'same-origin' : v]),
    };
    for (const [label, { headers }] of heads) {
      // The set first, each name once.
      expect(headers.slice(0, HELMET_SET.length), label).toEqual(expected[label] ?? HELMET_SET);
      expect(headers.filter(([n]) => names.has(n.toLowerCase())), label).toHaveLength(HELMET_SET.length);
    }
    expect(heads.get('raw-header')!.headers[HELMET_SET.length]).toEqual(['X-Raw', 'yes']);
    expect(heads.get('raw-head')!.headers.slice(HELMET_SET.length, HELMET_SET.length + 2)).toEqual([['x-listed', 'one'], ['content-length', '0']]);
    // The route's own headers are still there after the set.
    expect(heads.get('health')!.headers.map(([n]) => n)).toEqual(expect.arrayContaining(['content-type', 'content-length', 'x-ratelimit-limit']));
  });
});

describe('HTTP → HTTPS redirect', () => {
  it('308s only when a trusted proxy reports X-Forwarded-Proto: http', async () => {
    const a = await app({ TRUSTED_PROXIES: '10.0.0.1', PUBLIC_API_BASE: 'https://api.example.com' });
    const via = (remoteAddress: string, proto?: string) =>
      a.inject({ method: 'POST', url: `${SEARCH}?x=1`, payload: body, remoteAddress, headers: { 'x-forwarded-for': '198.51.100.4', ...(proto ? { 'x-forwarded-proto': proto } : {}) } });

    const redirected = await via('10.0.0.1', 'http');
    expect(redirected.statusCode).toBe(308); // 308 keeps the method and body, unlike 301/302
    expect(redirected.headers.location).toBe(`https://api.example.com${SEARCH}?x=1`);
    expect(redirected.headers['x-ratelimit-limit']).toBeDefined();

    expect((await via('10.0.0.1', 'https')).statusCode).toBe(200);
    expect((await via('10.0.0.1')).statusCode).toBe(200);
    // Anyone else's X-Forwarded-Proto is ignored: it cannot bounce requests around.
    expect((await via('203.0.113.50', 'http')).statusCode).toBe(200);
    // A direct plain-http connection (local use, health probes) is served.
    expect((await a.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('regression: never redirects to a host the request names (open redirect); only to the configured host (real socket, loopback proxy)', async () => {
    // public_api_base is http: the redirect used to be built from Host / X-Forwarded-Host.
    const a = await app({ TRUSTED_PROXIES: 'loopback', PUBLIC_API_BASE: 'http://api.example.com:8787/v1' });
    const base = await a.listen({ port: 0, host: '127.0.0.1' });
    for (const headers of [{ 'x-forwarded-host': 'evil.example' }, { host: 'evil.example' }, {}]) {
      const r = await request(`${base}/health`, { headers: { 'x-forwarded-proto': 'http', 'x-forwarded-for': '198.51.100.4', ...headers } });
      await r.body.dump();
      expect(r.statusCode).toBe(308);
      expect(r.headers.location).toBe('https://api.example.com:8787/v1/health');
    }
    // A path that looks like a network-path reference stays a path on the configured host.
    const r = await request(`${base}//evil.example/x`, { headers: { 'x-forwarded-proto': 'http', 'x-forwarded-for': '198.51.100.4' } });
    await r.body.dump();
    expect(new URL(String(r.headers.location)).host).toBe('api.example.com:8787');
  });

  it('without trusted proxies, never redirects', async () => {
    const a = await app();
    const r = await a.inject({ method: 'GET', url: '/health', remoteAddress: '10.0.0.1', headers: { 'x-forwarded-proto': 'http', 'x-forwarded-for': '1.2.3.4' } });
    expect(r.statusCode).toBe(200);
  });
});

describe('Bearer API key', () => {
  it('is off when no key is configured', async () => {
    const a = await app();
    expect((await a.inject({ method: 'POST', url: SEARCH, payload: body })).statusCode).toBe(200);
  });

  it('refuses missing or wrong keys with 401, WWW-Authenticate and the error body; /health stays public', async () => {
    const a = await app({ ROUTERGPT_API_KEY: 'secret-key-abcdef' });
    for (const authorization of [undefined, 'Bearer nope', 'Basic c2VjcmV0LWtleS1hYmNkZWY=', 'Bearer secret-key-abcdefX', 'Bearer ']) {
      const r = await a.inject({ method: 'POST', url: SEARCH, payload: body, headers: authorization ? { authorization } : {} });
      expect(r.statusCode, String(authorization)).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="routergpt"');
      expect(r.headers['x-ratelimit-remaining']).toBeDefined();
      expect(r.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      expect(r.body).not.toContain('secret-key-abcdef');
    }
    expect((await a.inject({ method: 'POST', url: SEARCH, payload: body, headers: { authorization: 'Bearer secret-key-abcdef' } })).statusCode).toBe(200);
    expect((await a.inject({ method: 'POST', url: SEARCH, payload: body, headers: { authorization: 'bearer secret-key-abcdef' } })).statusCode).toBe(200);
    expect((await a.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await a.inject({ method: 'GET', url: '/health?verbose=1' })).statusCode).toBe(200);
    // Unknown routes are not revealed to unauthenticated callers.
    expect((await a.inject({ method: 'GET', url: '/admin' })).statusCode).toBe(401);
  });

  it('compares in constant time over digests (any length, no throw)', () => {
    expect(bearerTokenMatches('Bearer abc', 'abc')).toBe(true);
    expect(bearerTokenMatches('Bearer abcd', 'abc')).toBe(false);
    expect(bearerTokenMatches('Bearer ' + 'x'.repeat(10_000), 'abc')).toBe(false);
    expect(bearerTokenMatches(undefined, 'abc')).toBe(false);
    expect(bearerTokenMatches('abc', 'abc')).toBe(false);
  });
});

describe('regression: request bodies outside the contract get the documented status, with the edge headers', () => {
  it('a Content-Encoding other than identity is 415 (it was accepted and parsed as garbage)', async () => {
    const a = await app();
    for (const encoding of ['gzip', 'br', 'deflate, gzip', 'x-unknown']) {
      const r = await a.inject({ method: 'POST', url: SEARCH, payload: JSON.stringify(body), headers: { 'content-type': 'application/json', 'content-encoding': encoding } });
      expect(r.statusCode, encoding).toBe(415);
      expect(r.json().error.message).toContain('is not supported: send the body uncompressed');
      expect(r.headers['strict-transport-security']).toBeDefined();
    }
    const identity = await a.inject({ method: 'POST', url: SEARCH, payload: JSON.stringify(body), headers: { 'content-type': 'application/json', 'content-encoding': 'identity' } });
    expect(identity.statusCode).toBe(200);
  });
});
