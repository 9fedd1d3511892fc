/**
 * `routergpt serve --env prod` as a real process: answers requests, and on SIGTERM under load
 * finishes every request in flight (0 failed), flushes analytics (one row per answered request)
 * and exits 0 within 10 s. Needs `npm run build`.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/db/seed.js';
import { spawnCli } from '../helpers/cli.js';
import { bySize } from '../helpers/fuzz-profile.js';
import { createServerDb, postJson, type ServerDb } from './helpers.js';

let sdb: ServerDb;
beforeAll(async () => {
  sdb = await createServerDb('serve');
  await seedDemo(sdb.pool);
});
afterAll(async () => {
  await sdb?.close();
});

describe('routergpt serve', () => {
  it('graceful-shutdown: SIGTERM under load → every in-flight request completes, 0 failed (each keep-alive connection closed after its response, not after keepAliveTimeout), analytics flushed (one row per answered request), exit 0 within 10 s', async () => {
    const child = spawnCli(['serve', '--env', 'prod', '--port', '0'], {
      env: { DATABASE_URL: sdb.db.url, RATE_LIMIT_SEARCH_PER_MIN: '1000', RATE_LIMIT_DELEGATE_PER_MIN: '1000', LOG_LEVEL: 'warn' },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let err = '';
        child.stderr!.on('data', (chunk: Buffer) => {
          err += chunk.toString();
          const m = /listening on (http:\/\/[^\s]+?) /.exec(err);
          if (m) resolve(m[1]!);
        });
        child.once('exit', () => reject(new Error(`serve exited early:\n${err}`)));
      });

      const searches = await Promise.all(Array.from({ length: 20 }, () => postJson(`${url}/router/search-by-location`, { latitude: 33.4255, longitude: -111.94, radius_miles: 10 })));
      expect(searches.every((r) => r.status === 200)).toBe(true);

      // Requests in flight: headers sent, the server has acknowledged them (100 Continue), bodies not yet sent.
      // One delegate (a write and a session) and a crowd of searches, each on its own keep-alive connection.
      const { port } = new URL(url);
      const inFlight = (route: string, payload: unknown) => {
        const body = JSON.stringify(payload);
        const socket = net.connect(Number(port), '127.0.0.1');
        let response = '';
        socket.on('data', (c) => (response += c.toString()));
        const continued = new Promise<void>((resolve) => socket.on('data', () => response.includes('100 Continue') && resolve()));
        const ended = new Promise<string>((resolve) => socket.on('close', () => resolve(response)));
        socket.on('error', () => {});
        socket.write(`POST ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`);
        return { continued, ended, send: () => socket.write(body) };
      };
      const delegate = inFlight('/router/delegate', { shop_slug: 'bishops-barbershop-tempe', intent: 'haircut' });
      const crowd = Array.from({ length: bySize(40, 400) }, () => inFlight('/router/search-by-location', { latitude: 33.4255, longitude: -111.94, radius_miles: 10 }));
      await Promise.all([delegate, ...crowd].map((r) => r.continued));

      // New requests keep coming while it shuts down: each is answered (200, or 503 while closing) or refused, never a 500.
      const late: Array<number | string> = [];
      let stopLate = false;
      const lateTraffic = Array.from({ length: 4 }, async () => {
        while (!stopLate) {
          late.push(await postJson(`${url}/router/search-by-location`, { latitude: 33.4255, longitude: -111.94, radius_miles: 10 }).then((r) => r.status, (e: Error) => String((e.cause as { code?: string } | undefined)?.code ?? e.message)));
          await new Promise((r) => setTimeout(r, 5));
        }
      });

      child.kill('SIGTERM');
      const signalled = Date.now();
      for (const r of [delegate, ...crowd]) r.send();
      // Each connection is closed after its response (Connection: close while closing), not after keepAliveTimeout.
      const response = await delegate.ended;
      expect(response).toMatch(/HTTP\/1\.1 201 Created/);
      expect(response).toMatch(/"session_id":"[0-9a-f-]{36}"/);
      const answers = await Promise.all(crowd.map((r) => r.ended));
      const failed = answers.filter((a) => !/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/.test(a));
      expect(failed.length, failed[0]?.slice(0, 300)).toBe(0);

      const result = await Promise.race([child, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000 - (Date.now() - signalled)))]);
      stopLate = true;
      await Promise.all(lateTraffic);
      expect(result).not.toBe('timeout');
      if (result === 'timeout') return;
      // Late requests were answered or refused at the socket (a closed listener, a closing keep-alive connection): no other status.
      expect(late.filter((x) => typeof x === 'number' && x !== 200 && x !== 503)).toEqual([]);
      const lateOk = late.filter((x) => x === 200).length;
      const late503 = late.filter((x) => x === 503).length;
      expect(result.exitCode, `${String(result.signal)} ${String(result.stderr)} ${String(result.stdout).slice(-3000)}`).toBe(0);
      expect(String(result.stderr)).toContain('stopped cleanly');

      const { rows } = await sdb.pool.query<{ event_type: string; n: number }>('SELECT event_type, count(*)::int AS n FROM router_analytics GROUP BY 1 ORDER BY 1');
      expect(rows).toEqual([
        { event_type: 'delegate', n: 1 },
        ...(late503 > 0 ? [{ event_type: 'error', n: late503 }] : []),
        { event_type: 'search', n: 20 + crowd.length + lateOk },
      ]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await child.catch(() => {});
    }
  });
});
