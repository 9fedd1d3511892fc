/**
 * SecureServerResponse (src/server/plugins/security-headers.ts) against what it replaced: a plain
 * ServerResponse whose twelve security headers were set by an onRequest hook before anything
 * else. Each case runs the same handler on two real HTTP servers on loopback and reads the raw
 * bytes off the socket: they must be the same (the Date line aside), including what Node throws
 * and what the getters answer. Then: the head Fastify writes takes the list path, not Node's
 * header map, and buildApp's server uses the class.
 */
import http, { ServerResponse, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS, SecureServerResponse } from '../../src/server/plugins/security-headers.js';
import { buildTestApp, createServerDb, listen, testConfig, type ServerDb } from './helpers.js';

type Handler = (res: ServerResponse) => void;

/** The head and body as sent, and what the handler reported (an error code, a getter's answer). */
async function exchange(kind: 'hook' | 'class', handler: Handler, method = 'GET'): Promise<string> {
  const notes: string[] = [];
  const server = http.createServer(kind === 'class' ? { ServerResponse: SecureServerResponse } : {}, (_req: IncomingMessage, res: ServerResponse) => {
    if (kind === 'hook') for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
    try {
      handler(res);
    } catch (error) {
      notes.push(`threw ${(error as { code?: string }).code}`);
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const bytes = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.write(`${method} / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
  });
  await new Promise((resolve) => server.close(resolve));
  return `${bytes.replace(/\r\nDate: [^\r]*/, '')}${notes.length ? `\n[${notes.join(', ')}]` : ''}`;
}

const errorCode = (fn: () => unknown): string => {
  try {
    fn();
    return 'none';
  } catch (error) {
    return String((error as { code?: string }).code);
  }
};

const CASES: Record<string, { handler: Handler; method?: string }> = {
  'a Fastify head (lowercase names)': { handler: (res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2', vary: 'Origin' }).end('{}') },
  'a head replacing one of the set': { handler: (res) => res.writeHead(200, { 'x-frame-options': 'DENY', 'content-length': '0' }).end() },
  'a head replacing one, with capitals': { handler: (res) => res.writeHead(200, { 'X-Frame-Options': 'DENY', 'Content-Length': '0' }).end() },
  'the same name twice in one head': { handler: (res) => res.writeHead(200, { 'X-A': '1', 'x-a': '2', 'content-length': '0' }).end() },
  '(status, undefined, headers)': { handler: (res) => res.writeHead(200, undefined, { 'content-type': 'text/plain', 'content-length': '2' }).end('ok') },
  '(status, null, headers)': { handler: (res) => res.writeHead(201, null as unknown as string, { 'content-length': '0', 'x-a': '1' }).end() },
  '(status, reason, headers)': { handler: (res) => res.writeHead(299, 'Fine', { 'content-length': '0' }).end() },
  'an array head': { handler: (res) => res.writeHead(202, ['x-listed', 'one', 'content-length', '0']).end() },
  'one of the set removed': { handler: (res) => (res.removeHeader('content-security-policy'), res.writeHead(200, { 'content-length': '0' }).end()) },
  'headers set on the response, then a head': { handler: (res) => (res.setHeader('X-Raw', 'yes'), res.setHeader('referrer-policy', 'same-origin'), res.writeHead(200, { 'content-length': '0' }).end()) },
  'getters before the head': {
    handler: (res) => {
      const seen = JSON.stringify([res.getHeader('Strict-Transport-Security'), res.hasHeader('x-frame-options'), res.getHeaderNames().length, Object.keys(res.getHeaders()).length, res.getHeader('content-type')]);
      res.writeHead(200, { 'content-length': String(seen.length) }).end(seen);
    },
  },
  'getters after the head': {
    handler: (res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
      res.end(JSON.stringify([res.getHeader('content-type'), res.getHeader('X-Frame-Options'), res.hasHeader('vary'), res.getHeaderNames(), res.getHeaders()['referrer-policy']]));
    },
  },
  'an undefined value': { handler: (res) => res.writeHead(500, { 'x-err': errorCode(() => res.writeHead(200, { 'x-frame-options': undefined, 'content-length': '0' })), 'content-length': '0' }).end() },
  'an empty name': { handler: (res) => res.writeHead(200, { '': 'x', 'content-length': '0' }).end() },
  'a bad value, then a retry': { handler: (res) => (errorCode(() => res.writeHead(200, { 'content-type': 'a/b', 'x-bad': 'a\nb', 'content-length': '1' })), res.writeHead(500).end('x')) },
  'a bad status, then a good one': { handler: (res) => (res.setHeader('x-a', errorCode(() => res.writeHead(1000, {}))), res.writeHead(200, { 'content-length': '0' }).end()) },
  'a head written twice': { handler: (res) => (res.writeHead(200, { 'content-length': '0' }), res.end(), res.writeHead(201, {})) },
  'no head: Node writes it': { handler: (res) => res.end('x') },
  'flushHeaders()': { handler: (res) => (res.flushHeaders(), res.end('x')) },
  'a streamed body': { handler: (res) => (res.setHeader('content-type', 'text/plain'), res.write('a'), res.end('b')) },
  '204 with a length': { handler: (res) => res.writeHead(204, { 'content-length': '5', 'content-type': 'x' }).end() },
  '304': { handler: (res) => res.writeHead(304, {}).end() },
  HEAD: { handler: (res) => res.writeHead(200, { 'content-length': '5' }).end('hello'), method: 'HEAD' },
  'Connection: close': { handler: (res) => res.writeHead(503, { connection: 'close', 'content-type': 'application/json', 'content-length': '2' }).end('{}') },
};

describe('SecureServerResponse sends what the onRequest hook sent', () => {
  for (const [name, { handler, method }] of Object.entries(CASES)) {
    it(name, async () => {
      const [before, now] = [await exchange('hook', handler, method), await exchange('class', handler, method)];
      expect(now).toBe(before);
      // Every case that writes a head carries the set.
      if (!before.includes('[threw')) expect(now).toMatch(/\r\nx-xss-protection: 0\r\n/);
    });
  }

  it('a head of lowercase names (what Fastify writes) is written from the list, with Node’s header map left unused', async () => {
    const mapNames: string[][] = [];
    const server = http.createServer({ ServerResponse: SecureServerResponse }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      mapNames.push(ServerResponse.prototype.getHeaderNames.call(res));
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/`);
    await response.text();
    await new Promise((resolve) => server.close(resolve));
    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    expect(mapNames).toEqual([[]]);
  });
});

describe("buildApp's server", () => {
  let sdb: ServerDb;
  let app: FastifyInstance;
  beforeAll(async () => {
    sdb = await createServerDb('sechdr');
  });
  afterAll(async () => {
    await app?.close();
    await sdb?.close();
  });

  it('answers with SecureServerResponse, the set on the response', async () => {
    app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url) });
    const classes: boolean[] = [];
    app.addHook('onSend', (_request, reply, payload, done) => {
      classes.push(reply.raw instanceof SecureServerResponse);
      done(null, payload);
    });
    const base = await listen(app);
    const response = await fetch(`${base}/health`);
    await response.text();
    expect(response.status).toBe(200);
    expect(classes).toEqual([true]);
    for (const [name, value] of SECURITY_HEADERS) expect(response.headers.get(name), name).toBe(value);
  });
});
