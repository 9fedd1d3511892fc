/**
 * `routergpt analytics` (issue 11, part 3) on real PostgreSQL through the real CLI, over events
 * whose answers were worked out by hand: the ordered funnel per search, popular shops, the last
 * hour with synthetic rows apart, and the time between events — synthetic traffic never counted.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { createMigratedDatabase, type MigratedDatabase } from '../helpers/migrated-db.js';

let db: MigratedDatabase;
const env = () => ({ env: { DATABASE_URL: db.url } });
const HOUR = 3_600_000;

beforeAll(async () => {
  db = await createMigratedDatabase({ prefix: 'analytics' });
  const { rows } = await db.pool.query<{ id: string }>(`INSERT INTO shops (slug, name, category) VALUES ('shop-a', 'Shop A', 'barbershop'), ('shop-b', 'Shop B', 'salon') RETURNING id`);
  const [a, b] = rows.map((r) => Number(r.id)) as [number, number];
  const t0 = Date.now() - 48 * HOUR;
  const at = (ms: number) => new Date(ms).toISOString();
  const ev: Array<[string, string | null, number | null, string | null, number, unknown, boolean]> = [
    // s1: found A and B, delegated to A (session X) a minute later, booked 9 minutes after that.
    ['search', null, null, '00000000-0000-4000-8000-000000000001', t0, { shop_ids: [a, b] }, false],
    ['delegate', '10000000-0000-4000-8000-00000000000a', a, '00000000-0000-4000-8000-000000000001', t0 + 60_000, {}, false],
    ['booking', '10000000-0000-4000-8000-00000000000a', a, '00000000-0000-4000-8000-000000000001', t0 + 600_000, {}, false],
    // s2: found A, but the delegation was to B, which it did not return: not "delegated".
    ['search', null, null, '00000000-0000-4000-8000-000000000002', t0, { shop_ids: [a] }, false],
    ['delegate', '10000000-0000-4000-8000-00000000000b', b, '00000000-0000-4000-8000-000000000002', t0 + 60_000, {}, false],
    // s3: found nothing.
    ['search', null, null, '00000000-0000-4000-8000-000000000003', t0, { shop_ids: [] }, false],
    // s4: delegated 25 h later: outside the 24 h funnel window.
    ['search', null, null, '00000000-0000-4000-8000-000000000004', t0, { shop_ids: [a] }, false],
    ['delegate', '10000000-0000-4000-8000-00000000000c', a, '00000000-0000-4000-8000-000000000004', t0 + 25 * HOUR, {}, false],
    // s5: routergpt's own check, all synthetic: never counted.
    ['search', null, null, '00000000-0000-4000-8000-000000000005', t0, { shop_ids: [a] }, true],
    ['delegate', '10000000-0000-4000-8000-00000000000d', a, '00000000-0000-4000-8000-000000000005', t0 + 60_000, {}, true],
    ['booking', '10000000-0000-4000-8000-00000000000d', a, '00000000-0000-4000-8000-000000000005', t0 + 120_000, {}, true],
    // s6 (in the last hour): two sessions opened on B, the second booked a minute later: once per stage.
    ['search', null, null, '00000000-0000-4000-8000-000000000006', Date.now() - 10 * 60_000, { shop_ids: [b] }, false],
    ['delegate', '10000000-0000-4000-8000-00000000000e', b, '00000000-0000-4000-8000-000000000006', Date.now() - 9 * 60_000, {}, false],
    ['delegate', '10000000-0000-4000-8000-00000000000f', b, '00000000-0000-4000-8000-000000000006', Date.now() - 8 * 60_000, {}, false],
    ['booking', '10000000-0000-4000-8000-00000000000f', b, '00000000-0000-4000-8000-000000000006', Date.now() - 7 * 60_000, {}, false],
    ['search', null, null, '00000000-0000-4000-8000-000000000007', Date.now() - 5 * 60_000, { shop_ids: [b] }, true],
  ];
  for (const [type, session, shop, search, ms, payload, synthetic] of ev) {
    await db.pool.query(`INSERT INTO router_analytics (event_type, session_id, shop_id, search_id, latency_ms, payload, created_at, synthetic) VALUES ($1, $2, $3, $4, 10, $5, $6, $7)`, [type, session, shop, search, JSON.stringify(payload), at(ms), synthetic]);
  }
});
afterAll(async () => db?.close());

describe('routergpt analytics', () => {
  it('--json: the funnel per search, shops, the last hour and gaps, as worked out by hand', async () => {
    const result = await runCli(['analytics', '--env', 'prod', '--since', '3d', '--json'], env());
    expect(result.exitCode, result.stderr).toBe(0);
    const r = JSON.parse(result.stdout);
    expect(r.schema).toBe('routergpt.analytics/v1');
    expect(r.funnel).toEqual({ windowHours: 24, searches: 5, searchesWithResults: 4, delegated: 2, booked: 2 });
    expect(r.shops).toEqual([
      { slug: 'shop-a', name: 'Shop A', timesDiscovered: 3, timesDelegated: 2, bookings: 1 },
      { slug: 'shop-b', name: 'Shop B', timesDiscovered: 2, timesDelegated: 3, bookings: 1 },
    ]);
    expect(r.lastHour).toEqual([
      { eventType: 'booking', real: 1, synthetic: 0 },
      { eventType: 'delegate', real: 2, synthetic: 0 },
      { eventType: 'search', real: 1, synthetic: 1 },
    ]);
    // Bookings 9 min and 1 min after their session's delegation; a session's first event (every
    // delegation here opens its own session) has no gap; the synthetic booking is not counted.
    expect(r.timeBetweenEvents).toEqual([{ eventType: 'booking', events: 2, avgSecondsSincePrevious: 300 }]);
    expect(r.daily.length).toBeGreaterThanOrEqual(3);
    expect(r.daily.reduce((n: number, d: { searches: number }) => n + d.searches, 0)).toBe(5);
    expect(r.daily.reduce((n: number, d: { bookings: number }) => n + d.bookings, 0)).toBe(2);
  });

  it('a longer funnel window counts the late delegation', async () => {
    const r = JSON.parse((await runCli(['analytics', '--env', 'prod', '--since', '3d', '--funnel-window', '2d', '--json'], env())).stdout);
    expect(r.funnel).toMatchObject({ searches: 5, delegated: 3, booked: 2, windowHours: 48 });
  });

  it('human: tables, the chart and the funnel bars; markdown to a file', async () => {
    const file = path.join(tempDir(), 'analytics.md');
    const result = await runCli(['analytics', '--env', 'prod', '--since', '3d', '--reporter', 'human', '--reporter', `markdown=${file}`], env());
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('Funnel, per search');
    expect(result.stdout).toMatch(/searches \(upper line\) {2}bookings \(lower line\)/);
    expect(result.stdout).toMatch(/booked +█+ +2/);
    expect(result.stdout).toMatch(/shop-a +│ +3 +│ +2 +│ +1/);
    const md = readFileSync(file, 'utf8');
    expect(md).toMatch(/^## routergpt analytics — prod\n/);
    expect(md).toContain('| booked in that session | 2 | 40.0 % | 100.0 % |');
  });

  for (const [args, message] of [
    [['--since', '7x'], 'is not a duration or a date'],
    [['--since', '2999-01-01'], 'is not in the past'],
    [['--funnel-window', 'soon'], '--funnel-window'],
    [['--reporter', 'junit'], 'Unknown reporter "junit"'],
  ] as const) {
    it(`bad input ${args.join(' ')}: exit 2, one message`, async () => {
      const result = await runCli(['analytics', '--env', 'prod', ...args], env());
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe('');
    });
  }
});
