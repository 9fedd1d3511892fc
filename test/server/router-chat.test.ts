/**
 * Search → delegate → chat to a saved booking, over real sockets on a real database, with the
 * offline assistant and a fixed clock (Monday 2030-03-04 10:00 in Phoenix).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/db/seed.js';
import { buildTestApp, createServerDb, FIXED_NOW, insertTestShop, listen, postJson, testConfig, type ServerDb, type TestShop } from './helpers.js';

let sdb: ServerDb;
let app: FastifyInstance;
let url: string;
let shop: TestShop;

beforeAll(async () => {
  sdb = await createServerDb('chat');
  await seedDemo(sdb.pool);
  shop = await insertTestShop(sdb.pool);
  app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), clock: () => FIXED_NOW });
  url = await listen(app);
});
afterAll(async () => {
  await app?.close();
  await sdb?.close();
});

async function delegate(body: Record<string, unknown> = { shop_slug: shop.slug }) {
  const res = await postJson(`${url}/router/delegate`, body);
  expect(res.status).toBe(201);
  return res.body.session_id as string;
}

const chat = (session_id: string, message: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  postJson(`${url}/chat`, { session_id, message, ...extra }, headers);

describe('POST /router/search-by-location', () => {
  it('finds the checklist smoke-test shops near Tempe, nearest first, with a search_id', async () => {
    const res = await postJson(`${url}/router/search-by-location`, { latitude: 33.4255, longitude: -111.94, radius_miles: 10 });
    expect(res.status).toBe(200);
    expect(res.body.search_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.count).toBeGreaterThan(0);
    const d = res.body.results.map((r: { distance_miles: number }) => r.distance_miles);
    expect(d).toEqual([...d].sort((a, b) => a - b));
    expect(res.body.query).toEqual({ latitude: 33.4255, longitude: -111.94, radius_miles: 10, limit: 20 });
  });

  it('empty area: 200 with no results and a helpful message', async () => {
    const res = await postJson(`${url}/router/search-by-location`, { latitude: -48.87, longitude: -123.39, radius_miles: 50, category: 'barbershop' });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([]);
    expect(res.body.message).toMatch(/No shops found within 50 miles.*leaving out the category/);
  });

  it('invalid coordinates or radius: 422 with a field per problem', async () => {
    const res = await postJson(`${url}/router/search-by-location`, { latitude: 95, longitude: -111.94, radius_miles: 0 });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'latitude' }), expect.objectContaining({ field: 'radius_miles' })]));
    const tooFar = await postJson(`${url}/router/search-by-location`, { latitude: 33, longitude: -111, radius_miles: 50.01 });
    expect(tooFar.status).toBe(422);
    const missing = await postJson(`${url}/router/search-by-location`, { longitude: -111 });
    expect(missing.body.error.fields).toEqual([{ field: 'latitude', message: 'is required' }]);
  });
});

describe('POST /router/delegate', () => {
  it('201 with session, shop, first message and how to continue; the session keeps the router context', async () => {
    const search = await postJson(`${url}/router/search-by-location`, { latitude: 33.4255, longitude: -111.94 });
    const res = await postJson(`${url}/router/delegate`, { shop_slug: shop.slug, intent: 'a haircut this week', search_id: search.body.search_id });
    expect(res.status).toBe(201);
    expect(res.body.shop.slug).toBe(shop.slug);
    expect(res.body.message).toMatch(/Test Barber.*Classic Haircut/);
    expect(res.body.next).toMatchObject({ method: 'POST', path: '/chat', body: { session_id: res.body.session_id } });
    const { rows } = await sdb.pool.query('SELECT source, search_id, intent, router_context FROM chat_sessions WHERE id = $1', [res.body.session_id]);
    expect(rows[0]).toMatchObject({ source: 'search', search_id: search.body.search_id, intent: 'a haircut this week' });
    expect(rows[0].router_context).toMatchObject({ source: 'search', search_id: search.body.search_id, intent: 'a haircut this week' });
  });

  it('unknown shop: 404 shop_not_found', async () => {
    const res = await postJson(`${url}/router/delegate`, { shop_slug: 'no-such-shop' });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('shop_not_found');
  });
});

describe('POST /chat (offline assistant)', () => {
  it('unknown session: 404 session_not_found', async () => {
    const res = await chat('00000000-0000-4000-8000-000000000000', 'hello');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('session_not_found');
  });

  it('books "a haircut tomorrow at 3pm" in the shop time zone, then refuses the same slot to another session with free alternatives', async () => {
    const first = await delegate();
    const booked = await chat(first, "Hi, I'd like a haircut tomorrow at 3pm. My name is Dana");
    expect(booked.status).toBe(200);
    expect(booked.body.booking).toMatchObject({ service: 'Classic Haircut', starts_at: '2030-03-05T22:00:00.000Z', customer_name: 'Dana', status: 'confirmed' });
    const { rows } = await sdb.pool.query('SELECT count(*)::int AS n FROM booking_slots WHERE booking_id = $1', [booked.body.booking.id]);
    expect(rows[0].n).toBe(2); // 30 minutes = two 15-minute slots

    const second = await delegate();
    const taken = await chat(second, 'a haircut tomorrow at 3pm please');
    expect(taken.status).toBe(200);
    expect(taken.body.booking).toBeNull();
    expect(taken.body.reply).toMatch(/already booked/);
    expect(taken.body.suggested_times.length).toBeGreaterThan(0);
    expect(taken.body.suggested_times).not.toContain('2030-03-05T22:00:00.000Z');
    // "yes" takes the first suggestion.
    const yes = await chat(second, "yes please, I'm Lee");
    expect(yes.body.booking).toMatchObject({ starts_at: taken.body.suggested_times[0], customer_name: 'Lee' });
  });

  it('asks for what is missing, lists services, and proposes times when the shop is closed', async () => {
    const s = await delegate();
    const what = await chat(s, 'what services do you offer?');
    expect(what.body.reply).toMatch(/Classic Haircut \(\$30, 30 min\).*Beard Trim/);
    const which = await chat(s, 'tomorrow at 11am');
    expect(which.body.reply).toMatch(/Which service/);
    expect(which.body.booking).toBeNull();
    const closed = await chat(s, 'a beard trim at 8pm');
    expect(closed.body.booking).toBeNull();
    expect(closed.body.reply).toMatch(/closed/);
    const when = await chat(s, 'beard trim please');
    expect(when.body.reply).toMatch(/what time would you like/);
    const done = await chat(s, 'Thursday at 9:30am, name is Kim');
    expect(done.body.booking).toMatchObject({ service: 'Beard Trim', starts_at: '2030-03-07T16:30:00.000Z', customer_name: 'Kim' });
  });

  it('the same Idempotency-Key books once, also when the retries race', async () => {
    const s = await delegate();
    const key = 'retry-key-1';
    const results = await Promise.all(Array.from({ length: 5 }, () => chat(s, 'a beard trim on Friday at 10am for Pat', { 'Idempotency-Key': key })));
    const ids = new Set(results.map((r) => r.body.booking?.id));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(ids.size).toBe(1);
    expect([...ids][0]).toBeTruthy();
    const again = await chat(s, 'a beard trim on Friday at 10am for Pat', {}, { idempotency_key: key });
    expect(again.body.booking.id).toBe([...ids][0]);
    const { rows } = await sdb.pool.query(`SELECT count(*)::int AS n FROM bookings WHERE session_id = $1`, [s]);
    expect(rows[0].n).toBe(1);
  });

  it('50 concurrent attempts at one slot: exactly one booking, the rest a clear reply', async () => {
    const sessions = await Promise.all(Array.from({ length: 50 }, () => delegate()));
    const replies = await Promise.all(sessions.map((s, i) => chat(s, 'a haircut on Wednesday at 2pm for Pat', { 'Idempotency-Key': `race-${i}` })));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const winners = replies.filter((r) => r.body.booking);
    expect(winners).toHaveLength(1);
    for (const r of replies.filter((x) => !x.body.booking)) expect(r.body.reply).toMatch(/already booked/);
    const { rows } = await sdb.pool.query(`SELECT count(*)::int AS n FROM bookings WHERE shop_id = $1 AND starts_at = '2030-03-06T21:00:00Z'`, [shop.id]);
    expect(rows[0].n).toBe(1);
  });
});
