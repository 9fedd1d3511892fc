/**
 * Issue 14, A12: responses outside the contract. Requests that never reach a route — CONNECT,
 * what Node's HTTP parser refuses, a URL that does not decode — and CORS preflights answered
 * before any route: each must be the API's JSON error with the rate-limit and security headers
 * every response carries. Sent as raw bytes on a real socket, as a client would.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEdgeTestApp, edgeConfig } from './edge-test-app.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  app = await buildEdgeTestApp(edgeConfig({ ROUTERGPT_API_KEY: 'k-edge-0123456789', ALLOWED_ORIGINS: 'https://chatgpt.com' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await app.close();
});

/** Write raw bytes, read until the server closes or a full response with its body has arrived. */
function raw(bytes: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 5 s; got ${JSON.stringify(data.slice(0, 200))}`));
    }, 5_000);
    const finish = () => {
      clearTimeout(timer);
      const split = data.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no complete response: ${JSON.stringify(data.slice(0, 200))}`));
      const [statusLine, ...headerLines] = data.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: data.slice(split + 4) });
    };
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const split = data.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(data.slice(0, split))?.[1];
      if (split >= 0 && length !== undefined && data.length - split - 4 >= Number(length)) {
        socket.destroy();
        finish();
      }
    });
    socket.on('close', () => (data.includes('\r\n\r\n') ? finish() : undefined));
    socket.on('error', () => undefined);
    socket.write(bytes);
  });
}

function expectEdgeHeaders(response: RawResponse): void {
  expect(response.headers['strict-transport-security']).toMatch(/max-age=31536000/);
  expect(response.headers['x-content-type-options']).toBe('nosniff');
  expect(response.headers['x-ratelimit-limit']).toMatch(/^\d+$/);
  expect(response.headers['x-ratelimit-remaining']).toMatch(/^\d+$/);
  expect(response.headers.ratelimit).toContain('r=');
}

function expectError(response: RawResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(response.body) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  expectEdgeHeaders(response);
}

describe('A12: answers outside the router carry the contract', () => {
  it('CONNECT is answered 405 method_not_allowed with Allow (it was no answer at all)', async () => {
    const r = await raw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expectError(r, 405, 'method_not_allowed');
    expect(r.headers.allow).toBe('GET, POST, OPTIONS');
  });

  it('a malformed percent-encoding is 400 bad_request in the API shape, not Fastify’s default body', async () => {
    const r = await raw('GET /router/search-by-location%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expectError(r, 400, 'bad_request');
    expect(r.body).not.toContain('FST_ERR');
  });

  it('a request line Node cannot parse is 400 bad_request with the headers', async () => {
    expectError(await raw('THIS IS NOT HTTP\r\n\r\n'), 400, 'bad_request');
    expectError(await raw('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello'), 400, 'bad_request');
  });

  it('headers over Node’s limit are 431 headers_too_large with the headers', async () => {
    const r = await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectError(r, 431, 'headers_too_large');
  });

  it('these answers spend the client’s budget like any request (remaining goes down)', async () => {
    const first = await raw('THIS IS NOT HTTP\r\n\r\n');
    const second = await raw('THIS IS NOT HTTP\r\n\r\n');
    expect(Number(second.headers['x-ratelimit-remaining'])).toBeLessThan(Number(first.headers['x-ratelimit-remaining']));
  });

  it('the stand-in route does not exist for a client (no token): 404, and it needs no API key to say so', async () => {
    const r = await raw('GET /__edge-answer HTTP/1.1\r\nHost: x\r\nX-Routergpt-Edge-Kind: connect\r\nConnection: close\r\n\r\n');
    expectError(r, 404, 'not_found');
  });
});

describe('A12: an edge answer ends its connection', () => {
  it('the server closes the socket after answering CONNECT or a parser error, though the client never closes its side', async () => {
    for (const bytes of ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 'THIS IS NOT HTTP\r\n\r\n']) {
      const socket = net.connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString('latin1')));
      socket.write(bytes);
      // The client never calls end(): the server must close (it used to leave the socket half-open forever).
      const closed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 4_000);
        socket.on('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      socket.destroy();
      expect(closed, JSON.stringify(bytes)).toBe(true);
      expect(data).toMatch(/^HTTP\/1\.1 (405|400) /);
    }
    const open = await new Promise<number>((resolve, reject) => app.server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    expect(open).toBe(0);
  });
});

describe('A12: Content-Encoding', () => {
  it('a request without a body is served whatever Content-Encoding it names (the fuzz suite found GET /health refused with 415)', async () => {
    const r = await raw('GET /health HTTP/1.1\r\nHost: x\r\nContent-Encoding: x-unknown\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(200);
    const withBody = await raw('POST /chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    expectError(withBody, 415, 'unsupported_media_type');
  });
});

describe('A12: CORS preflights', () => {
  const preflight = (origin: string) =>
    raw(`OPTIONS /router/search-by-location HTTP/1.1\r\nHost: x\r\nOrigin: ${origin}\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n`);

  it('an allowed origin’s preflight carries HSTS and the security headers (they were missing)', async () => {
    const r = await preflight('https://chatgpt.com');
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe('https://chatgpt.com');
    expectEdgeHeaders(r);
  });

  it('a disallowed origin’s preflight is 403 origin_not_allowed, not 404, and allows nothing', async () => {
    const r = await preflight('https://evil.example');
    expectError(r, 403, 'origin_not_allowed');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('an OPTIONS over the budget is 429 like any request (it was answered 204/403 for free)', async () => {
    const small = await buildEdgeTestApp(edgeConfig(), { rateLimit: { fallbackPerMinute: 2 } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await small.inject({ method: 'OPTIONS', url: '/router/search-by-location' })).statusCode);
      expect(statuses).toEqual([204, 204, 429]);
      expect((await small.inject({ method: 'OPTIONS', url: '/chat', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })).statusCode).toBe(429);
    } finally {
      await small.close();
    }
  });

  it('an OPTIONS without Origin is 204 with Allow; an allowed origin without a request method is 204, not text/plain 400', async () => {
    const plain = await raw('OPTIONS /router/search-by-location HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(plain.status).toBe(204);
    expect(plain.headers.allow).toBe('GET, POST, OPTIONS');
    expectEdgeHeaders(plain);
    const loose = await raw('OPTIONS /chat HTTP/1.1\r\nHost: x\r\nOrigin: https://chatgpt.com\r\nConnection: close\r\n\r\n');
    expect(loose.status).toBe(204);
    expect(loose.headers['access-control-allow-origin']).toBe('https://chatgpt.com');
  });
});
