/**
 * Issue 14, A1 — one request could stop all analytics writes: a search whose `category` held a
 * lone UTF-16 surrogate was answered 200, PostgreSQL refused its event's jsonb (22P02), the failed
 * batch went back to the head of the buffer and every later event waited behind it. The same
 * surrogates in delegate `intent` or chat `customer_name` were a 500. Real servers on loopback,
 * real PostgreSQL.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsWriter, isDataError } from '../../src/server/analytics/writer.js';
import { unstorableText } from '../../src/server/plugins/storable-text.js';
import { buildTestApp, createServerDb, insertTestShop, listen, testConfig, type ServerDb, type TestShop } from './helpers.js';

let sdb: ServerDb;
let shop: TestShop;
let app: FastifyInstance;
let base: string;

/** POST a body written by hand, so the escapes reach the server exactly as a hostile client sends them. */
async function postRaw(path: string, json: string): Promise<{ status: number; body: { error?: { code: string; message: string; fields?: Array<{ field: string }> } } }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
  return { status: res.status, body: (await res.json()) as never };
}

beforeAll(async () => {
  sdb = await createServerDb('hostile');
  shop = await insertTestShop(sdb.pool);
  app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), analytics: { flushIntervalMs: 3_600_000 }, rateLimit: { fallbackPerMinute: 100_000 } });
  base = await listen(app);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await sdb?.close();
});

describe('regression: text PostgreSQL cannot store is refused at the edge (422), on every route', () => {
  const cases: Array<[string, string, string]> = [
    ['search category, lone high surrogate', '/router/search-by-location', '{"latitude": 33.4255, "longitude": -111.94, "category": "\\ud800"}'],
    ['search category, lone low surrogate after text', '/router/search-by-location', '{"latitude": 33.4255, "longitude": -111.94, "category": "barber\\udfff"}'],
    ['delegate intent', '/router/delegate', '{"shop_slug": "test-barber", "intent": "a trim \\ud83d"}'],
    ['delegate intent with NUL', '/router/delegate', '{"shop_slug": "test-barber", "intent": "a\\u0000b"}'],
    ['chat customer_name', '/chat', '{"session_id": "00000000-0000-4000-8000-000000000000", "message": "hi", "customer_name": "\\udc00Pat"}'],
    ['feedback comment', '/router/feedback', '{"session_id": "00000000-0000-4000-8000-000000000000", "rating": 5, "comment": "\\ud800"}'],
    ['a key, nested', '/router/search-by-location', '{"latitude": 33.4255, "longitude": -111.94, "extra": {"\\ud800": 1}}'],
  ];
  for (const [name, path, json] of cases) {
    it(`${name} → 422 validation_failed naming the field`, async () => {
      const res = await postRaw(path, json);
      expect(res.status).toBe(422);
      expect(res.body.error?.code).toBe('validation_failed');
      expect(res.body.error?.message).toMatch(/cannot store/);
    });
  }

  it('a well-formed surrogate pair (an emoji) is text like any other', async () => {
    const res = await postRaw('/router/delegate', `{"shop_slug": "${shop.slug}", "intent": "a trim \\ud83d\\udc88"}`);
    expect(res.status).toBe(201);
  });

  it('after a refused request, analytics keep flowing: the next search is written', async () => {
    await sdb.pool.query('DELETE FROM router_analytics');
    expect((await postRaw('/router/search-by-location', '{"latitude": 33.4255, "longitude": -111.94, "category": "\\ud800"}')).status).toBe(422);
    expect((await postRaw('/router/search-by-location', '{"latitude": 33.4255, "longitude": -111.94}')).status).toBe(200);
    await app.rgpt.analytics.flush();
    const { rows } = await sdb.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM router_analytics WHERE event_type = 'search'`);
    expect(rows[0]!.n).toBe(1);
    expect(app.rgpt.analytics.stats()).toMatchObject({ buffered: 0, rejected: 0 });
  });

  it('regression (found by the fuzz suite): a body nested 5,000 deep is 422, not a 500 from a stack overflow', async () => {
    for (const path of ['/chat', '/router/search-by-location', '/router/delegate']) {
      const res = await postRaw(path, `${'['.repeat(5_000)}${']'.repeat(5_000)}`);
      expect(res.status, path).toBe(422);
      expect(res.body.error?.code).toBe('validation_failed');
    }
    const deepField = await postRaw('/chat', `{"session_id": "00000000-0000-4000-8000-000000000000", "message": ${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}}`);
    expect(deepField.status).toBe(422);
    expect(deepField.body.error?.message).toContain('nested too deeply');
  });

  it('regression (found by the fuzz suite): a path the API does not have is 404 even when its body is malformed JSON (it was 422)', async () => {
    const res = await postRaw('/router/delegate//x', '{');
    expect(res.status).toBe(404);
    expect(res.body.error?.code).toBe('not_found');
  });

  it('unstorableText names the path of the first bad string', () => {
    expect(unstorableText({ a: [{ b: 'ok' }, { c: 'x\u0000' }] })?.field).toBe('a[1].c');
    expect(unstorableText({ a: ['fine', '\u{1F488}'] })).toBeUndefined();
  });
});

describe('regression: a batch PostgreSQL refuses for one event\'s content drops only that event; the queue never stalls', () => {
  it('ten events with one unstorable payload: nine written, one rejected and logged, later events written', async () => {
    await sdb.pool.query('DELETE FROM router_analytics');
    const lines: Array<{ msg: string; level: number }> = [];
    const sink = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); done(); } });
    // The writer is the server's own, on the real database: what a route records reaches it as is.
    const writer = createAnalyticsWriter(sdb.pool, pino({ level: 'info' }, sink), { flushIntervalMs: 3_600_000, maxBatch: 100 });
    try {
      for (let i = 0; i < 10; i++) writer.record({ eventType: 'search', latencyMs: i, payload: i === 6 ? { category: '\ud800' } : { i } });
      await writer.flush();
      expect(writer.stats()).toMatchObject({ buffered: 0, written: 9, rejected: 1, dropped: 0 });
      writer.record({ eventType: 'delegate', latencyMs: 1 });
      await writer.flush();
      const { rows } = await sdb.pool.query<{ event_type: string; latency_ms: number }>('SELECT event_type, latency_ms FROM router_analytics ORDER BY id');
      expect(rows.map((r) => r.latency_ms)).toEqual([0, 1, 2, 3, 4, 5, 7, 8, 9, 1]);
      expect(lines.filter((l) => l.level === 50 && /dropped one search event PostgreSQL refuses to store/.test(l.msg))).toHaveLength(1);
    } finally {
      await writer.close();
    }
  });

  it('only errors about the data split a batch: a connection error is retried whole', () => {
    expect(isDataError({ code: '22P02' })).toBe(true);
    expect(isDataError({ code: '23505' })).toBe(true);
    expect(isDataError({ code: '54000' })).toBe(true);
    expect(isDataError({ code: 'ECONNREFUSED' })).toBe(false);
    expect(isDataError({ code: '57P01' })).toBe(false);
    expect(isDataError(new Error('x'))).toBe(false);
  });
});
