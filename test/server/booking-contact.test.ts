/**
 * A15: a booking someone can be called about. Both assistants ask for the customer's name (and a
 * phone number where the shop's require_customer_phone is set) before booking, and the booking
 * layer refuses a chat booking without them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eraseTargets } from '../../src/db/privacy/erase.js';
import { createBooking } from '../../src/server/booking/create-booking.js';
import type { ShopRow } from '../../src/server/booking/types.js';
import { findShopBySlug } from '../../src/server/chat/store.js';
import { parseBareName, parseName, parsePhone } from '../../src/server/chat/understand.js';
import { buildTestApp, createServerDb, FIXED_NOW, insertTestShop, listen, postJson, testConfig, type ServerDb, type TestShop } from './helpers.js';

let sdb: ServerDb;
let shop: TestShop;
let phoneShop: TestShop;
let url: string;
let close: () => Promise<void>;
beforeAll(async () => {
  sdb = await createServerDb('contact');
  shop = await insertTestShop(sdb.pool, 'contact-barber');
  phoneShop = await insertTestShop(sdb.pool, 'phone-barber', 33.43, -111.93);
  await sdb.pool.query('UPDATE shops SET require_customer_phone = true WHERE id = $1', [phoneShop.id]);
  const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), clock: () => FIXED_NOW });
  url = await listen(app);
  close = () => app.close();
});
afterAll(async () => {
  await close?.();
  await sdb?.close();
});

async function delegate(slug: string): Promise<string> {
  const res = await postJson(`${url}/router/delegate`, { shop_slug: slug });
  expect(res.status).toBe(201);
  return res.body.session_id as string;
}
const chat = (session_id: string, message: string) => postJson(`${url}/chat`, { session_id, message });
const bookingsOf = async (sessionId: string) =>
  (await sdb.pool.query<{ customer_name: string | null; customer_phone: string | null; starts_at: Date }>('SELECT customer_name, customer_phone, starts_at FROM bookings WHERE session_id = $1', [sessionId])).rows;

describe('A15: the offline assistant asks who the booking is for', () => {
  it('A15: a first message that books without a name asks for the name and books nothing', async () => {
    const s = await delegate(shop.slug);
    const res = await chat(s, 'a Beard Trim next Tuesday at 11am');
    expect(res.status).toBe(200);
    expect(res.body.booking).toBeNull();
    expect(res.body.reply).toMatch(/^Beard Trim on Tue, .*11:00 AM is free\. What name should the booking be under\?$/);
    expect(await bookingsOf(s)).toEqual([]);
  });

  it('A15: the answer to the name question books it under that name, at the time first asked', async () => {
    const s = await delegate(shop.slug);
    const first = await chat(s, 'a Beard Trim next Tuesday at 11am');
    expect(first.body.booking).toBeNull();
    const res = await chat(s, 'Sam');
    expect(res.body.booking).toMatchObject({ service: 'Beard Trim', customer_name: 'Sam', status: 'confirmed' });
    expect(res.body.booking.local_time).toMatch(/^Tue, .*11:00 AM$/);
    expect(res.body.reply).toMatch(/^You're booked for Sam: Beard Trim/);
    const rows = await bookingsOf(s);
    expect(rows.map((r) => r.customer_name)).toEqual(['Sam']);
  });

  it('A15: a name in the same message books at once ("for Sam", "my name is", "I\'m")', async () => {
    for (const [message, name] of [
      ['a Classic Haircut on Wednesday at 10am for Sam', 'Sam'],
      ['my name is jo lee, a haircut on Wednesday at 11am', 'Jo Lee'],
      ["I'm Robin Park. Beard trim Wednesday 2pm please", 'Robin Park'],
    ] as const) {
      const s = await delegate(shop.slug);
      const res = await chat(s, message);
      expect(res.body.booking, message).toMatchObject({ customer_name: name });
    }
  });

  it('A15: a shop that requires a phone asks for it, and the answer books with the number', async () => {
    const s = await delegate(phoneShop.slug);
    const first = await chat(s, 'a Beard Trim on Thursday at 1pm for Sam');
    expect(first.body.booking).toBeNull();
    expect(first.body.reply).toMatch(/is free\. What phone number can the shop reach you on\?$/);
    expect(await bookingsOf(s)).toEqual([]);
    const res = await chat(s, '480-555-0100');
    expect(res.body.booking).toMatchObject({ service: 'Beard Trim', customer_name: 'Sam' });
    expect((await bookingsOf(s)).map((r) => [r.customer_name, r.customer_phone])).toEqual([['Sam', '480-555-0100']]);
  });

  it('A15: with neither, both are asked at once and one answer gives both', async () => {
    const s = await delegate(phoneShop.slug);
    const first = await chat(s, 'a Classic Haircut on Thursday at 3pm');
    expect(first.body.reply).toMatch(/What name should the booking be under, and what phone number can the shop reach you on\?$/);
    const res = await chat(s, 'Sam Lee, my number is (480) 555-0101');
    expect(res.body.booking, res.body.reply).toMatchObject({ customer_name: 'Sam Lee' });
    expect((await bookingsOf(s))[0]?.customer_phone).toBe('(480) 555-0101');
  });

  it('A15: a taken time is said before any name is asked for', async () => {
    const a = await delegate(shop.slug);
    expect((await chat(a, 'a Classic Haircut on Friday at 10am for Ana')).body.booking).toMatchObject({ customer_name: 'Ana' });
    const b = await delegate(shop.slug);
    const res = await chat(b, 'a Classic Haircut on Friday at 10am');
    expect(res.body.reply).toMatch(/^Sorry, I can't book Classic Haircut .*already booked/);
    expect(res.body.reply).not.toMatch(/name/);
  });
});

describe('A15: reading names and numbers', () => {
  const services = [{ id: 1, name: 'Beard Trim', duration_minutes: 15, price_cents: 1500 }];
  it('A15: days, months, pronouns and service names after "for" are not names', () => {
    expect(parseName('a Beard Trim next Tuesday at 11am for Sam', services)).toBe('Sam');
    expect(parseName('book me for Tuesday at 3pm', services)).toBeUndefined();
    expect(parseName('I would like to come in for Beard Trim', services)).toBeUndefined();
    expect(parseName('for March 5 please', services)).toBeUndefined();
    expect(parseName("I'm free on Friday", services)).toBeUndefined();
    expect(parseName('This is Tuesday right?', services)).toBeUndefined();
    expect(parseName('call me at 480-555-0100', services)).toBeUndefined();
  });
  it('A15: a phone number is one written like one, cued, or asked for — never a date', () => {
    expect(parsePhone('a haircut on 2030-03-05 at 3pm')).toBeUndefined();
    expect(parsePhone('2030-03-05', false)).toBeUndefined();
    expect(parsePhone('reach me at 480 555 0100')).toBe('480 555 0100');
    expect(parsePhone('+44 20 7946 0958')).toBe('+44 20 7946 0958');
    expect(parsePhone('4805550100', true)).toBe('4805550100');
    expect(parsePhone('12345', true)).toBeUndefined();
  });
  it('A15: a bare answer is a name only when it looks like one', () => {
    expect(parseBareName('sam')).toBe('Sam');
    expect(parseBareName("It's Sam O'Neil.")).toBe("Sam O'Neil");
    expect(parseBareName('yes')).toBeUndefined();
    expect(parseBareName('what services do you have')).toBeUndefined();
  });
});

describe('A15: the booking layer refuses a chat booking without contact details', () => {
  const silent = pino({ level: 'silent' });
  async function sessionAt(shopId: number): Promise<string> {
    return (await sdb.pool.query<{ id: string }>('INSERT INTO chat_sessions (shop_id) VALUES ($1) RETURNING id', [shopId])).rows[0]!.id;
  }
  const service = (s: TestShop) => ({ id: s.services.beard, name: 'Beard Trim', duration_minutes: 15, price_cents: 1500 });

  it('A15: createBooking for a chat session without a name is refused, nothing written', async () => {
    const row = (await findShopBySlug(sdb.pool, shop.slug)) as ShopRow;
    const sessionId = await sessionAt(shop.id);
    const startsAt = new Date('2030-03-09T17:00:00Z');
    for (const customerName of [null, '   ']) {
      const result = await createBooking(sdb.pool, silent, { shop: row, service: service(shop), sessionId, customerName, startsAt, idempotencyKey: null });
      expect(result).toEqual({ kind: 'missing_details', missing: ['customer_name'] });
    }
    expect(await bookingsOf(sessionId)).toEqual([]);
    const booked = await createBooking(sdb.pool, silent, { shop: row, service: service(shop), sessionId, customerName: '  Sam  ', startsAt, idempotencyKey: null });
    expect(booked.kind === 'created' && booked.booking.customer_name).toBe('Sam');
  });

  it('A15: at a shop that requires a phone, a name without a valid phone is refused; the phone is stored, format-checked, and erased with the name', async () => {
    const row = (await findShopBySlug(sdb.pool, phoneShop.slug)) as ShopRow;
    expect(row.require_customer_phone).toBe(true);
    const sessionId = await sessionAt(phoneShop.id);
    const startsAt = new Date('2030-03-09T18:00:00Z');
    for (const customerPhone of [null, '12', 'call me']) {
      const result = await createBooking(sdb.pool, silent, { shop: row, service: service(phoneShop), sessionId, customerName: 'Sam', customerPhone, startsAt, idempotencyKey: null });
      expect(result).toEqual({ kind: 'missing_details', missing: ['customer_phone'] });
    }
    expect(await bookingsOf(sessionId)).toEqual([]);
    const booked = await createBooking(sdb.pool, silent, { shop: row, service: service(phoneShop), sessionId, customerName: 'Sam', customerPhone: '480 555 0199', startsAt, idempotencyKey: null });
    expect(booked.kind).toBe('created');
    expect((await bookingsOf(sessionId)).map((r) => r.customer_phone)).toEqual(['480 555 0199']);
    // The database holds the same line for any other writer: only a phone-shaped value fits.
    const id = booked.kind === 'created' ? booked.booking.id : '';
    await expect(sdb.pool.query(`UPDATE bookings SET customer_phone = 'not a number' WHERE id = $1`, [id])).rejects.toThrow(/bookings_customer_phone_format/);
    // The phone is contact data like the name: a privacy erasure removes both, the booking stays.
    const counts = await eraseTargets(sdb.pool, { sessions: [sessionId], bookings: [id], analytics: [], archive: [], clientHmacs: [] }, FIXED_NOW);
    expect(counts.bookings).toEqual({ action: 'name removed', rows: 1 });
    expect((await bookingsOf(sessionId)).map((r) => [r.customer_name, r.customer_phone])).toEqual([[null, null]]);
  });
});

// --- OpenAI -------------------------------------------------------------------------------------

interface FakeRequest {
  body: { messages: Array<{ role: string; content?: string | null; tool_call_id?: string }>; tools?: Array<{ function: { name: string; parameters: { required: string[] } } }> };
}

async function startFakeOpenAi(script: Array<(req: FakeRequest) => unknown>) {
  const requests: FakeRequest[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const parsed: FakeRequest = { body: JSON.parse(data) };
      requests.push(parsed);
      const message = script[requests.length - 1]?.(parsed) ?? { role: 'assistant', content: 'script exhausted' };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `chatcmpl-${requests.length}`, object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, finish_reason: 'stop', message }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { baseURL: `http://127.0.0.1:${port}/v1`, requests, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const toolCall = (id: string, args: unknown) => ({ role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'create_booking', arguments: JSON.stringify(args) } }] });
const toolResult = (req: FakeRequest, id: string) => JSON.parse(req.body.messages.find((m) => m.role === 'tool' && m.tool_call_id === id)!.content!) as Record<string, unknown>;

describe('A15: the OpenAI assistant', () => {
  it('A15: create_booking without customer_name is refused by the tool, which tells the model to ask; the next call books', async () => {
    const fake = await startFakeOpenAi([
      () => toolCall('c1', { service_id: shop.services.haircut, start_local: '2030-03-06T16:00' }),
      (req) => ({ role: 'assistant', content: String(toolResult(req, 'c1').instruction) }),
      () => toolCall('c2', { service_id: shop.services.haircut, start_local: '2030-03-06T16:00', customer_name: 'Robin' }),
      () => ({ role: 'assistant', content: 'Booked for Robin.' }),
    ]);
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url, { OPENAI_API_KEY: 'sk-fake-key-for-tests' }), clock: () => FIXED_NOW, openai: { baseURL: fake.baseURL } }); // routergpt:allow-secret
    try {
      const base = await listen(app);
      const s = (await postJson(`${base}/router/delegate`, { shop_slug: shop.slug })).body.session_id as string;
      const first = await postJson(`${base}/chat`, { session_id: s, message: 'A haircut Wednesday at 4pm' });
      expect(first.body.booking).toBeNull();
      expect(toolResult(fake.requests[1]!, 'c1')).toMatchObject({ booked: false, missing: ['customer_name'] });
      expect(first.body.reply).toMatch(/What name should the booking be under\?/);
      expect(await bookingsOf(s)).toEqual([]);
      // The schema the model sees requires the name; the system prompt says to ask for it.
      const create = fake.requests[0]!.body.tools!.find((t) => t.function.name === 'create_booking')!;
      expect(create.function.parameters.required).toEqual(['service_id', 'start_local', 'customer_name']);
      expect(fake.requests[0]!.body.messages[0]!.content).toMatch(/ask for the name the booking should be under/);
      const second = await postJson(`${base}/chat`, { session_id: s, message: 'Robin' });
      expect(second.body.booking).toMatchObject({ customer_name: 'Robin' });
    } finally {
      await app.close();
      await fake.close();
    }
  });

  it('A15: at a shop that requires a phone, the tool schema requires customer_phone and a call without it books nothing', async () => {
    const fake = await startFakeOpenAi([
      () => toolCall('c1', { service_id: phoneShop.services.haircut, start_local: '2030-03-06T16:00', customer_name: 'Robin' }),
      () => ({ role: 'assistant', content: 'And your phone number?' }),
    ]);
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url, { OPENAI_API_KEY: 'sk-fake-key-for-tests' }), clock: () => FIXED_NOW, openai: { baseURL: fake.baseURL } }); // routergpt:allow-secret
    try {
      const base = await listen(app);
      const s = (await postJson(`${base}/router/delegate`, { shop_slug: phoneShop.slug })).body.session_id as string;
      const res = await postJson(`${base}/chat`, { session_id: s, message: 'A haircut Wednesday at 4pm, I am Robin' });
      expect(res.body.booking).toBeNull();
      expect(toolResult(fake.requests[1]!, 'c1')).toMatchObject({ booked: false, missing: ['customer_phone'] });
      const create = fake.requests[0]!.body.tools!.find((t) => t.function.name === 'create_booking')!;
      expect(create.function.parameters.required).toEqual(['service_id', 'start_local', 'customer_name', 'customer_phone']);
      expect(await bookingsOf(s)).toEqual([]);
    } finally {
      await app.close();
      await fake.close();
    }
  });
});
