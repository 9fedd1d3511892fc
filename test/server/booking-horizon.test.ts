/**
 * Issue 14, A2 — far-future and absurd dates: "a beard trim in 9000 years at 10am" saved a booking
 * for the year 11026 and then answered 500 (the date did not serialise), and the retry with the
 * same idempotency key answered 500 forever; "in 150 years" booked 2176 with a reply that omitted
 * the year; `12/31/999999 at 3pm` silently booked today. The real server, the offline assistant,
 * real PostgreSQL.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseWhen } from '../../src/server/chat/understand.js';
import { buildTestApp, createServerDb, FIXED_NOW, insertTestShop, listen, postJson, testConfig, type ServerDb, type TestShop } from './helpers.js';

let sdb: ServerDb;
let shop: TestShop;
const apps: FastifyInstance[] = [];

async function serve(now: Date): Promise<string> {
  const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), clock: () => now, analytics: { flushIntervalMs: 3_600_000 } });
  apps.push(app);
  return listen(app);
}

async function converse(base: string, message: string, headers: Record<string, string> = {}) {
  const session = (await postJson(`${base}/router/delegate`, { shop_slug: shop.slug })).body.session_id as string;
  return { session, res: await postJson(`${base}/chat`, { session_id: session, message }, headers) };
}

const bookings = async () => Number((await sdb.pool.query<{ n: string }>('SELECT count(*) AS n FROM bookings')).rows[0]!.n);

beforeAll(async () => {
  sdb = await createServerDb('horizon');
  shop = await insertTestShop(sdb.pool);
}, 60_000);
beforeEach(async () => {
  await sdb.pool.query('DELETE FROM bookings');
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await sdb?.close();
});

describe('regression: a booking horizon (booking_horizon_days, default 90), and never a committed booking followed by an error', () => {
  for (const message of ['a beard trim in 9000 years at 10am', 'a beard trim in 150 years at 10am', 'a beard trim on March 5 2031 at 10am']) {
    it(`"${message}" → 200, nothing booked, the reply names the horizon; the retry with the same key answers the same`, async () => {
      const base = await serve(FIXED_NOW);
      const { session, res } = await converse(base, message, { 'Idempotency-Key': 'horizon-1' });
      expect(res.status).toBe(200);
      expect(res.body.booking ?? null).toBeNull();
      // Until Sun, Jun 2 (90 days after Mon, Mar 4 2030), with suggestions from now.
      expect(res.body.reply).toMatch(/we take bookings up to 90 days ahead \(until Sun, Jun 2\)/);
      expect(res.body.reply).toMatch(/The nearest free times are: Mon, Mar 4, /);
      const retry = await postJson(`${base}/chat`, { session_id: session, message }, { 'Idempotency-Key': 'horizon-1' });
      expect(retry.status).toBe(200);
      expect(await bookings()).toBe(0);
    });
  }

  it('a time within the horizon in another year is booked, and the reply names the year', async () => {
    const base = await serve(new Date('2030-12-20T17:00:00Z'));
    const { res } = await converse(base, 'a beard trim on January 3 at 10am for Sam');
    expect(res.status).toBe(200);
    expect(res.body.booking).toMatchObject({ service: 'Beard Trim', starts_at: '2031-01-03T17:00:00.000Z' });
    expect(res.body.reply).toContain('Fri, Jan 3, 2031, 10:00 AM');
    expect(await bookings()).toBe(1);
  });

  it('the current year is not named', async () => {
    const base = await serve(FIXED_NOW);
    const { res } = await converse(base, 'a beard trim on Friday at 10am');
    expect(res.body.reply).toContain('Fri, Mar 8, 10:00 AM');
  });

  for (const message of ['a beard trim on 12/31/999999 at 3pm', 'a beard trim on 2030-13-45 at 3pm', 'a beard trim 31.02.99999 at 3pm']) {
    it(`"${message}": an unreadable date is asked about, not guessed (nothing booked)`, async () => {
      const base = await serve(FIXED_NOW);
      const { res } = await converse(base, message);
      expect(res.status).toBe(200);
      expect(res.body.booking ?? null).toBeNull();
      expect(res.body.reply).toMatch(/^I couldn't read the date "[^"]+"\. Which day would you like your Beard Trim\?/);
      expect(await bookings()).toBe(0);
    });
  }

  it('parseWhen: numeric dates chrono reads are dates; times and prices are not mistaken for them', () => {
    const tz = 'America/Phoenix';
    expect(parseWhen('on 3/8/2030 at 10am', FIXED_NOW, tz)?.start?.toISOString()).toBe('2030-03-08T17:00:00.000Z');
    expect(parseWhen('at 10.30 tomorrow', FIXED_NOW, tz)?.unreadable).toBeUndefined();
    expect(parseWhen('the $25.00 cut tomorrow at 3pm', FIXED_NOW, tz)?.unreadable).toBeUndefined();
    expect(parseWhen('12/31/999999 at 3pm', FIXED_NOW, tz)?.unreadable).toBe('12/31/999999');
  });
});
