/**
 * Issue 14, A3 — a tiny latitude (5e-324) was a 500 ("value out of range: underflow" from
 * radians()). Every value inside the documented ranges must be searchable: the search works at
 * 7 decimal places of a degree, so values below that are the same place. Real server, real PostgreSQL.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createServerDb, insertTestShop, listen, testConfig, type ServerDb } from './helpers.js';

let sdb: ServerDb;
let app: FastifyInstance;
let base: string;

async function search(json: string): Promise<{ status: number; body: { count?: number; query?: Record<string, number>; results?: Array<{ slug: string }> } }> {
  const res = await fetch(`${base}/router/search-by-location`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
  return { status: res.status, body: (await res.json()) as never };
}

beforeAll(async () => {
  sdb = await createServerDb('floats');
  // A shop on Null Island: the query's tiny offsets from it are what underflowed in power().
  await insertTestShop(sdb.pool, 'null-island', 0, 0);
  app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), analytics: { flushIntervalMs: 3_600_000 }, rateLimit: { fallbackPerMinute: 100_000 } });
  base = await listen(app);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await sdb?.close();
});

describe('regression: float extremes inside the documented ranges are searched, never a 500', () => {
  for (const [name, json] of [
    ['latitude 5e-324 (the smallest double)', '{"latitude": 5e-324, "longitude": 0}'],
    ['longitude -5e-324', '{"latitude": 0, "longitude": -5e-324}'],
    ['both 1e-200 near a shop at exactly 0,0', '{"latitude": 1e-200, "longitude": 1e-200, "radius_miles": 1}'],
    ['radius_miles 5e-324', '{"latitude": 0, "longitude": 0, "radius_miles": 5e-324}'],
    ['-0', '{"latitude": -0, "longitude": -0.0}'],
  ] as const) {
    it(`${name} → 200, and the shop at 0,0 found`, async () => {
      const res = await search(json);
      expect(res.status).toBe(200);
      expect(res.body.results?.map((r) => r.slug)).toEqual(['null-island']);
    });
  }

  it('the query echoed is the one searched (7 decimal places, radius at least 1e-6)', async () => {
    const res = await search('{"latitude": 5e-324, "longitude": 12.345678912, "radius_miles": 5e-324}');
    expect(res.status).toBe(200);
    expect(res.body.query).toMatchObject({ latitude: 0, longitude: 12.3456789, radius_miles: 1e-6 });
    expect(Object.is(res.body.query!.latitude, -0)).toBe(false);
  });

  it('the range ends stay valid and one past them is 422', async () => {
    expect((await search('{"latitude": 90, "longitude": 180, "radius_miles": 50}')).status).toBe(200);
    expect((await search('{"latitude": -90, "longitude": -180}')).status).toBe(200);
    expect((await search('{"latitude": 90.0000001, "longitude": 0}')).status).toBe(422);
    expect((await search('{"latitude": 1e309, "longitude": 0}')).status).toBe(422);
  });
});
