/**
 * `routergpt serve --env prod` as a real process: answers requests, and on SIGTERM finishes
 * the request in flight, flushes analytics and exits 0 within 10 s. Needs `npm run build`.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/db/seed.js';
import { spawnCli } from '../helpers/cli.js';
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
  it('graceful-shutdown: SIGTERM under traffic → in-flight request completes (its keep-alive connection closed after the response, not after keepAliveTimeout), analytics flushed, exit 0 within 10 s', async () => {
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

      // A request in flight: headers sent, the server has acknowledged them (100 Continue), body not yet sent.
      const { port } = new URL(url);
      const body = JSON.stringify({ shop_slug: 'bishops-barbershop-tempe', intent: 'haircut' });
      const socket = net.connect(Number(port), '127.0.0.1');
      let response = '';
      socket.on('data', (c) => (response += c.toString()));
      const continued = new Promise<void>((resolve) => socket.on('data', () => response.includes('100 Continue') && resolve()));
      socket.write(`POST /router/delegate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
      await continued;
      const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));

      child.kill('SIGTERM');
      const signalled = Date.now();
      socket.write(body);
      await ended;
      expect(response).toMatch(/HTTP\/1\.1 201 Created/);
      expect(response).toMatch(/"session_id":"[0-9a-f-]{36}"/);

      const result = await Promise.race([child, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000 - (Date.now() - signalled)))]);
      expect(result).not.toBe('timeout');
      if (result === 'timeout') return;
      expect(result.exitCode, `${String(result.signal)} ${String(result.stderr)} ${String(result.stdout).slice(-3000)}`).toBe(0);
      expect(String(result.stderr)).toContain('stopped cleanly');

      const { rows } = await sdb.pool.query<{ event_type: string; n: number }>('SELECT event_type, count(*)::int AS n FROM router_analytics GROUP BY 1 ORDER BY 1');
      expect(rows).toEqual([
        { event_type: 'delegate', n: 1 },
        { event_type: 'search', n: 20 },
      ]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await child.catch(() => {});
    }
  });
});
