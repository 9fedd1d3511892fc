/**
 * Issue 14, A12 — while the database is down, router routes answered 500 `internal` ("this is a
 * bug") instead of 503 with Retry-After. The real server with a real pg pool aimed at a port
 * nothing listens on: every query fails to connect.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.js';
import { isDatabaseUnreachable } from '../../src/server/plugins/error-handler.js';
import { freePort } from '../helpers/pg-cluster.js';
import { buildTestApp, listen, postJson, testConfig } from './helpers.js';

let pool: Pool;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  const url = `postgres://postgres@127.0.0.1:${await freePort()}/none`;
  pool = createPool({ connectionString: url, max: 2, connectionTimeoutMillis: 500 });
  app = await buildTestApp({ pool, config: testConfig(url), analytics: { flushIntervalMs: 3_600_000 } });
  base = await listen(app);
}, 60_000);
afterAll(async () => {
  await app?.close();
  await pool?.end();
});

describe('regression: a database that cannot be reached is 503 unavailable with Retry-After, not a 500', () => {
  for (const [path, body] of [
    ['/router/search-by-location', { latitude: 33.42, longitude: -111.94 }],
    ['/router/delegate', { shop_slug: 'test-barber' }],
    ['/chat', { session_id: '00000000-0000-4000-8000-000000000000', message: 'hi' }],
  ] as const) {
    it(`POST ${path}`, async () => {
      const r = await postJson(`${base}${path}`, body);
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ error: { code: 'unavailable', message: expect.stringContaining('cannot reach its database') } });
      expect(r.headers.get('retry-after')).toBe('5');
      expect(r.headers.get('x-ratelimit-limit')).not.toBeNull();
    });
  }

  it('tells a lost connection from a failed query', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '08006']) expect(isDatabaseUnreachable({ code }), code).toBe(true);
    expect(isDatabaseUnreachable(new Error('Connection terminated unexpectedly'))).toBe(true);
    for (const code of ['23505', '22P02', '42P01']) expect(isDatabaseUnreachable({ code }), code).toBe(false);
  });
});
