/**
 * The analytics rollups (migration 012, src/db/analytics/rollups.ts) give the raw queries'
 * answers exactly: on a randomized fixture (seeded, so a failure replays) with events up to the
 * present — inside the settle margin, in partial hours, after the horizon — every window's
 * success metrics and analytics are compared, read raw and read rolled; again after new events
 * and a refresh, after an insert of the past, and after a rewrite of old rows and
 * invalidateAnalyticsRollups().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAnalytics } from '../../src/db/analytics/load.js';
import { successMetrics } from '../../src/db/analytics/metrics.js';
import { invalidateAnalyticsRollups, readAnalyticsRollupState, refreshAnalyticsRollupsOf, type RollupState } from '../../src/db/analytics/rollups.js';
import { windowFigures } from '../../src/db/analytics/watch.js';
import { createMigratedDatabase, type MigratedDatabase } from '../helpers/migrated-db.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
let db: MigratedDatabase;
let shops: number[] = [];

/** mulberry32: a small seeded generator. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const uuid = (n: number, kind: number) => `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

interface Ev {
  type: string;
  session: string | null;
  shop: number | null;
  search: string | null;
  latency: number | null;
  payload: unknown;
  at: number;
  synthetic: boolean;
}

/** Funnels of searches, delegations and bookings, chat, feedback and errors, from `from` to `to`. */
function fixture(seed: number, from: number, to: number, count: number, offset: number): Ev[] {
  const r = rng(seed);
  const pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)] as T;
  const out: Ev[] = [];
  for (let i = 0; i < count; i += 1) {
    const n = offset + i;
    const at = from + Math.floor(r() * (to - from));
    const synthetic = r() < 0.08;
    const search = uuid(n, 1);
    const found = r() < 0.1 ? [] : Array.from({ length: 1 + Math.floor(r() * 4) }, () => pick(shops));
    const payload = r() < 0.03 ? { shop_ids: 'oops' } : r() < 0.03 ? { shop_ids: [...found, 'x', String(found[0] ?? 1)] } : { shop_ids: found };
    out.push({ type: 'search', session: null, shop: null, search: r() < 0.02 ? null : search, latency: r() < 0.05 ? null : Math.floor(r() * 900), payload, at, synthetic });
    const sessions = r() < 0.4 ? 1 + Math.floor(r() * 2) : 0;
    for (let s = 0; s < sessions; s += 1) {
      const session = r() < 0.05 ? null : uuid(n * 4 + s, 2);
      const dAt = at + Math.floor(r() < 0.15 ? r() * 40 * HOUR : r() * 90 * MINUTE);
      const shop = r() < 0.85 ? (found[0] ?? pick(shops)) : pick(shops);
      const dSynthetic = synthetic || r() < 0.03;
      out.push({ type: 'delegate', session, shop, search, latency: Math.floor(r() * 300), payload: {}, at: dAt, synthetic: dSynthetic });
      if (r() < 0.3) out.push({ type: 'delegate', session, shop, search, latency: Math.floor(r() * 300), payload: {}, at: dAt + Math.floor(r() * 3 * HOUR), synthetic: dSynthetic });
      for (let m = 0; m < Math.floor(r() * 4); m += 1) out.push({ type: 'chat_message', session, shop, search: null, latency: 500 + Math.floor(r() * 3000), payload: {}, at: dAt + Math.floor(r() * 2 * HOUR), synthetic: dSynthetic });
      if (r() < 0.45) out.push({ type: 'booking', session, shop, search, latency: null, payload: {}, at: dAt + Math.floor(r() < 0.2 ? r() * 40 * HOUR : r() * 3 * HOUR), synthetic: dSynthetic || r() < 0.03 });
      if (r() < 0.2) out.push({ type: 'feedback', session, shop, search: null, latency: Math.floor(r() * 40), payload: { rating: 1 + Math.floor(r() * 5) }, at: dAt + Math.floor(r() * 5 * HOUR), synthetic: dSynthetic });
    }
    if (r() < 0.03) out.push({ type: 'error', session: null, shop: null, search: null, latency: Math.floor(r() * 50), payload: { route: '/router/search-by-location', status: 500 }, at: at + 1000, synthetic });
  }
  return out;
}

async function insert(events: Ev[]) {
  for (let i = 0; i < events.length; i += 500) {
    const chunk = events.slice(i, i + 500);
    await db.pool.query(
      `INSERT INTO router_analytics (event_type, session_id, shop_id, search_id, latency_ms, payload, created_at, synthetic)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::uuid[], $5::int[], $6::jsonb[], $7::timestamptz[], $8::boolean[])`,
      [
        chunk.map((e) => e.type),
        chunk.map((e) => e.session),
        chunk.map((e) => e.shop),
        chunk.map((e) => e.search),
        chunk.map((e) => e.latency),
        chunk.map((e) => JSON.stringify(e.payload)),
        chunk.map((e) => new Date(e.at).toISOString()),
        chunk.map((e) => e.synthetic),
      ],
    );
  }
}

/** Windows of every shape: long and short, hour-aligned and not, ending now and in the past. */
function windows(now: number) {
  const r = rng(7);
  const ws = [
    { since: now - 30 * 24 * HOUR, until: now },
    { since: now - 3 * 24 * HOUR - 17 * MINUTE, until: now },
    { since: now - 7 * MINUTE - 20 * 1000, until: now },
    { since: Math.floor((now - 50 * HOUR) / HOUR) * HOUR, until: Math.floor((now - 2 * HOUR) / HOUR) * HOUR },
  ];
  for (let i = 0; i < 6; i += 1) {
    const since = now - Math.floor(r() * 6 * 24 * HOUR);
    ws.push({ since, until: Math.min(now, since + Math.floor(r() * 3 * 24 * HOUR) + 1) });
  }
  return ws.map((w) => ({ since: new Date(w.since), until: new Date(w.until) }));
}

async function expectSameAnswers(state: RollupState, now: number) {
  for (const w of windows(now)) {
    const label = `${w.since.toISOString()} … ${w.until.toISOString()}`;
    const raw = await successMetrics(db.pool, { since: w.since, until: w.until });
    const rolled = await successMetrics(db.pool, { since: w.since, until: w.until, rollups: state });
    expect(rolled, label).toEqual(raw);
    const options = { funnelWindowHours: 24, shops: 50 };
    const rawA = await loadAnalytics(db.pool, w, options);
    const rolledA = await loadAnalytics(db.pool, w, { ...options, rollups: state });
    expect(rolledA, label).toEqual(rawA);
    // watch's figures (its baseline reads the state as the last refresh left it, never refreshing).
    const read = await readAnalyticsRollupState(db.pool);
    expect(read, label).toEqual(state);
    expect(await windowFigures(db.pool, { from: w.since, to: w.until }, read), label).toEqual(await windowFigures(db.pool, { from: w.since, to: w.until }));
  }
}

beforeAll(async () => {
  db = await createMigratedDatabase({ prefix: 'rollups', poolSize: 2 });
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO shops (slug, name, category) SELECT 'r-' || i, 'Shop ' || i, 'salon' FROM generate_series(1, 12) i RETURNING id`);
  shops = rows.map((x) => Number(x.id));
});
afterAll(async () => db?.close());

describe('analytics rollups', () => {
  it('a refresh that takes long says so once (the commands print it); a quick one says nothing', async () => {
    const said: string[] = [];
    await refreshAnalyticsRollupsOf(db.pool, { onSlow: () => said.push('slow'), slowMs: 0 });
    expect(said).toEqual(['slow']);
    await refreshAnalyticsRollupsOf(db.pool, { onSlow: () => said.push('again'), slowMs: 60_000 });
    expect(said).toEqual(['slow']);
  });

  it('read rolled, every window answers as read raw — built, refreshed after new events, and after an invalidation', async () => {
    const now = Date.now();
    await insert(fixture(2026, now - 6 * 24 * HOUR, now, 1500, 0));
    // The refresh's horizon: now less the settle margin; what follows it is read raw.
    const first = await refreshAnalyticsRollupsOf(db.pool);
    expect(first).toBeDefined();
    const { rows: built } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM router_search_outcomes');
    expect(Number(built[0]?.n)).toBeGreaterThan(1000);
    await expectSameAnswers(first!, Date.now());

    // New traffic (some of it delegations and bookings of the searches above), then a refresh.
    // Live traffic is stamped after the last horizon (now less the settle margin, 5 minutes).
    const later = Date.now();
    await insert(fixture(11, later - 4 * MINUTE, later, 150, 1500));
    const { rows: recent } = await db.pool.query<{ search_id: string; created_at: Date }>(
      `SELECT search_id, created_at FROM router_analytics WHERE event_type = 'search' AND created_at > now() - interval '20 hours' AND NOT synthetic AND search_id IS NOT NULL ORDER BY id LIMIT 40`,
    );
    await insert(recent.map((s, i) => ({ type: 'delegate', session: uuid(90_000 + i, 3), shop: shops[i % shops.length]!, search: s.search_id, latency: 20, payload: {}, at: Date.now() - 1000, synthetic: false })));
    await insert(recent.map((_, i) => ({ type: 'booking', session: uuid(90_000 + i, 3), shop: shops[i % shops.length]!, search: null, latency: null, payload: {}, at: Date.now(), synthetic: false })));
    const second = await refreshAnalyticsRollupsOf(db.pool);
    await expectSameAnswers(second!, Date.now());
    // And without a refresh: the events after the horizon are read raw.
    await insert(fixture(12, Date.now() - 2 * MINUTE, Date.now(), 40, 2000));
    await expectSameAnswers(second!, Date.now());

    // An insert of the past (an import, a backfill) after a refresh: the next refresh notices it
    // by id and rebuilds from its oldest row.
    await insert(fixture(13, Date.now() - 4 * 24 * HOUR, Date.now() - 2 * 24 * HOUR, 60, 3000));
    const backfilled = await refreshAnalyticsRollupsOf(db.pool);
    await expectSameAnswers(backfilled!, Date.now());

    // A rewrite of old rows (a purge's SET NULL, a retention delete) invalidates from its oldest row.
    const { rows: gone } = await db.pool.query<{ oldest: Date }>(
      `WITH d AS (DELETE FROM router_analytics WHERE id IN (SELECT id FROM router_analytics WHERE event_type = 'delegate' AND created_at < now() - interval '2 days' ORDER BY id LIMIT 30) RETURNING created_at),
            u AS (UPDATE router_analytics SET shop_id = NULL WHERE id IN (SELECT id FROM router_analytics WHERE event_type = 'delegate' AND created_at < now() - interval '3 days' ORDER BY id DESC LIMIT 30) RETURNING created_at)
       SELECT min(created_at) AS oldest FROM (SELECT created_at FROM d UNION ALL SELECT created_at FROM u) x`,
    );
    await invalidateAnalyticsRollups(db.pool, gone[0]!.oldest);
    const third = await refreshAnalyticsRollupsOf(db.pool);
    await expectSameAnswers(third!, Date.now());
  }, 120_000);
});
