/**
 * Retention on real PostgreSQL (docs/maintenance.md#retention): the archive moves events in
 * batches (a small batch_size: several batches, the exact count), its dry run counts and changes
 * nothing, a run stopped after a batch resumes from its checkpoint without duplicating a row,
 * `routergpt metrics` and the analytics figures are identical before and after archiving (also
 * when the rollups are rebuilt from the archive), deleting reduces old figures and prunes the
 * rollups of the deleted hours, and anonymisation removes the messages but keeps the session and
 * its booking.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/resolve.js';
import type { EnvironmentConfig } from '../../src/config/types.js';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { loadAnalytics } from '../../src/db/analytics/load.js';
import { refreshAnalyticsRollupsOf, invalidateAnalyticsRollups } from '../../src/db/analytics/rollups.js';
import { routeFigures } from '../../src/db/analytics/watch.js';
import { retentionAnonymiseChatsStep } from '../../src/steps/retention/anonymise-chats.js';
import { retentionArchiveAnalyticsStep } from '../../src/steps/retention/archive-analytics.js';
import { retentionDeleteAnalyticsStep } from '../../src/steps/retention/delete-analytics.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { createMigratedDatabase, type MigratedDatabase } from '../helpers/migrated-db.js';
import { stepContext } from '../steps/context.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
const DAYS = 120;
const now = new Date();

let db: MigratedDatabase;
let database: Database;
let dir: string;
let config: EnvironmentConfig;

function configure(retention: string): EnvironmentConfig {
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), `version: 1\nenvironments:\n  staging:\n    retention: ${retention}\n`);
  return loadConfig({ flags: { env: 'staging' }, cwd: dir, env: { DATABASE_URL: db.url, ROUTERGPT_BACKUP_DIR: path.join(dir, 'backups') } }).config;
}

/**
 * "four-months-of-traffic": every day for 120 days, one search → delegation → chat → booking
 * through a session (the funnel, the per-shop counts and the gaps have something to count), an
 * error, and a synthetic search (left out of every figure) — at a different minute each day, so
 * windows cut hours in the middle.
 */
async function seedEvents(): Promise<void> {
  const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM shops ORDER BY id LIMIT 2');
  const [a, b] = rows.map((r) => Number(r.id));
  await db.pool.query(
    `WITH days AS (
       SELECT d, $1::timestamptz - d * interval '1 day' - (d * 7 % 60) * interval '1 minute' AS t, gen_random_uuid() AS search_id, gen_random_uuid() AS session_id
         FROM generate_series(1, $2::int) d
     )
     INSERT INTO router_analytics (event_type, session_id, shop_id, search_id, latency_ms, payload, created_at, synthetic, release)
     SELECT e.event_type, e.session_id, e.shop_id, e.search_id, e.latency_ms, e.payload, e.created_at, e.synthetic, 'v1'
       FROM days, LATERAL (VALUES
         ('search', NULL::uuid, NULL::bigint, days.search_id, 100 + d, jsonb_build_object('shop_ids', jsonb_build_array($3::bigint, $4::bigint)), days.t, false),
         ('delegate', days.session_id, $3::bigint, days.search_id, 40 + d % 7, '{}'::jsonb, days.t + interval '5 minutes', false),
         ('chat_message', days.session_id, $3::bigint, days.search_id, 900, '{}'::jsonb, days.t + interval '10 minutes', false),
         ('booking', days.session_id, $3::bigint, days.search_id, NULL::int, '{}'::jsonb, days.t + interval '15 minutes', false),
         ('error', NULL::uuid, NULL::bigint, NULL::uuid, NULL::int, '{"route": "/router/search-by-location", "status": 500}'::jsonb, days.t + interval '20 minutes', false),
         ('search', NULL::uuid, NULL::bigint, gen_random_uuid(), 5, jsonb_build_object('shop_ids', jsonb_build_array($4::bigint)), days.t + interval '25 minutes', true)
       ) AS e(event_type, session_id, shop_id, search_id, latency_ms, payload, created_at, synthetic)`,
    [now, DAYS, a, b],
  );
}

async function counts(): Promise<{ hot: number; archive: number; distinct: number }> {
  const { rows } = await db.pool.query<{ hot: number; archive: number; distinct: number }>(
    `SELECT (SELECT count(*) FROM router_analytics)::int AS hot, (SELECT count(*) FROM router_analytics_archive)::int AS archive,
            (SELECT count(DISTINCT id) FROM (SELECT id FROM router_analytics UNION ALL SELECT id FROM router_analytics_archive) x)::int AS distinct`,
  );
  return rows[0]!;
}

/** Every event's columns, wherever it is, in id order: archiving must not change one. */
async function eventsDigest(): Promise<string> {
  const cols = 'id, event_type, session_id, shop_id, search_id, latency_ms, payload, created_at, synthetic, release, host';
  const { rows } = await db.pool.query<{ digest: string }>(`SELECT md5(string_agg(row(${cols})::text, '|' ORDER BY id)) AS digest FROM (SELECT ${cols} FROM router_analytics UNION ALL SELECT ${cols} FROM router_analytics_archive) e`);
  return rows[0]!.digest;
}

const since = new Date(now.getTime() - 100 * DAY - 17 * MINUTE);
const until = new Date(now.getTime() - 3 * DAY + 11 * MINUTE);
const metricsArgs = ['metrics', '--env', 'staging', '--since', since.toISOString(), '--until', until.toISOString(), '--json'];

async function metricsJson(): Promise<string> {
  const result = await runCli(metricsArgs, { cwd: dir, env: { DATABASE_URL: db.url } });
  expect([0, 1], result.stderr).toContain(result.exitCode);
  return result.stdout;
}

async function analyticsFigures(): Promise<unknown> {
  const rollups = await refreshAnalyticsRollupsOf(db.pool);
  const window = { since, until };
  const rolled = await loadAnalytics(db.pool, window, { funnelWindowHours: 24, shops: 10, ...(rollups ? { rollups } : {}) });
  const raw = await loadAnalytics(db.pool, window, { funnelWindowHours: 24, shops: 10 });
  // The rolled answers are the raw ones, archive or not.
  expect(rolled).toEqual(raw);
  const watch = await routeFigures(db.pool, { from: since, to: until, release: 'v1' });
  return { ...raw, lastHour: undefined, watch };
}

beforeAll(async () => {
  db = await createMigratedDatabase({ seed: true, prefix: 'ret' });
  dir = tempDir('routergpt-retention-');
  config = configure('{ analytics_archive_days: 30, analytics_delete_days: 90, chat_anonymise_days: 60 }');
  database = await openDatabase(config, { applicationName: 'routergpt-test' });
  await seedEvents();
}, 120_000);

afterAll(async () => {
  await database?.close();
  await db?.close();
});

describe('retention.archive-analytics', () => {
  let before: { metrics: string; figures: unknown; digest: string };

  it('the dry run counts the events past the archive age and changes nothing', async () => {
    const ctx = stepContext(config, database);
    const plan = await retentionArchiveAnalyticsStep.plan(ctx);
    // Days 30…120 are older than 30 days (each day's first event is 30 days and some minutes
    // back): 91 days × 6 events (the synthetic ones move too).
    expect(plan[0]).toMatch(/^Move 546 events created before /);
    expect(await counts()).toEqual({ hot: DAYS * 6, archive: 0, distinct: DAYS * 6 });
    before = { metrics: await metricsJson(), figures: await analyticsFigures(), digest: await eventsDigest() };
    expect(JSON.parse(before.metrics).metrics.find((m: { id: string }) => m.id === 'search-to-booking').parts).toMatchObject({ searches: 97, bookedSearches: 97 });
  }, 120_000);

  it('a run stopped after its first batch resumes from the checkpoint: every batch once, no row twice', async () => {
    const checkpoints: Array<Record<string, unknown>> = [];
    const stop = new AbortController();
    const first = stepContext(config, database, {
      params: { batch_size: 100 },
      signal: stop.signal,
      checkpoint: async (data) => {
        checkpoints.push(structuredClone(data));
        stop.abort();
      },
    });
    const stopped = await retentionArchiveAnalyticsStep.run(first);
    expect(stopped.status).toBe('warn');
    expect(stopped.summary).toContain('interrupted, resume to continue');
    expect(stopped.outputs).toMatchObject({ archived: 100, batches: 1, left: 446 });
    expect(await counts()).toEqual({ hot: DAYS * 6 - 100, archive: 100, distinct: DAYS * 6 });

    // A new process reads the journaled checkpoint back (ctx.resumed) and goes on.
    const saved = checkpoints.at(-1)!;
    const resumed = stepContext(config, database, { params: { batch_size: 100 }, resumed: saved, checkpoint: async (data) => void checkpoints.push(structuredClone(data)) });
    const done = await retentionArchiveAnalyticsStep.run(resumed);
    expect(done.status).toBe('done');
    // 546 in all: 100 before the stop, 446 after — six batches of at most 100.
    expect(done.outputs).toMatchObject({ cutoff: saved.cutoff, archived: 546, batches: 6 });
    expect(done.summary).toMatch(/^archived 546 events older than 30 days in 6 batches \(longest \d+ ms\)$/);
    expect(checkpoints).toHaveLength(6);
    expect(await counts()).toEqual({ hot: 29 * 6, archive: 546, distinct: DAYS * 6 });
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM router_analytics_archive WHERE created_at >= $1::timestamptz`, [saved.cutoff]);
    expect(rows[0]!.n).toBe(0);
    // Nothing left to move: the next run says so.
    const again = await retentionArchiveAnalyticsStep.run(stepContext(config, database, { params: { batch_size: 100 } }));
    expect(again).toMatchObject({ status: 'skipped', outputs: { archived: 0 } });
  }, 120_000);

  it('every event is as it was, and metrics, analytics and the watch figures are identical', async () => {
    expect(await eventsDigest()).toBe(before.digest);
    expect(await metricsJson()).toBe(before.metrics);
    expect(await analyticsFigures()).toEqual(before.figures);
    // The rollups rebuilt from scratch read the archive too: no archived hour is lost.
    await invalidateAnalyticsRollups(db.pool, new Date(now.getTime() - 200 * DAY));
    expect(await metricsJson()).toBe(before.metrics);
    expect(await analyticsFigures()).toEqual(before.figures);
  }, 120_000);
});

describe('retention.delete-analytics', () => {
  it('the dry run counts, then events before the cutoff hour go in batches, and the rollups of those hours with them', async () => {
    const ctx = stepContext(config, database, { params: { batch_size: 50 } });
    const cutoff = new Date(Math.floor((now.getTime() - 90 * DAY) / 3_600_000) * 3_600_000);
    const { rows: expected } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM router_analytics_archive WHERE created_at < $1', [cutoff]);
    const n = expected[0]!.n;
    expect(n).toBeGreaterThanOrEqual(30 * 6);
    expect((await retentionDeleteAnalyticsStep.plan(ctx))[0]).toContain(`Delete ${n} events created before ${cutoff.toISOString()}`);
    expect((await counts()).archive).toBe(546);

    const result = await retentionDeleteAnalyticsStep.run(ctx);
    expect(result.status).toBe('done');
    expect(result.outputs).toMatchObject({ deletedArchived: n, deletedHot: 0, batches: Math.ceil(n / 50) });
    expect((await counts()).archive).toBe(546 - n);
    const { rows: left } = await db.pool.query<{ n: number }>(
      `SELECT ((SELECT count(*) FROM router_analytics_archive WHERE created_at < $1) + (SELECT count(*) FROM router_analytics_hourly WHERE hour < $1)
              + (SELECT count(*) FROM router_search_outcomes WHERE searched_at < $1) + (SELECT count(*) FROM router_analytics_hourly_gaps WHERE prev_hour < $1))::int AS n`,
      [cutoff],
    );
    expect(left[0]!.n).toBe(0);
    // Old figures are smaller (that is retention), and the rolled answers still equal the raw ones.
    const after = JSON.parse(await metricsJson());
    expect(after.metrics.find((m: { id: string }) => m.id === 'search-to-booking').parts.searches).toBeLessThan(97);
    await analyticsFigures();
  }, 120_000);
});

describe('retention.anonymise-chats', () => {
  it('removes the messages of sessions past the age, keeps the sessions and their bookings; the dry run counts first', async () => {
    const { rows: svc } = await db.pool.query<{ id: string; shop_id: string }>('SELECT id, shop_id FROM services ORDER BY id LIMIT 1');
    const { id: service, shop_id: shop } = svc[0]!;
    // Three old sessions (70, 80, 90 days) with two messages and a booking each, one recent (10 days).
    for (const [i, days] of [70, 80, 90, 10].entries()) {
      await db.pool.query(
        `WITH s AS (INSERT INTO chat_sessions (shop_id, source, intent, router_context, created_at, client_hmac) VALUES ($1, 'search', 'haircut', '{"city":"Tempe"}', $3, 'hmac') RETURNING id),
              m AS (INSERT INTO chat_messages (session_id, role, content, created_at) SELECT id, r, 'I am Pat, call me on 555-0100', $3 FROM s, unnest(ARRAY['user', 'assistant']) r),
              f AS (INSERT INTO router_feedback (session_id, rating, comment) SELECT id, 5, 'great, thanks Pat' FROM s)
         INSERT INTO bookings (shop_id, service_id, session_id, customer_name, starts_at, ends_at, idempotency_key)
         SELECT $1, $2, id, 'Pat Example', $3::timestamptz + interval '1 day', $3::timestamptz + interval '1 day 30 minutes', 'ret-' || $4 FROM s`,
        [shop, service, new Date(now.getTime() - days * DAY), i],
      );
    }
    const ctx = stepContext(config, database, { params: { batch_size: 2 } });
    expect((await retentionAnonymiseChatsStep.plan(ctx))[0]).toMatch(/^Anonymise 3 chat sessions created before .* delete their 6 messages/);
    const { rows: unchanged } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM chat_messages WHERE content LIKE 'I am Pat%'");
    expect(unchanged[0]!.n).toBe(8);

    const result = await retentionAnonymiseChatsStep.run(ctx);
    expect(result).toMatchObject({ status: 'done', outputs: { sessions: 3, messages: 6, comments: 3, batches: 2 } });
    const { rows } = await db.pool.query<{ created_at: Date; anonymised: boolean; intent: string | null; context: unknown; hmac: string | null; messages: number; booking: string | null; comment: string | null; rating: number }>(
      `SELECT s.created_at, s.anonymised_at IS NOT NULL AS anonymised, s.intent, s.router_context AS context, s.client_hmac AS hmac,
              (SELECT count(*)::int FROM chat_messages m WHERE m.session_id = s.id) AS messages,
              (SELECT b.customer_name FROM bookings b WHERE b.session_id = s.id) AS booking, f.comment, f.rating
         FROM chat_sessions s JOIN router_feedback f ON f.session_id = s.id ORDER BY s.created_at`,
    );
    expect(rows).toHaveLength(4);
    for (const r of rows.slice(0, 3)) expect(r).toMatchObject({ anonymised: true, intent: null, context: {}, hmac: null, messages: 0, booking: 'Pat Example', comment: null, rating: 5 });
    expect(rows[3]).toMatchObject({ anonymised: false, intent: 'haircut', messages: 2, comment: 'great, thanks Pat' });
    expect((await retentionAnonymiseChatsStep.run(ctx)).status).toBe('skipped');
  }, 60_000);
});

describe('retention not configured', () => {
  it('each step skips, saying the data is kept forever', async () => {
    const plain = configure('{}');
    for (const step of [retentionArchiveAnalyticsStep, retentionDeleteAnalyticsStep, retentionAnonymiseChatsStep]) {
      const result = await step.run(stepContext(plain, database));
      expect(result.status).toBe('skipped');
      expect(result.summary).toMatch(/is not set \(not set: .*kept forever\)/);
    }
    config = configure('{ analytics_archive_days: 30, analytics_delete_days: 90, chat_anonymise_days: 60 }');
  });
});
