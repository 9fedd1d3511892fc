/** The API checks' transport (src/checks/api/transport.ts) against a real loopback server. */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, send, TransportError } from '../../src/checks/api/transport.js';

let server: http.Server;
let base: string;
const seen: Array<{ method?: string; length?: string; body: string; address?: string }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, length: req.headers['content-length'], body, address: req.socket.remoteAddress });
      if (req.url === '/slow') return; // never answers
      if (req.url === '/dup') {
        res.writeHead(200, ['Content-Type', 'text/plain', 'Content-Type', 'text/html']).end('x');
        return;
      }
      if (req.url === '/redirect') {
        res.writeHead(301, { Location: 'https://example.test/' }).end();
        return;
      }
      res.setHeader('Vary', ['Origin', 'Accept']);
      res.writeHead(201, { 'Content-Type': 'application/json', 'X-Custom': 'yes' }).end(JSON.stringify({ échos: body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('send', () => {
  it('sends the body with its byte length and reads status, headers (any case, repeated ones joined) and UTF-8 text', async () => {
    const res = await send(`${base}/x`, undefined, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"q":"café"}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('X-CUSTOM')).toBe('yes');
    expect(res.headers.get('vary')).toBe('Origin, Accept');
    expect(res.headers.get('absent')).toBeNull();
    expect(JSON.parse(res.text)).toEqual({ échos: '{"q":"café"}' });
    expect(seen.at(-1)).toMatchObject({ method: 'POST', length: String(Buffer.byteLength('{"q":"café"}')) });
  });

  it('repeated values of any header are joined, as fetch joins them; an upper-case HTTPS scheme gets an https agent', async () => {
    const res = await send(`${base}/dup`, undefined, { method: 'GET', headers: {} });
    expect(res.headers.get('content-type')).toBe('text/plain, text/html');
    const agent = createAgent('HTTPS://api.example.com');
    expect(agent).toBeInstanceOf(https.Agent);
    agent.destroy();
  });

  it('does not follow a redirect, and binds the agent\'s local address', async () => {
    const agent = createAgent(base, '127.0.0.9');
    try {
      const res = await send(`${base}/redirect`, agent, { method: 'GET', headers: {} });
      expect([res.status, res.headers.get('location')]).toEqual([301, 'https://example.test/']);
      expect(seen.at(-1)!.address).toBe('127.0.0.9');
    } finally {
      agent.destroy();
    }
  });

  it('a refused connection is a TransportError with Node\'s code; an abort rejects with the signal\'s reason', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await send(`http://127.0.0.1:${port}/`, undefined, { method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransportError);
    expect((refused as TransportError).code).toBe('ECONNREFUSED');
    const controller = new AbortController();
    const pending = send(`${base}/slow`, undefined, { method: 'GET', headers: {}, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('check timed out')), 50);
    await expect(pending).rejects.toThrow('check timed out');
  });
});
