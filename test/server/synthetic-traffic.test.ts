/**
 * Synthetic traffic on a real server (buildApp on a loopback socket, real PostgreSQL): a valid
 * signed marker makes the rows synthetic; a forged or stale one is ordinary traffic (200, not an
 * error); synthetic requests spend their own rate-limit budget unless they ask for policy=real.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readSyntheticKey } from '../../src/db/synthetic-key.js';
import { signSynthetic, SYNTHETIC_HEADER, type SyntheticPolicy } from '../../src/lib/synthetic.js';
import { buildTestApp, createServerDb, FIXED_NOW, insertTestShop, listen, postJson, testConfig, type ServerDb, type TestShop } from './helpers.js';

const SEARCH = '/router/search-by-location';
const TEMPE = { latitude: 33.4255, longitude: -111.94, radius_miles: 10 };

let sdb: ServerDb;
let shop: TestShop;
let key: string;
const apps: FastifyInstance[] = [];

async function serve(env: Record<string, string> = {}, release?: string): Promise<{ base: string; app: FastifyInstance }> {
  // A fresh Redis key prefix per app, so budgets never leak between tests (or test files).
  const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url, env), clock: () => FIXED_NOW, ...(release ? { release } : {}), analytics: { flushIntervalMs: 3_600_000 }, rateLimit: { fallbackPerMinute: 100_000, keyPrefix: `rgpt-test:${randomBytes(6).toString('hex')}:` } });
  apps.push(app);
  return { base: await listen(app), app };
}

function marked(path: string, body: unknown, options: { policy?: SyntheticPolicy; nowMs?: number; key?: string } = {}): Record<string, string> {
  return { [SYNTHETIC_HEADER]: signSynthetic(options.key ?? key, { method: 'POST', path, body: JSON.stringify(body), policy: options.policy }, options.nowMs) };
}

async function rowsOf(app: FastifyInstance) {
  await app.rgpt.analytics.flush();
  const { rows } = await sdb.pool.query<{ event_type: string; synthetic: boolean; release: string | null; host: string | null; session_id: string | null }>(
    'SELECT event_type, synthetic, release, host, session_id::text FROM router_analytics ORDER BY id',
  );
  await sdb.pool.query('DELETE FROM router_analytics');
  return rows;
}

beforeAll(async () => {
  sdb = await createServerDb('syn');
  shop = await insertTestShop(sdb.pool);
  key = (await readSyntheticKey(sdb.pool))!;
}, 60_000);

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await sdb?.close();
});

describe('the key', () => {
  it('migration 010 generated one key of 64 hex characters in routergpt.synthetic_key', async () => {
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const { rows } = await sdb.pool.query('SELECT count(*)::int AS n FROM routergpt.synthetic_key');
    expect(rows[0].n).toBe(1);
  });
});

describe('rows a marked request writes', () => {
  it('a valid marker: the search row is synthetic, with the release and host that served it; unmarked: real', async () => {
    const { base, app } = await serve({}, 'v1.2.3-test');
    expect((await postJson(`${base}${SEARCH}`, TEMPE, marked(SEARCH, TEMPE))).status).toBe(200);
    expect((await postJson(`${base}${SEARCH}`, TEMPE)).status).toBe(200);
    expect(await rowsOf(app)).toEqual([
      { event_type: 'search', synthetic: true, release: 'v1.2.3-test', host: hostname(), session_id: null },
      { event_type: 'search', synthetic: false, release: 'v1.2.3-test', host: hostname(), session_id: null },
    ]);
  });

  it('a forged, stale or tampered marker is ordinary traffic: 200, and the row is not synthetic', async () => {
    const { base, app } = await serve();
    const forged = { [SYNTHETIC_HEADER]: `t=${Math.floor(Date.now() / 1000)},sig=${'ab'.repeat(32)}` };
    const stale = marked(SEARCH, TEMPE, { nowMs: Date.now() - 120_000 });
    const otherBody = marked(SEARCH, { ...TEMPE, radius_miles: 11 });
    const wrongKey = marked(SEARCH, TEMPE, { key: 'f'.repeat(64) });
    for (const headers of [forged, stale, otherBody, wrongKey, { [SYNTHETIC_HEADER]: 'garbage' }]) {
      const res = await postJson(`${base}${SEARCH}`, TEMPE, headers);
      expect(res.status).toBe(200);
      expect(res.body.count).toBeGreaterThan(0);
    }
    const rows = await rowsOf(app);
    expect(rows.map((r) => r.synthetic)).toEqual([false, false, false, false, false]);
  });

  it('a conversation a check opens is synthetic throughout: session, messages, booking and their events', async () => {
    const { base, app } = await serve();
    const delegateBody = { shop_slug: shop.slug, intent: 'haircut' };
    const delegated = await postJson(`${base}/router/delegate`, delegateBody, marked('/router/delegate', delegateBody));
    expect(delegated.status).toBe(201);
    const sessionId = delegated.body.session_id as string;
    // Even an unmarked message in that session stays synthetic.
    const chatBody = { session_id: sessionId, message: "a haircut tomorrow at 3pm, I'm Dana" };
    const booked = await postJson(`${base}/chat`, chatBody);
    expect(booked.status).toBe(200);
    expect(booked.body.booking).toMatchObject({ status: 'confirmed' });
    const rows = await rowsOf(app);
    expect(rows.map((r) => [r.event_type, r.synthetic])).toEqual([['delegate', true], ['booking', true], ['chat_message', true]]);
    expect((await sdb.pool.query('SELECT synthetic FROM chat_sessions WHERE id = $1', [sessionId])).rows).toEqual([{ synthetic: true }]);
    expect((await sdb.pool.query('SELECT synthetic FROM bookings WHERE id = $1', [booked.body.booking.id])).rows).toEqual([{ synthetic: true }]);
    // …and the views count none of it.
    expect((await sdb.pool.query('SELECT * FROM router_conversion_funnel')).rows).toEqual([]);
  });

  it('the views leave synthetic rows out and count real ones', async () => {
    await sdb.pool.query(`INSERT INTO router_analytics (event_type, shop_id, payload, synthetic) VALUES ('search', NULL, jsonb_build_object('shop_ids', jsonb_build_array($1::bigint)), true), ('delegate', $1, '{}', true)`, [shop.id]);
    expect((await sdb.pool.query('SELECT * FROM router_usage_summary')).rows).toEqual([]);
    expect((await sdb.pool.query('SELECT times_discovered::int, times_delegated::int FROM router_shop_discovery WHERE shop_id = $1', [shop.id])).rows).toEqual([{ times_discovered: 0, times_delegated: 0 }]);
    await sdb.pool.query(`INSERT INTO router_analytics (event_type, shop_id, payload) VALUES ('search', NULL, jsonb_build_object('shop_ids', jsonb_build_array($1::bigint))), ('delegate', $1, '{}')`, [shop.id]);
    expect((await sdb.pool.query('SELECT times_discovered::int, times_delegated::int FROM router_shop_discovery WHERE shop_id = $1', [shop.id])).rows).toEqual([{ times_discovered: 1, times_delegated: 1 }]);
    expect((await sdb.pool.query('SELECT searches::int, delegations::int, search_to_delegate_pct::float FROM router_conversion_funnel')).rows).toEqual([{ searches: 1, delegations: 1, search_to_delegate_pct: 100 }]);
    await sdb.pool.query('DELETE FROM router_analytics');
  });

  it('ROUTERGPT_SYNTHETIC_KEY, when set, is the key (the database key then is not)', async () => {
    const envKey = 'e'.repeat(40);
    const { base, app } = await serve({ ROUTERGPT_SYNTHETIC_KEY: envKey });
    await postJson(`${base}${SEARCH}`, TEMPE, marked(SEARCH, TEMPE, { key: envKey }));
    await postJson(`${base}${SEARCH}`, TEMPE, marked(SEARCH, TEMPE));
    expect((await rowsOf(app)).map((r) => r.synthetic)).toEqual([true, false]);
  });
});

describe('rate limits', () => {
  const limited = { RATE_LIMIT_SEARCH_PER_MIN: '3' };

  it('synthetic requests do not spend a real client\'s budget', async () => {
    const { base } = await serve(limited);
    for (let i = 0; i < 6; i += 1) {
      const res = await postJson(`${base}${SEARCH}`, TEMPE, marked(SEARCH, TEMPE));
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toMatch(/^"synthetic";q=600;/);
    }
    const real = [];
    for (let i = 0; i < 4; i += 1) real.push((await postJson(`${base}${SEARCH}`, TEMPE)).status);
    expect(real).toEqual([200, 200, 200, 429]);
  });

  it('policy=real spends the real budget (what api.rate-limit and api.performance prove limits with)', async () => {
    const { base } = await serve(limited);
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await postJson(`${base}${SEARCH}`, TEMPE, marked(SEARCH, TEMPE, { policy: 'real' }));
      statuses.push(res.status);
      expect(res.headers.get('ratelimit-policy')).toMatch(/^"search";q=3;/);
    }
    statuses.push((await postJson(`${base}${SEARCH}`, TEMPE)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('the same with the budgets in Redis (shared by servers): synthetic apart, policy=real counted', async () => {
    const { base } = await serve({ ...limited, REDIS_URL: inject('redisUrl') });
    for (let i = 0; i < 4; i += 1) expect((await postJson(`${base}${SEARCH}`, TEMPE, marked(SEARCH, TEMPE))).status).toBe(200);
    const statuses = [];
    statuses.push((await postJson(`${base}${SEARCH}`, TEMPE, marked(SEARCH, TEMPE, { policy: 'real' }))).status);
    for (let i = 0; i < 3; i += 1) statuses.push((await postJson(`${base}${SEARCH}`, TEMPE)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('a forged marker spends the real budget like any request', async () => {
    const { base } = await serve(limited);
    const forged = { [SYNTHETIC_HEADER]: `t=${Math.floor(Date.now() / 1000)},sig=${'cd'.repeat(32)}` };
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await postJson(`${base}${SEARCH}`, TEMPE, forged)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});
