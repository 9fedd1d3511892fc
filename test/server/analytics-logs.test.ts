/** Batched analytics (flushed on close), tagged logs, redaction, and 500s that leak nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsWriter } from '../../src/server/analytics/writer.js';
import { createLogger } from '../../src/server/logger.js';
import type { Pool } from '../../src/db/pool.js';
import { buildTestApp, createServerDb, FIXED_NOW, insertTestShop, listen, LogCapture, postJson, testConfig, type ServerDb } from './helpers.js';

let sdb: ServerDb;
beforeAll(async () => {
  sdb = await createServerDb('analytics');
  await insertTestShop(sdb.pool);
});
afterAll(async () => {
  await sdb?.close();
});

const countEvents = async (type?: string) =>
  (await sdb.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM router_analytics ${type ? 'WHERE event_type = $1' : ''}`, type ? [type] : [])).rows[0]!.n;

describe('analytics', () => {
  it('N requests then app.close() → N rows, although the timer never fired (flush on close)', async () => {
    await sdb.pool.query('DELETE FROM router_analytics');
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), analytics: { flushIntervalMs: 3_600_000, maxBatch: 1000 } });
    const url = await listen(app);
    const searches = await Promise.all(Array.from({ length: 7 }, () => postJson(`${url}/router/search-by-location`, { latitude: 33.4255, longitude: -111.94 })));
    const delegation = await postJson(`${url}/router/delegate`, { shop_slug: 'test-barber', search_id: searches[0]!.body.search_id });
    expect(await countEvents()).toBe(0); // buffered, not yet written
    await app.close();
    expect(await countEvents('search')).toBe(7);
    expect(await countEvents('delegate')).toBe(1);
    const { rows } = await sdb.pool.query(`SELECT payload, latency_ms, search_id FROM router_analytics WHERE event_type = 'search' LIMIT 1`);
    expect(Array.isArray(rows[0].payload.shop_ids)).toBe(true);
    expect(rows[0].latency_ms).toBeGreaterThanOrEqual(0);
    const d = await sdb.pool.query(`SELECT session_id, search_id FROM router_analytics WHERE event_type = 'delegate'`);
    expect(d.rows[0]).toEqual({ session_id: delegation.body.session_id, search_id: searches[0]!.body.search_id });
  });

  it('chat messages and bookings write events with the session and shop', async () => {
    await sdb.pool.query('DELETE FROM router_analytics');
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), clock: () => FIXED_NOW });
    const url = await listen(app);
    const s = (await postJson(`${url}/router/delegate`, { shop_slug: 'test-barber' })).body.session_id;
    const res = await postJson(`${url}/chat`, { session_id: s, message: 'a haircut on Friday at 11am for Sam' });
    expect(res.body.booking).not.toBeNull();
    await app.close();
    const { rows } = await sdb.pool.query(`SELECT event_type, session_id FROM router_analytics ORDER BY id`);
    expect(rows.map((r) => r.event_type).sort()).toEqual(['booking', 'chat_message', 'delegate']);
    expect(new Set(rows.map((r) => r.session_id))).toEqual(new Set([s]));
  });

  it('writes 250 events as 3 multi-row INSERTs (batches of 100)', async () => {
    await sdb.pool.query('DELETE FROM router_analytics');
    let inserts = 0;
    const counting = { query: (text: string, values?: unknown[]) => ((inserts += text.startsWith('INSERT') ? 1 : 0), sdb.pool.query(text, values)) } as unknown as Pool;
    const writer = createAnalyticsWriter(counting, createLogger({ level: 'silent' }), { flushIntervalMs: 3_600_000, maxBatch: 100 });
    for (let i = 0; i < 250; i++) writer.record({ eventType: 'search', latencyMs: i, payload: { shop_ids: [] } });
    await writer.close();
    expect(inserts).toBe(3);
    expect(await countEvents('search')).toBe(250);
  });
});

describe('logs', () => {
  it('tags [ROUTER], [BOOKING] and [ANALYTICS] lines', async () => {
    const capture = new LogCapture();
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), clock: () => FIXED_NOW, logger: { destination: capture } });
    const url = await listen(app);
    await postJson(`${url}/router/search-by-location`, { latitude: 33.4255, longitude: -111.94 });
    const s = (await postJson(`${url}/router/delegate`, { shop_slug: 'test-barber' })).body.session_id;
    await postJson(`${url}/chat`, { session_id: s, message: 'a beard trim on Saturday at 4pm for Sam' });
    await app.close();
    const msgs = capture.messages();
    expect(msgs.some((m) => m.startsWith('[ROUTER] search found'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('[ROUTER] delegated to test-barber'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('[BOOKING] booking confirmed'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('[ANALYTICS] wrote'))).toBe(true);
  });

  it('redacts authorization headers and masks secret values in messages', () => {
    const capture = new LogCapture();
    const log = createLogger({ destination: capture, secrets: ['sk-test-secret-123'] });
    log.info({ req: { headers: { authorization: 'Bearer abc', host: 'x' } }, apiKey: 'k-1' }, 'calling with sk-test-secret-123');
    log.error({ err: new Error('upstream said sk-test-secret-123 is wrong') }, 'failed');
    expect(capture.raw).not.toContain('Bearer abc');
    expect(capture.raw).not.toContain('sk-test-secret-123');
    expect(capture.raw).not.toContain('k-1');
    expect(capture.lines[0]).toMatchObject({ req: { headers: { authorization: '[Redacted]', host: 'x' } }, msg: 'calling with [Redacted]' });
  });

  it('a crash inside a route is a 500 without stack or SQL in the body, logged with the stack', async () => {
    const capture = new LogCapture();
    const app = await buildTestApp({
      pool: sdb.pool,
      config: testConfig(sdb.db.url),
      logger: { destination: capture },
      assistant: {
        name: 'broken',
        respond: async () => {
          throw new Error('syntax error at or near "FROM" in SELECT * FROM secret_table');
        },
      },
    });
    const url = await listen(app);
    const s = (await postJson(`${url}/router/delegate`, { shop_slug: 'test-barber' })).body.session_id;
    const res = await postJson(`${url}/chat`, { session_id: s, message: 'hello' });
    await app.close();
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('internal');
    expect(JSON.stringify(res.body)).not.toMatch(/SELECT|secret_table|at .*\.js/);
    const line = capture.lines.find((l) => String(l.msg).includes('unhandled error'));
    expect((line?.err as { stack?: string } | undefined)?.stack).toMatch(/secret_table[\s\S]*at /);
  });
});
