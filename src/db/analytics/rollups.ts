/**
 * The rollups of router_analytics (migration 012, docs/metrics.md "Rollups"): per closed UTC hour,
 * counts and latency sums by event type, the sessions seen, the time between a session's events,
 * the per-shop counts; and the ordered
 * funnel per search event (its first qualifying delegation and booking), summed per hour once no
 * later event can change it. Derived data only: the same answers as the raw queries of
 * queries.ts / metrics.ts, read from thousands of rows instead of millions.
 *
 * Who refreshes: the readers. `routergpt metrics`, `analytics` and `report` call
 * refreshAnalyticsRollups() before reading — one transaction, under a session advisory lock (two
 * readers never build the same hours twice; on the embedded database the lock file already
 * excludes), incremental from where the last refresh stopped. What is not rolled up yet (the
 * current hour, a window's partial first and last hour) is read raw.
 *
 * The horizon: a refresh covers the events created before `horizon` = now less SETTLE_SECONDS,
 * or the start of the oldest transaction still open on the database if earlier — so every row
 * before the horizon is already committed and none appears later — except by an insert of the
 * past (an import, a backfill), which the next refresh notices by id and rebuilds from, or by an
 * update or delete, which must call invalidateAnalyticsRollups(). Readers read the rows after the
 * horizon raw.
 *
 * Funnel window: outcomes are kept for the 24-hour funnel window (the default); another window
 * is read raw.
 */
import { ANALYTICS_EVENTS } from './events-source.js';
import type { PoolClient } from 'pg';
import { withAdvisoryLock, withClient, type Pool, type Queryable } from '../pool.js';

/** The funnel window the outcomes are kept for (hours). */
export const ROLLUP_FUNNEL_WINDOW_HOURS = 24;
/** Session advisory lock of the refresh ("rgpt-rol"). */
export const ROLLUP_LOCK_KEY = 0x7267_7074_2d72_6f6cn;
const HOUR_MS = 3_600_000;
const ROLLUP_TABLES = ['router_analytics_hourly', 'router_analytics_hourly_sessions', 'router_analytics_hourly_gaps', 'router_analytics_hourly_shops', 'router_search_outcomes', 'router_search_delegations', 'router_funnel_hourly'];
/**
 * The API server stamps an event when it happens and writes it within its flush interval
 * (250 ms; retried for up to 30 s when the database blips), from hosts whose clocks may differ a
 * little: the horizon stays this far behind now, so no late write lands behind it.
 */
export const SETTLE_SECONDS = 300;

/** How far the rollups go (exclusive instants), after a refresh. */
export interface RollupState {
  hourlyUntil: Date;
  outcomesUntil: Date;
  funnelUntil: Date;
}

const dateOf = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string | Date));

/**
 * Bring every rollup up to the horizon (module comment). Idempotent; the first call on a large
 * table builds everything (minutes on 10 M events), later ones only what is new.
 */
export async function refreshAnalyticsRollups(client: PoolClient, options: { lockTimeoutMs?: number } = {}): Promise<RollupState> {
  return withAdvisoryLock(client, ROLLUP_LOCK_KEY, { timeoutMs: options.lockTimeoutMs ?? 600_000 }, async () => {
    await client.query('BEGIN');
    try {
      const state = await refreshLocked(client);
      await client.query('COMMIT');
      return state;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  });
}

/**
 * How far the rollups went at their last refresh, without refreshing them (`routergpt watch`
 * reads every interval and must not pay for a build): rolled queries then read raw whatever is
 * past it, so a stale state gives the same answers, only slower. undefined before migration 012
 * or before the first refresh.
 */
export async function readAnalyticsRollupState(db: Queryable): Promise<RollupState | undefined> {
  try {
    const { rows } = await db.query<{ hourly_until: Date | null; outcomes_until: Date | null; funnel_until: Date | null }>('SELECT hourly_until, outcomes_until, funnel_until FROM router_analytics_rollup_state');
    const r = rows[0];
    if (!r?.hourly_until || !r.outcomes_until || !r.funnel_until) return undefined;
    return { hourlyUntil: new Date(r.hourly_until), outcomesUntil: new Date(r.outcomes_until), funnelUntil: new Date(r.funnel_until) };
  } catch (error) {
    if ((error as { code?: unknown }).code === '42P01') return undefined;
    throw error;
  }
}

/**
 * What the commands call before reading: refreshAnalyticsRollups on a client of the pool, or
 * undefined — read raw, the same answers, slower — where the rollups cannot be written (a
 * read-only role or a hot standby).
 */
export async function refreshAnalyticsRollupsOf(pool: Pool, options: { onSlow?: () => void; slowMs?: number } = {}): Promise<RollupState | undefined> {
  // The first refresh after migration 012 reads every event (minutes on millions): say so when
  // it takes long, rather than sit silent; a routine refresh ends well before.
  const slow = options.onSlow ? setTimeout(options.onSlow, options.slowMs ?? 3000) : undefined;
  slow?.unref();
  try {
    return await withClient(pool, (client) => refreshAnalyticsRollups(client));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === '42501' || code === '25006') return undefined;
    throw error;
  } finally {
    clearTimeout(slow);
  }
}

/** What a command says when the refresh is slow (its first one): the wait is once. */
export const SLOW_ROLLUP_NOTE = 'bringing the analytics rollups up to date — the first time after migration 012 this reads every event once (minutes on millions of events); later runs add only what is new (docs/metrics.md#rollups)';

async function refreshLocked(client: PoolClient): Promise<RollupState> {
  // Rows written since the last refresh but stamped before its horizon (an import, a seed, a
  // backfill: anything that inserts the past) rewind the rollups to the oldest of them.
  // (Two statements: with the bounds as parameters the id range is an index range; joined to the
  // state row, the planner may scan the whole table.)
  const { rows: seen } = await client.query<{ max_event_id: string | null; outcomes_until: Date | null }>('SELECT max_event_id, outcomes_until FROM router_analytics_rollup_state');
  if (seen[0]?.max_event_id && seen[0].outcomes_until) {
    const { rows: late } = await client.query<{ oldest: Date | null }>('SELECT min(created_at) AS oldest FROM router_analytics WHERE id > $1 AND created_at < $2', [seen[0].max_event_id, seen[0].outcomes_until]);
    if (late[0]?.oldest) await invalidateAnalyticsRollups(client, late[0].oldest);
  }
  const { rows } = await client.query<Record<string, unknown>>(
    `SELECT s.hourly_until, s.outcomes_until, s.funnel_until, (SELECT max(id) FROM ${ANALYTICS_EVENTS} ev) AS max_event_id,
            least(now() - $1::float8 * interval '1 second', (SELECT min(xact_start) FROM pg_stat_activity
                           WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
                             AND backend_type = 'client backend')) AS horizon,
            (SELECT min(created_at) FROM ${ANALYTICS_EVENTS} ev) AS first_event
       FROM router_analytics_rollup_state s FOR UPDATE`,
    [SETTLE_SECONDS],
  );
  const r = rows[0];
  if (!r) throw new Error('router_analytics_rollup_state has no row: re-run migration 012');
  const horizon = dateOf(r.horizon) ?? new Date();
  const first = dateOf(r.first_event);
  // No event yet: nothing to roll up, and no horizon to keep — the first events may be of any age.
  if (!first) return { hourlyUntil: new Date(0), outcomesUntil: new Date(0), funnelUntil: new Date(0) };
  const floorHour = (d: Date) => new Date(Math.floor(d.getTime() / HOUR_MS) * HOUR_MS);
  const hourlyFrom = dateOf(r.hourly_until) ?? floorHour(first);
  const hourlyTo = floorHour(horizon);
  const outcomesFrom = dateOf(r.outcomes_until) ?? first;
  const outcomesTo = horizon;
  if (hourlyTo > hourlyFrom) await refreshHourly(client, hourlyFrom, hourlyTo);
  if (outcomesTo > outcomesFrom) await refreshOutcomes(client, outcomesFrom, outcomesTo);
  // An hour of searches is final once every delegation and booking that could count for it is
  // before the outcomes' horizon: two funnel windows after the hour's end.
  const funnelFrom = dateOf(r.funnel_until) ?? floorHour(first);
  const funnelTo = new Date(Math.max(funnelFrom.getTime(), floorHour(new Date(outcomesTo.getTime() - 2 * ROLLUP_FUNNEL_WINDOW_HOURS * HOUR_MS)).getTime()));
  if (funnelTo > funnelFrom) {
    await client.query(
      `INSERT INTO router_funnel_hourly (hour, searches, with_results, delegated, booked)
       SELECT date_trunc('hour', searched_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', count(*), count(*) FILTER (WHERE has_results),
              count(*) FILTER (WHERE delegated_at IS NOT NULL), count(*) FILTER (WHERE booked_at IS NOT NULL)
         FROM router_search_outcomes WHERE searched_at >= $1 AND searched_at < $2 GROUP BY 1
       ON CONFLICT (hour) DO UPDATE SET searches = excluded.searches, with_results = excluded.with_results, delegated = excluded.delegated, booked = excluded.booked`,
      [funnelFrom, funnelTo],
    );
  }
  await client.query('UPDATE router_analytics_rollup_state SET hourly_until = $1, outcomes_until = $2, funnel_until = $3, max_event_id = $4, refreshed_at = now()', [
    hourlyTo,
    outcomesTo,
    funnelTo,
    r.max_event_id,
  ]);
  // A build of more than a day (the first, or after an invalidation) changes the tables' sizes
  // many times over: fresh statistics keep the readers' small queries planned as small (without
  // them the planner's estimates are off by thousands, and JIT alone costs more than the query).
  if (hourlyTo.getTime() - hourlyFrom.getTime() > 24 * HOUR_MS) {
    for (const table of ROLLUP_TABLES) await client.query(`ANALYZE ${table}`);
  }
  return { hourlyUntil: hourlyTo, outcomesUntil: outcomesTo, funnelUntil: funnelTo };
}

const HOUR_OF = (col: string) => `date_trunc('hour', ${col} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;
/** A search's shop_ids as an array, whatever was stored (as the raw queries read it). */
const SHOP_IDS = `CASE WHEN jsonb_typeof(a.payload -> 'shop_ids') = 'array' THEN a.payload -> 'shop_ids' ELSE '[]'::jsonb END`;

async function refreshHourly(client: PoolClient, from: Date, to: Date): Promise<void> {
  const range = 'a.created_at >= $1 AND a.created_at < $2 AND NOT a.synthetic';
  await client.query(
    `INSERT INTO router_analytics_hourly (hour, event_type, events, timed, latency_ms_sum)
     SELECT ${HOUR_OF('a.created_at')}, a.event_type, count(*), count(a.latency_ms), coalesce(sum(a.latency_ms), 0)
       FROM ${ANALYTICS_EVENTS} a WHERE ${range} GROUP BY 1, 2
     ON CONFLICT (hour, event_type) DO UPDATE SET events = excluded.events, timed = excluded.timed, latency_ms_sum = excluded.latency_ms_sum`,
    [from, to],
  );
  // The gaps first: an event's previous one is in this batch (lag) or, for a session's first
  // event of the batch, the session's last event of an earlier hour (already rolled up).
  await client.query(
    `WITH e AS (
       SELECT a.session_id, a.event_type, a.created_at, lag(a.created_at) OVER (PARTITION BY a.session_id ORDER BY a.created_at, a.id) AS prev
         FROM ${ANALYTICS_EVENTS} a WHERE ${range} AND a.session_id IS NOT NULL
     ), before AS (
       SELECT s.session_id, max(s.last_at) AS last_at
         FROM router_analytics_hourly_sessions s
        WHERE s.hour < $1 AND s.session_id IN (SELECT session_id FROM e WHERE prev IS NULL)
        GROUP BY 1
     ), g AS (
       SELECT e.event_type, e.created_at, coalesce(e.prev, b.last_at) AS prev
         FROM e LEFT JOIN before b ON e.prev IS NULL AND b.session_id = e.session_id
     )
     INSERT INTO router_analytics_hourly_gaps (hour, event_type, prev_hour, events, seconds_sum)
     SELECT ${HOUR_OF('g.created_at')}, g.event_type, ${HOUR_OF('g.prev')}, count(*), sum(extract(epoch FROM g.created_at - g.prev))
       FROM g WHERE g.prev IS NOT NULL GROUP BY 1, 2, 3
     ON CONFLICT (hour, event_type, prev_hour) DO UPDATE SET events = excluded.events, seconds_sum = excluded.seconds_sum`,
    [from, to],
  );
  await client.query(
    `INSERT INTO router_analytics_hourly_sessions (hour, session_id, first_at, first_type, last_at)
     SELECT ${HOUR_OF('a.created_at')}, a.session_id, min(a.created_at), (array_agg(a.event_type ORDER BY a.created_at, a.id))[1], max(a.created_at)
       FROM ${ANALYTICS_EVENTS} a WHERE ${range} AND a.session_id IS NOT NULL GROUP BY 1, 2
     ON CONFLICT (hour, session_id) DO UPDATE SET first_at = excluded.first_at, first_type = excluded.first_type, last_at = excluded.last_at`,
    [from, to],
  );
  await client.query(
    `INSERT INTO router_analytics_hourly_shops (hour, shop_id, discovered, delegated, booked)
     SELECT hour, shop_id, sum(discovered), sum(delegated), sum(booked)
       FROM (SELECT ${HOUR_OF('a.created_at')} AS hour, e.value::bigint AS shop_id, count(*) AS discovered, 0 AS delegated, 0 AS booked
               FROM ${ANALYTICS_EVENTS} a CROSS JOIN LATERAL jsonb_array_elements_text(${SHOP_IDS}) AS e(value)
              WHERE a.event_type = 'search' AND ${range} AND e.value ~ '^[0-9]{1,18}$' GROUP BY 1, 2
             UNION ALL
             SELECT ${HOUR_OF('a.created_at')}, a.shop_id, 0, count(*) FILTER (WHERE a.event_type = 'delegate'), count(*) FILTER (WHERE a.event_type = 'booking')
               FROM ${ANALYTICS_EVENTS} a WHERE a.event_type IN ('delegate', 'booking') AND a.shop_id IS NOT NULL AND ${range} GROUP BY 1, 2) x
      GROUP BY 1, 2
     ON CONFLICT (hour, shop_id) DO UPDATE SET discovered = excluded.discovered, delegated = excluded.delegated, booked = excluded.booked`,
    [from, to],
  );
}

/**
 * The funnel's outcomes for the events in [from, to): new searches first, then the delegations
 * (which may name a search of the same batch), then the bookings (which may follow a delegation
 * of the same batch). The conditions are the raw funnel's (queries.ts orderedFunnel), per event.
 */
async function refreshOutcomes(client: PoolClient, from: Date, to: Date): Promise<void> {
  const hours = ROLLUP_FUNNEL_WINDOW_HOURS;
  await client.query(
    `INSERT INTO router_search_outcomes (event_id, search_id, searched_at, has_results)
     SELECT a.id, a.search_id, a.created_at, jsonb_array_length(${SHOP_IDS}) > 0
       FROM ${ANALYTICS_EVENTS} a
      WHERE a.event_type = 'search' AND a.created_at >= $1 AND a.created_at < $2 AND NOT a.synthetic AND a.search_id IS NOT NULL
     ON CONFLICT (event_id) DO NOTHING`,
    [from, to],
  );
  await client.query(
    `WITH m AS (
       SELECT o.event_id, x.session_id, x.created_at
         FROM ${ANALYTICS_EVENTS} x
         JOIN router_search_outcomes o ON o.search_id = x.search_id AND x.created_at >= o.searched_at AND x.created_at < o.searched_at + $3::float8 * interval '1 hour'
         JOIN ${ANALYTICS_EVENTS} a ON a.id = o.event_id
        WHERE x.event_type = 'delegate' AND x.created_at >= $1 AND x.created_at < $2 AND NOT x.synthetic AND x.search_id IS NOT NULL
          AND jsonb_contains(${SHOP_IDS}, to_jsonb(x.shop_id))
     ), kept AS (
       INSERT INTO router_search_delegations (event_id, session_id, delegated_at)
       SELECT event_id, session_id, min(created_at) FROM m WHERE session_id IS NOT NULL GROUP BY 1, 2
       ON CONFLICT (event_id, session_id) DO UPDATE SET delegated_at = least(router_search_delegations.delegated_at, excluded.delegated_at)
     )
     UPDATE router_search_outcomes o SET delegated_at = least(o.delegated_at, f.first)
       FROM (SELECT event_id, min(created_at) AS first FROM m GROUP BY 1) f
      WHERE o.event_id = f.event_id`,
    [from, to, hours],
  );
  await client.query(
    `UPDATE router_search_outcomes o SET booked_at = least(o.booked_at, f.first)
       FROM (SELECT d.event_id, min(k.created_at) AS first
               FROM ${ANALYTICS_EVENTS} k
               JOIN router_search_delegations d ON d.session_id = k.session_id AND k.created_at >= d.delegated_at AND k.created_at < d.delegated_at + $3::float8 * interval '1 hour'
              WHERE k.event_type = 'booking' AND k.created_at >= $1 AND k.created_at < $2 AND NOT k.synthetic
              GROUP BY 1) f
      WHERE o.event_id = f.event_id`,
    [from, to, hours],
  );
}

/**
 * Call this after deleting, updating or backfilling router_analytics rows created at or after
 * `from` (a purge that sets shop_id NULL, a retention delete, a GDPR erasure, an import): the
 * rollups from that instant on (and the funnel outcomes of searches up to two funnel windows
 * earlier, whose later stages those rows may have been) are dropped, and the next refresh
 * rebuilds them. Run it in the same transaction as the change. Cheap; a no-op on a database
 * without the rollups (before migration 012).
 */
export async function invalidateAnalyticsRollups(db: Queryable, from: Date): Promise<void> {
  const { rows } = await db.query<{ present: boolean }>(`SELECT to_regclass('router_analytics_rollup_state') IS NOT NULL AS present`);
  if (!rows[0]?.present) return;
  const hour = new Date(Math.floor(from.getTime() / HOUR_MS) * HOUR_MS);
  const searchesFrom = new Date(from.getTime() - 2 * ROLLUP_FUNNEL_WINDOW_HOURS * HOUR_MS);
  const funnelHour = new Date(Math.floor(searchesFrom.getTime() / HOUR_MS) * HOUR_MS);
  await db.query(
    `WITH h AS (DELETE FROM router_analytics_hourly WHERE hour >= $1),
          s AS (DELETE FROM router_analytics_hourly_sessions WHERE hour >= $1),
          p AS (DELETE FROM router_analytics_hourly_shops WHERE hour >= $1),
          g AS (DELETE FROM router_analytics_hourly_gaps WHERE hour >= $1),
          o AS (DELETE FROM router_search_outcomes WHERE searched_at >= $2 RETURNING event_id),
          d AS (DELETE FROM router_search_delegations WHERE event_id IN (SELECT event_id FROM o)),
          f AS (DELETE FROM router_funnel_hourly WHERE hour >= $3)
     UPDATE router_analytics_rollup_state
        SET hourly_until = CASE WHEN hourly_until IS NOT NULL THEN least(hourly_until, $1) END,
            outcomes_until = CASE WHEN outcomes_until IS NOT NULL THEN least(outcomes_until, $2) END,
            funnel_until = CASE WHEN funnel_until IS NOT NULL THEN least(funnel_until, $3) END`,
    [hour, searchesFrom, funnelHour],
  );
}
