/**
 * Every router request leaves exactly one trace (docs/metrics.md#what-the-server-records): a
 * success event, an `error` event (5xx) or a refusal count (4xx, 429, the toggle's 503).
 * Real servers (buildApp on loopback sockets), real PostgreSQL, real Redis for the shared limits.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Logger } from 'pino';
import { readSyntheticKey } from '../../src/db/synthetic-key.js';
import { clientHmac } from '../../src/server/analytics/client-hmac.js';
import { createRefusalCounter, OVERFLOW_CLIENT } from '../../src/server/analytics/refusals.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { buildTestApp, createServerDb, FIXED_NOW, insertTestShop, listen, postJson, testConfig, type ServerDb, type TestShop } from './helpers.js';

const SEARCH = '/router/search-by-location';
const TEMPE = { latitude: 33.4255, longitude: -111.94, radius_miles: 10 };
/** The request count per route exactly as docs/metrics.md writes it (its first SQL block), with :from/:to as $1/$2. */
function documentedRequestsSql(): string {
  const text = readFileSync(path.join(REPO_ROOT, 'docs', 'metrics.md'), 'utf8');
  const section = text.slice(text.indexOf('## What the server records'));
  const sql = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
  if (!sql) throw new Error('docs/metrics.md has no SQL block under "## What the server records"');
  return sql.replaceAll(':from', '$1').replaceAll(':to', '$2');
}

let sdb: ServerDb;
let shop: TestShop;
let syntheticKey: string;
const apps: FastifyInstance[] = [];

async function serve(env: Record<string, string> = {}, extra: Parameters<typeof buildTestApp>[0] extends infer D ? Partial<D> : never = {}): Promise<{ base: string; app: FastifyInstance }> {
  const app = await buildTestApp({
    pool: sdb.pool,
    config: testConfig(sdb.db.url, env),
    clock: () => FIXED_NOW,
    analytics: { flushIntervalMs: 3_600_000 },
    rateLimit: { fallbackPerMinute: 100_000, keyPrefix: `rgpt-test:${randomBytes(6).toString('hex')}:` },
    ...extra,
  });
  apps.push(app);
  return { base: await listen(app), app };
}

async function flush(app: FastifyInstance): Promise<void> {
  await Promise.all([app.rgpt.analytics.flush(), app.rgpt.refusals.flush()]);
}

async function refusals() {
  const { rows } = await sdb.pool.query<{ minute: Date; route: string; policy: string; status: number; client_hmac: string; synthetic: boolean; release: string; host: string; count: number }>(
    'SELECT minute, route, policy, status, client_hmac, synthetic, release, host, count FROM router_refusals ORDER BY route, status, policy',
  );
  return rows;
}

async function events(type?: string) {
  const { rows } = await sdb.pool.query<{ event_type: string; session_id: string | null; shop_id: string | null; latency_ms: number | null; payload: Record<string, unknown>; synthetic: boolean }>(
    `SELECT event_type, session_id::text, shop_id::text, latency_ms, payload, synthetic FROM router_analytics ${type ? 'WHERE event_type = $1' : ''} ORDER BY id`,
    type ? [type] : [],
  );
  return rows;
}

beforeAll(async () => {
  sdb = await createServerDb('outcomes');
  shop = await insertTestShop(sdb.pool);
  syntheticKey = (await readSyntheticKey(sdb.pool))!;
}, 60_000);

beforeEach(async () => {
  await sdb.pool.query('DELETE FROM router_analytics; DELETE FROM router_refusals; DELETE FROM router_feedback');
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await sdb?.close();
});

describe('5xx', () => {
  it('a 5xx is one error event with payload.route and payload.status, and no refusal', async () => {
    const { base, app } = await serve();
    // A real fault: the services table is gone, so the delegate route fails inside.
    await sdb.pool.query('ALTER TABLE services RENAME TO services_gone');
    try {
      const res = await postJson(`${base}/router/delegate`, { shop_slug: shop.slug });
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('internal');
    } finally {
      await sdb.pool.query('ALTER TABLE services_gone RENAME TO services');
    }
    await flush(app);
    const errors = await events('error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.payload).toMatchObject({ route: '/router/delegate', status: 500, method: 'POST' });
    expect(errors[0]!.latency_ms).not.toBeNull();
    expect(await events('delegate')).toEqual([]);
    expect(await refusals()).toEqual([]);
  });

  it("the toggle's deliberate 503 is a refusal with status 503, never an error event", async () => {
    const { base, app } = await serve({ ENABLE_ROUTER_GPT: 'false' });
    for (const [path, body] of [[SEARCH, TEMPE], ['/router/delegate', { shop_slug: shop.slug }], ['/chat', { session_id: randomUUIDv4(), message: 'hi' }], ['/router/feedback', { session_id: randomUUIDv4(), rating: 5 }]] as const) {
      const res = await postJson(`${base}${path}`, body);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('router_disabled');
    }
    await flush(app);
    expect(await events()).toEqual([]);
    const rows = await refusals();
    expect(rows.map((r) => [r.route, r.status, r.count])).toEqual([
      ['/chat', 503, 1],
      ['/router/delegate', 503, 1],
      ['/router/feedback', 503, 1],
      ['/router/search-by-location', 503, 1],
    ]);
  });

  it("the feature_flags row's 503 is a refusal too", async () => {
    const { base, app } = await serve({}, { flagTtlMs: 0 });
    await sdb.pool.query(`UPDATE feature_flags SET enabled = false, updated_by = 'outcomes test' WHERE key = 'router_gpt'`);
    try {
      expect((await postJson(`${base}${SEARCH}`, TEMPE)).status).toBe(503);
    } finally {
      await sdb.pool.query(`UPDATE feature_flags SET enabled = true WHERE key = 'router_gpt'`);
    }
    await flush(app);
    expect(await events('error')).toEqual([]);
    expect((await refusals()).map((r) => [r.route, r.status, r.count])).toEqual([[SEARCH, 503, 1]]);
  });
});

function randomUUIDv4(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

describe('4xx and 429 are counted, not written one by one', () => {
  for (const store of ['memory', 'redis'] as const) {
    it(`a burst of 300 429s (${store} limits) is a handful of rows whose counts sum to 300, with no raw address in the table`, async () => {
      const env: Record<string, string> = { RATE_LIMIT_SEARCH_PER_MIN: '2', ...(store === 'redis' ? { REDIS_URL: inject('redisUrl') } : {}) };
      const { base, app } = await serve(env, { release: 'v-outcomes' });
      expect(app.rateLimitStatus().store).toBe(store);
      const statuses: number[] = [];
      for (let wave = 0; wave < 302 / 50 + 1; wave++) {
        const n = Math.min(50, 302 - statuses.length);
        statuses.push(...(await Promise.all(Array.from({ length: n }, async () => (await postJson(`${base}${SEARCH}`, TEMPE)).status))));
      }
      expect(statuses.filter((s) => s === 200)).toHaveLength(2);
      expect(statuses.filter((s) => s === 429)).toHaveLength(300);
      await flush(app);
      const rows = await refusals();
      // One client, one minute (the app's clock), one route, one policy, one status: one row.
      expect(rows).toEqual([
        { minute: new Date(Math.floor(FIXED_NOW.getTime() / 60_000) * 60_000), route: SEARCH, policy: 'search', status: 429, client_hmac: clientHmac(syntheticKey, 'ip:127.0.0.1'), synthetic: false, release: 'v-outcomes', host: hostname(), count: 300 },
      ]);
      expect(rows[0]!.client_hmac).toMatch(/^[0-9a-f]{32}$/);
      const { rows: leaks } = await sdb.pool.query(`SELECT count(*)::int AS n FROM router_refusals r WHERE row_to_json(r)::text ~ '127\\.0\\.0\\.1|::1|localhost'`);
      expect(leaks[0].n).toBe(0);
      expect((await events()).map((e) => e.event_type)).toEqual(['search', 'search']);
      // The same client delegating opens a session under the same HMAC (migration 013): the daily
      // review's "limited clients who later booked" joins the two.
      const delegated = await postJson(`${base}/router/delegate`, { shop_slug: shop.slug });
      expect(delegated.status).toBe(201);
      const { rows: [session] } = await sdb.pool.query<{ client_hmac: string }>('SELECT client_hmac FROM chat_sessions WHERE id = $1', [(delegated.body as { session_id: string }).session_id]);
      expect(session!.client_hmac).toBe(rows[0]!.client_hmac);
    });
  }

  it('a 422 and a 404 on each route are counted under the route and its policy', async () => {
    const { base, app } = await serve();
    const sent: Array<[string, unknown, number]> = [
      [SEARCH, { latitude: 91, longitude: 0 }, 422],
      ['/router/delegate', { shop_slug: 'Not A Slug' }, 422],
      ['/router/delegate', { shop_slug: 'no-such-shop' }, 404],
      ['/router/delegate', { shop_slug: 'no-such-shop' }, 404],
      ['/chat', { session_id: randomUUIDv4(), message: 'hi' }, 404],
      ['/chat', { session_id: 'nope', message: '' }, 422],
      ['/router/feedback', { session_id: randomUUIDv4(), rating: 4 }, 404],
      ['/router/feedback', { session_id: randomUUIDv4(), rating: 0 }, 422],
    ];
    for (const [path, body, status] of sent) expect((await postJson(`${base}${path}`, body)).status).toBe(status);
    await flush(app);
    expect((await refusals()).map((r) => [r.route, r.policy, r.status, r.count])).toEqual([
      ['/chat', 'default', 404, 1],
      ['/chat', 'default', 422, 1],
      ['/router/delegate', 'delegate', 404, 2],
      ['/router/delegate', 'delegate', 422, 1],
      ['/router/feedback', 'delegate', 404, 1],
      ['/router/feedback', 'delegate', 422, 1],
      [SEARCH, 'search', 422, 1],
    ]);
    expect(await events()).toEqual([]);
  });

  it('a 401 (API key), 413 (body too large) and 415 (not JSON) are refusals too', async () => {
    const { base, app } = await serve({ ROUTERGPT_API_KEY: 'outcomes-key-123' });
    expect((await postJson(`${base}${SEARCH}`, TEMPE)).status).toBe(401);
    const auth = { authorization: 'Bearer outcomes-key-123' };
    expect((await postJson(`${base}/chat`, { session_id: randomUUIDv4(), message: 'x'.repeat(20_000) }, auth)).status).toBe(413);
    const text = await fetch(`${base}/router/delegate`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth }, body: 'shop_slug=x' });
    expect(text.status).toBe(415);
    await flush(app);
    expect((await refusals()).map((r) => [r.route, r.status, r.count])).toEqual([
      ['/chat', 413, 1],
      ['/router/delegate', 415, 1],
      [SEARCH, 401, 1],
    ]);
    expect(await events()).toEqual([]);
  });

  it('the client HMAC is of the rate-limit client key: two clients behind a trusted proxy are two rows, neither address stored', async () => {
    const { base, app } = await serve({ TRUSTED_PROXIES: '127.0.0.1' });
    for (const ip of ['203.0.113.7', '203.0.113.7', '198.51.100.9']) {
      expect((await postJson(`${base}${SEARCH}`, { latitude: 91, longitude: 0 }, { 'x-forwarded-for': ip })).status).toBe(422);
    }
    await flush(app);
    const rows = await refusals();
    expect(rows.map((r) => [r.client_hmac, r.count]).sort()).toEqual(
      [
        [clientHmac(syntheticKey, 'ip:203.0.113.7'), 2],
        [clientHmac(syntheticKey, 'ip:198.51.100.9'), 1],
      ].sort(),
    );
    const { rows: leaks } = await sdb.pool.query(`SELECT count(*)::int AS n FROM router_refusals r WHERE row_to_json(r)::text ~ '203\\.0\\.113|198\\.51\\.100'`);
    expect(leaks[0].n).toBe(0);
  });

  it('refusals of one client in one minute add up across flushes and across servers (ON CONFLICT adds)', async () => {
    const a = await serve();
    const b = await serve();
    for (const s of [a, b, a]) {
      expect((await postJson(`${s.base}${SEARCH}`, { latitude: 91, longitude: 0 })).status).toBe(422);
      await flush(s.app);
    }
    expect((await refusals()).map((r) => r.count)).toEqual([3]);
  });

  it('a flood of distinct clients is bounded memory: past the cap counts fold into the overflow cell, past that they are dropped and counted', async () => {
    const silent = { info() {}, error() {}, warn() {}, debug() {} } as unknown as Logger;
    const counter = createRefusalCounter(sdb.pool, silent, { flushIntervalMs: 3_600_000, maxCells: 10, maxOverflowCells: 2, release: 'r', host: 'h' }, () => FIXED_NOW);
    for (let i = 0; i < 1000; i++) counter.count({ route: SEARCH, policy: 'search', status: 429, clientHmac: clientHmac(syntheticKey, `ip:10.0.${i >> 8}.${i & 255}`), synthetic: false });
    // A second status's overflow cell fills the overflow bound (2); a third cannot be kept.
    counter.count({ route: SEARCH, policy: 'search', status: 422, clientHmac: 'x', synthetic: false });
    counter.count({ route: SEARCH, policy: 'search', status: 404, clientHmac: 'y', synthetic: false });
    expect(counter.stats()).toEqual({ cells: 12, counted: 1002, written: 0, dropped: 1 });
    await counter.close();
    expect(counter.stats()).toMatchObject({ cells: 0, written: 1001, dropped: 1 });
    const rows = await refusals();
    expect(rows).toHaveLength(12);
    expect(rows.find((r) => r.client_hmac === OVERFLOW_CLIENT && r.status === 429)?.count).toBe(990);
    expect(rows.reduce((s, r) => s + r.count, 0)).toBe(1001);
  });
});

describe('refusal counts during a database failure', () => {
  it('keeps the counts (merged with new ones) while the INSERT fails, and writes them exactly once it works again', async () => {
    const lines: string[] = [];
    const log = { info() {}, warn() {}, debug() {}, error: (_o: unknown, msg: string) => lines.push(msg) } as unknown as Logger;
    const counter = createRefusalCounter(sdb.pool, log, { flushIntervalMs: 3_600_000 }, () => FIXED_NOW);
    const refusal = { route: SEARCH, policy: 'search', status: 429, clientHmac: clientHmac(syntheticKey, 'ip:192.0.2.1'), synthetic: false };
    for (let i = 0; i < 100; i++) counter.count(refusal);
    // A real fault: the table is not there.
    await sdb.pool.query('ALTER TABLE router_refusals RENAME TO router_refusals_gone');
    try {
      await counter.flush();
      expect(counter.stats()).toMatchObject({ cells: 1, counted: 100, written: 0, dropped: 0 });
      expect(lines.some((l) => l.includes('failed to write refused-request counts'))).toBe(true);
      for (let i = 0; i < 50; i++) counter.count(refusal);
      counter.count({ ...refusal, status: 422 });
      await counter.flush();
      expect(counter.stats()).toMatchObject({ cells: 2, counted: 151, written: 0 });
    } finally {
      await sdb.pool.query('ALTER TABLE router_refusals_gone RENAME TO router_refusals');
    }
    await counter.close();
    expect(counter.stats()).toMatchObject({ cells: 0, written: 151, dropped: 0 });
    expect((await refusals()).map((r) => [r.status, r.count])).toEqual([
      [422, 1],
      [429, 150],
    ]);
  });
});

describe('POST /router/feedback', () => {
  async function delegate(base: string, headers: Record<string, string> = {}): Promise<string> {
    const res = await postJson(`${base}/router/delegate`, { shop_slug: shop.slug }, headers);
    expect(res.status).toBe(201);
    return res.body.session_id as string;
  }

  it('201 with the stored feedback; a later rating replaces it (still 201, created_at kept); one row per session; a feedback event', async () => {
    let now = FIXED_NOW;
    const { base, app } = await serve({}, { clock: () => now });
    const sessionId = await delegate(base);
    const first = await postJson(`${base}/router/feedback`, { session_id: sessionId, rating: 4, comment: '  Quick and friendly.  ' });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ session_id: sessionId, rating: 4, comment: 'Quick and friendly.', created_at: FIXED_NOW.toISOString(), updated_at: FIXED_NOW.toISOString() });
    now = new Date(FIXED_NOW.getTime() + 90_000);
    const second = await postJson(`${base}/router/feedback`, { session_id: sessionId, rating: 2 });
    expect(second.status).toBe(201);
    expect(second.body).toEqual({ session_id: sessionId, rating: 2, comment: null, created_at: FIXED_NOW.toISOString(), updated_at: now.toISOString() });
    const { rows } = await sdb.pool.query('SELECT session_id::text, rating, comment, synthetic, release, host FROM router_feedback');
    expect(rows).toEqual([{ session_id: sessionId, rating: 2, comment: null, synthetic: false, release: app.rgpt.served.release, host: hostname() }]);
    await flush(app);
    const feedback = await events('feedback');
    expect(feedback.map((e) => [e.session_id, e.shop_id, e.payload])).toEqual([
      [sessionId, String(shop.id), { rating: 4, replaced: false, has_comment: true }],
      [sessionId, String(shop.id), { rating: 2, replaced: true, has_comment: false }],
    ]);
    expect(feedback.every((e) => e.latency_ms !== null && !e.synthetic)).toBe(true);
    // Deleting the session deletes its rating.
    await sdb.pool.query('DELETE FROM chat_sessions WHERE id = $1', [sessionId]);
    expect((await sdb.pool.query('SELECT count(*)::int AS n FROM router_feedback')).rows[0].n).toBe(0);
  });

  it('an unknown session is 404 session_not_found; a bad body is 422 with the field named', async () => {
    const { base } = await serve();
    const sessionId = await delegate(base);
    const missing = await postJson(`${base}/router/feedback`, { session_id: randomUUIDv4(), rating: 5 });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('session_not_found');
    const bad: Array<[unknown, string]> = [
      [{ session_id: sessionId, rating: 6 }, 'rating'],
      [{ session_id: sessionId, rating: 0 }, 'rating'],
      [{ session_id: sessionId, rating: 3.5 }, 'rating'],
      [{ session_id: sessionId, rating: '5' }, 'rating'],
      [{ session_id: sessionId }, 'rating'],
      [{ rating: 5 }, 'session_id'],
      [{ session_id: 'nope', rating: 5 }, 'session_id'],
      [{ session_id: sessionId, rating: 5, comment: 'x'.repeat(501) }, 'comment'],
      [{ session_id: sessionId, rating: 5, comment: 'nul \u0000' }, 'comment'],
      [{ session_id: sessionId, rating: 5, extra: 1 }, 'extra'],
    ];
    for (const [body, field] of bad) {
      const res = await postJson(`${base}/router/feedback`, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
    // 500 characters is allowed (characters, not bytes).
    const long = await postJson(`${base}/router/feedback`, { session_id: sessionId, rating: 5, comment: 'é'.repeat(500) });
    expect(long.status).toBe(201);
    expect(long.body.comment).toHaveLength(500);
  });

  it('is rate-limited under the delegate policy: one budget with POST /router/delegate', async () => {
    const { base } = await serve({ RATE_LIMIT_DELEGATE_PER_MIN: '3' });
    const sessionId = await delegate(base);
    const ok = await postJson(`${base}/router/feedback`, { session_id: sessionId, rating: 5 });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('ratelimit-policy')).toBe('"delegate";q=3;w=60');
    expect(ok.headers.get('x-ratelimit-remaining')).toBe('1');
    expect((await postJson(`${base}/router/feedback`, { session_id: sessionId, rating: 4 })).status).toBe(201);
    const limited = await postJson(`${base}/router/feedback`, { session_id: sessionId, rating: 3 });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await postJson(`${base}/router/delegate`, { shop_slug: shop.slug })).status).toBe(429);
  });

  it('a request with a valid synthetic marker stores synthetic = true (and so does any rating of a synthetic session)', async () => {
    const { signSynthetic, SYNTHETIC_HEADER } = await import('../../src/lib/synthetic.js');
    const marked = (path: string, body: unknown) => ({ [SYNTHETIC_HEADER]: signSynthetic(syntheticKey, { method: 'POST', path, body: JSON.stringify(body) }) });
    const { base, app } = await serve();
    const realSession = await delegate(base);
    const body = { session_id: realSession, rating: 5 };
    expect((await postJson(`${base}/router/feedback`, body, marked('/router/feedback', body))).status).toBe(201);
    const syntheticSession = await delegate(base, marked('/router/delegate', { shop_slug: shop.slug }));
    expect((await postJson(`${base}/router/feedback`, { session_id: syntheticSession, rating: 1 })).status).toBe(201);
    const forged = { session_id: realSession, rating: 3 };
    // (A marker for another body is ordinary traffic.)
    expect((await postJson(`${base}/router/feedback`, { ...forged }, marked('/router/feedback', { ...forged, rating: 4 }))).status).toBe(201);
    const { rows } = await sdb.pool.query('SELECT session_id::text, rating, synthetic FROM router_feedback ORDER BY rating');
    expect(rows).toEqual([
      { session_id: syntheticSession, rating: 1, synthetic: true },
      { session_id: realSession, rating: 3, synthetic: false },
    ]);
    await flush(app);
    expect((await events('feedback')).map((e) => [e.payload.rating, e.synthetic])).toEqual([
      [5, true],
      [1, true],
      [3, false],
    ]);
  });
});

describe('one trace per router request', () => {
  it('a mixed sequence: the documented request count per route equals the requests sent', async () => {
    const { base, app } = await serve({ RATE_LIMIT_SEARCH_PER_MIN: '4' });
    const sent = new Map<string, number>();
    const send = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      sent.set(path, (sent.get(path) ?? 0) + 1);
      return postJson(`${base}${path}`, body, headers);
    };
    expect((await send(SEARCH, TEMPE)).status).toBe(200);
    expect((await send(SEARCH, { latitude: 0 })).status).toBe(422);
    const searchId = (await send(SEARCH, TEMPE)).body.search_id as string;
    const delegated = await send('/router/delegate', { shop_slug: shop.slug, search_id: searchId });
    const sessionId = delegated.body.session_id as string;
    expect((await send('/router/delegate', { shop_slug: 'no-such-shop' })).status).toBe(404);
    expect((await send('/chat', { session_id: sessionId, message: 'what services do you have?' })).status).toBe(200);
    const booking = { session_id: sessionId, message: "a haircut tomorrow at 3pm, I'm Dana", idempotency_key: 'mixed-1' };
    const booked = await send('/chat', booking);
    expect(booked.body.booking).toMatchObject({ status: 'confirmed' });
    // An idempotent replay: the same booking back, and still one chat_message for the request.
    const replay = await send('/chat', booking);
    expect(replay.body.booking.id).toBe(booked.body.booking.id);
    expect((await send('/chat', { session_id: randomUUIDv4(), message: 'hi' })).status).toBe(404);
    expect((await send('/router/feedback', { session_id: sessionId, rating: 5 })).status).toBe(201);
    expect((await send('/router/feedback', { session_id: sessionId, rating: 9 })).status).toBe(422);
    // Spend the search budget (4; the 422 spent one too): 1 more passes, 9 are 429.
    const burst = await Promise.all(Array.from({ length: 10 }, () => send(SEARCH, TEMPE)));
    expect(burst.filter((r) => r.status === 429)).toHaveLength(9);
    // And one real 5xx.
    await sdb.pool.query('ALTER TABLE services RENAME TO services_gone');
    try {
      expect((await send('/router/delegate', { shop_slug: shop.slug })).status).toBe(500);
    } finally {
      await sdb.pool.query('ALTER TABLE services_gone RENAME TO services');
    }
    // Not router requests: not counted anywhere.
    await fetch(`${base}/health`);
    await postJson(`${base}/router/nowhere`, {});

    await flush(app);
    const window = [new Date(FIXED_NOW.getTime() - 3_600_000), new Date(FIXED_NOW.getTime() + 3_600_000)];
    const { rows } = await sdb.pool.query<{ route: string; requests: string; errors: string; refusals: string; rate_limited: string; error_rate: string | null }>(documentedRequestsSql(), window);
    const counted = Object.fromEntries(rows.map((r) => [r.route, Number(r.requests)]));
    expect(counted).toEqual({ '/chat': sent.get('/chat'), '/router/delegate': sent.get('/router/delegate'), '/router/feedback': sent.get('/router/feedback'), [SEARCH]: sent.get(SEARCH) });
    expect(Object.fromEntries(rows.map((r) => [r.route, [Number(r.requests) - Number(r.errors) - Number(r.refusals), Number(r.errors), Number(r.refusals), Number(r.rate_limited)]]))).toEqual({
      '/chat': [3, 0, 1, 0],
      '/router/delegate': [1, 1, 1, 0],
      '/router/feedback': [1, 0, 1, 0],
      [SEARCH]: [3, 0, 10, 9],
    });
    expect(Number(rows.find((r) => r.route === '/router/delegate')!.error_rate)).toBeCloseTo(1 / 3);
    expect(Number(rows.find((r) => r.route === SEARCH)!.error_rate)).toBe(0);
    // booking events are not requests: one, inside a /chat request that has its own chat_message.
    expect((await events('booking')).length).toBe(1);
    expect((await events('chat_message')).map((e) => e.payload.replayed ?? false)).toEqual([false, false, true]);
  });
});
