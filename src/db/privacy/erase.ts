/**
 * What an erasure does to each table (docs/privacy.md "What erase does"), inside the caller's
 * transaction. Idempotent: a row already erased is not counted again, so the same targets are
 * re-applied after every restore (ledger.ts) and say how much they changed.
 *
 * - chat_messages, router_feedback: deleted (what the person wrote, and their rating/comment).
 * - chat_sessions: kept (the shop's figures count conversations), anonymised — intent,
 *   router_context, search_id and client_hmac cleared, anonymised_at set (kept if retention set it).
 * - bookings: kept (the shop's schedule must still show the time as taken), customer_name and
 *   customer_phone (migration 015) removed;
 *   booking_slots hold no personal data and stay with their booking.
 * - router_analytics, router_analytics_archive: kept for the figures, unlinked and scrubbed —
 *   session_id and search_id cleared, the payload cut to the keys that say nothing about a person
 *   (KEEP_PAYLOAD_KEYS) plus `"erased": true`; the rollups are invalidated from the oldest such event.
 * - router_refusals: the counts stay, re-keyed from the person's client HMAC to the
 *   server's overflow client (the key refusals.ts folds excess clients into).
 */
import { invalidateAnalyticsRollups } from '../analytics/rollups.js';
import type { Queryable } from '../pool.js';
import { tableExists, type ErasureTargets } from './subject.js';

/** Payload keys that describe the event, not the person (intent, booking_id, starts_at, latitude, longitude, request_id… go). */
export const KEEP_PAYLOAD_KEYS = ['assistant', 'booked', 'replayed', 'source', 'rating', 'replaced', 'has_comment', 'service', 'result_count', 'radius_miles', 'category', 'shop_ids', 'route', 'status', 'method'] as const;

/** The client refusals.ts folds clients into once its per-client cells are full (OVERFLOW_CLIENT there). */
export const OVERFLOW_CLIENT = 'overflow';

/** Rows changed per table: `deleted`, `anonymised`, `scrubbed`, `re-keyed`. */
export type EraseCounts = Record<string, { action: 'deleted' | 'anonymised' | 'name removed' | 'scrubbed' | 're-keyed'; rows: number }>;

const SCRUBBED_PAYLOAD = `(SELECT coalesce(jsonb_object_agg(e.key, e.value), '{}'::jsonb) FROM jsonb_each(payload) e WHERE e.key = ANY($2::text[])) || '{"erased": true}'::jsonb`;

/** bookings.customer_phone came with migration 015: a database restored from before it has none. */
async function hasPhoneColumn(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('public.bookings') AND attname = 'customer_phone' AND NOT attisdropped) AS present`);
  return rows[0]?.present === true;
}

/** The bookings SQL for the contact data: the name, and the phone where the column exists. */
async function bookingContact(db: Queryable): Promise<{ set: string; present: string }> {
  return (await hasPhoneColumn(db))
    ? { set: 'customer_name = NULL, customer_phone = NULL', present: '(customer_name IS NOT NULL OR customer_phone IS NOT NULL)' }
    : { set: 'customer_name = NULL', present: 'customer_name IS NOT NULL' };
}

async function count(db: Queryable, sql: string, values: unknown[]): Promise<number> {
  return (await db.query(sql, values)).rowCount ?? 0;
}

export async function eraseTargets(db: Queryable, targets: ErasureTargets, now: Date): Promise<EraseCounts> {
  const { sessions, bookings } = targets;
  const counts: EraseCounts = {};
  counts.chat_messages = { action: 'deleted', rows: await count(db, 'DELETE FROM chat_messages WHERE session_id = ANY($1::uuid[])', [sessions]) };
  if (await tableExists(db, 'router_feedback')) counts.router_feedback = { action: 'deleted', rows: await count(db, 'DELETE FROM router_feedback WHERE session_id = ANY($1::uuid[])', [sessions]) };
  counts.chat_sessions = {
    action: 'anonymised',
    rows: await count(
      db,
      `UPDATE chat_sessions SET intent = NULL, router_context = '{}'::jsonb, search_id = NULL, client_hmac = NULL, anonymised_at = coalesce(anonymised_at, $2)
        WHERE id = ANY($1::uuid[]) AND (intent IS NOT NULL OR router_context <> '{}'::jsonb OR search_id IS NOT NULL OR client_hmac IS NOT NULL OR anonymised_at IS NULL)`,
      [sessions, now],
    ),
  };
  const contact = await bookingContact(db);
  counts.bookings = { action: 'name removed', rows: await count(db, `UPDATE bookings SET ${contact.set} WHERE id = ANY($1::uuid[]) AND ${contact.present}`, [bookings]) };

  // Events: by id (what the lookup found) and by session (an event written since, or archived since).
  const events = [...new Set([...targets.analytics, ...targets.archive])];
  const scrub = (table: string) =>
    db.query<{ created_at: Date }>(
      `UPDATE ${table} SET session_id = NULL, search_id = NULL, payload = ${SCRUBBED_PAYLOAD}
        WHERE (id = ANY($1::bigint[]) OR session_id = ANY($3::uuid[])) AND NOT (session_id IS NULL AND search_id IS NULL AND payload @> '{"erased": true}'::jsonb)
       RETURNING created_at`,
      [events, [...KEEP_PAYLOAD_KEYS], sessions],
    );
  const hot = await scrub('router_analytics');
  counts.router_analytics = { action: 'scrubbed', rows: hot.rowCount ?? 0 };
  if (await tableExists(db, 'router_analytics_archive')) counts.router_analytics_archive = { action: 'scrubbed', rows: (await scrub('router_analytics_archive')).rowCount ?? 0 };
  if (hot.rows.length) {
    // The rollups were built from the rows just rewritten: rebuilt from the oldest (and the session's own rows go now).
    const oldest = hot.rows.reduce((min, r) => (r.created_at < min ? r.created_at : min), hot.rows[0]!.created_at);
    await invalidateAnalyticsRollups(db, oldest);
  }
  if (await tableExists(db, 'router_analytics_hourly_sessions')) {
    await db.query('DELETE FROM router_analytics_hourly_sessions WHERE session_id = ANY($1::uuid[])', [sessions]);
    await db.query('DELETE FROM router_search_delegations WHERE session_id = ANY($1::uuid[])', [sessions]);
  }

  if (await tableExists(db, 'router_refusals')) {
    const hmacs = targets.clientHmacs.filter((h) => h !== OVERFLOW_CLIENT);
    let rekeyed = 0;
    if (hmacs.length) {
      // Summed per cell first: two of the person's keys in one cell must land in it once.
      await db.query(
        `INSERT INTO router_refusals (minute, route, policy, status, client_hmac, synthetic, release, host, count)
         SELECT minute, route, policy, status, $2, synthetic, release, host, sum(count)::int FROM router_refusals WHERE client_hmac = ANY($1::text[])
          GROUP BY minute, route, policy, status, synthetic, release, host
         ON CONFLICT (minute, route, policy, status, client_hmac, synthetic, release, host) DO UPDATE SET count = router_refusals.count + EXCLUDED.count`,
        [hmacs, OVERFLOW_CLIENT],
      );
      rekeyed = await count(db, 'DELETE FROM router_refusals WHERE client_hmac = ANY($1::text[])', [hmacs]);
    }
    counts.router_refusals = { action: 're-keyed', rows: rekeyed };
  }
  return counts;
}

/** What an erasure would change, counted without changing anything (the dry run). */
export async function countTargets(db: Queryable, targets: ErasureTargets): Promise<EraseCounts> {
  const n = async (sql: string, values: unknown[]) => Number((await db.query<{ n: string }>(sql, values)).rows[0]?.n ?? 0);
  const events = [...new Set([...targets.analytics, ...targets.archive])];
  const counts: EraseCounts = {
    chat_messages: { action: 'deleted', rows: await n('SELECT count(*) AS n FROM chat_messages WHERE session_id = ANY($1::uuid[])', [targets.sessions]) },
  };
  if (await tableExists(db, 'router_feedback')) counts.router_feedback = { action: 'deleted', rows: await n('SELECT count(*) AS n FROM router_feedback WHERE session_id = ANY($1::uuid[])', [targets.sessions]) };
  counts.chat_sessions = { action: 'anonymised', rows: targets.sessions.length };
  counts.bookings = { action: 'name removed', rows: await n(`SELECT count(*) AS n FROM bookings WHERE id = ANY($1::uuid[]) AND ${(await bookingContact(db)).present}`, [targets.bookings]) };
  counts.router_analytics = { action: 'scrubbed', rows: await n('SELECT count(*) AS n FROM router_analytics WHERE id = ANY($1::bigint[]) OR session_id = ANY($2::uuid[])', [events, targets.sessions]) };
  if (await tableExists(db, 'router_analytics_archive')) counts.router_analytics_archive = { action: 'scrubbed', rows: await n('SELECT count(*) AS n FROM router_analytics_archive WHERE id = ANY($1::bigint[]) OR session_id = ANY($2::uuid[])', [events, targets.sessions]) };
  if (await tableExists(db, 'router_refusals')) counts.router_refusals = { action: 're-keyed', rows: await n('SELECT count(*) AS n FROM router_refusals WHERE client_hmac = ANY($1::text[]) AND client_hmac <> $2', [targets.clientHmacs, OVERFLOW_CLIENT]) };
  return counts;
}
