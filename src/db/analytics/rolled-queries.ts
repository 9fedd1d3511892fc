/**
 * The analytics queries of queries.ts and metrics.ts, read from the rollups (rollups.ts) after a
 * refresh: the same answers, from the hours the rollups hold, plus router_analytics itself for
 * what they do not (a window's partial first and last hour, the hours after the horizon). Each
 * function here is the twin of a raw one, and test/db/analytics-rollups.test.ts holds them equal.
 */
import { ANALYTICS_EVENTS } from './events-source.js';
import type { Queryable } from '../pool.js';
import type { AnalyticsWindow, DailyRow, FunnelResult, GapRow, ShopRow } from './queries.js';
import { ROLLUP_FUNNEL_WINDOW_HOURS, type RollupState } from './rollups.js';

const HOUR_MS = 3_600_000;
const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/**
 * The whole hours of the window the rollups hold: [from, to). Outside them (the edges) the
 * window is read raw. No whole hour: from = to = since, so the edges are the whole window.
 */
export function rolledHours(w: AnalyticsWindow, until: Date): { from: Date; to: Date } {
  const from = Math.ceil(w.since.getTime() / HOUR_MS) * HOUR_MS;
  const to = Math.min(Math.floor(w.until.getTime() / HOUR_MS) * HOUR_MS, until.getTime());
  return to > from ? { from: new Date(from), to: new Date(to) } : { from: w.since, to: w.since };
}

/** router_analytics rows of the window's edges ($1 since, $2 until, $3/$4 the rolled hours). */
const EDGES = `((a.created_at >= $1 AND a.created_at < $3) OR (a.created_at >= $4 AND a.created_at < $2)) AND NOT a.synthetic`;

/**
 * The window's real events as (event_type, events, timed, latency_ms_sum): the rolled hours'
 * rows and one row per raw event of the edges.
 */
const EVENTS = `
  SELECT h.hour AS at, h.event_type, h.events, h.timed, h.latency_ms_sum
    FROM router_analytics_hourly h WHERE h.hour >= $3 AND h.hour < $4
  UNION ALL
  SELECT a.created_at, a.event_type, 1, (a.latency_ms IS NOT NULL)::int, coalesce(a.latency_ms, 0)
    FROM ${ANALYTICS_EVENTS} a WHERE ${EDGES}`;

/** metrics.ts eventTotals, rolled. */
export async function rolledEventTotals(db: Queryable, w: AnalyticsWindow, state: RollupState): Promise<{ timed: number; totalMs: number; succeeded: number; errors: number; refused: number }> {
  const h = rolledHours(w, state.hourlyUntil);
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT e.timed, e.total_ms, e.succeeded, e.errors,
            (SELECT coalesce(sum(count), 0) FROM router_refusals
              WHERE minute >= date_trunc('minute', $1::timestamptz) AND minute < $2 AND NOT synthetic) AS refused
       FROM (SELECT sum(timed) FILTER (WHERE event_type IN ('search', 'delegate')) AS timed,
                    sum(latency_ms_sum) FILTER (WHERE event_type IN ('search', 'delegate')) AS total_ms,
                    sum(events) FILTER (WHERE event_type IN ('search', 'delegate', 'chat_message', 'feedback')) AS succeeded,
                    sum(events) FILTER (WHERE event_type = 'error') AS errors
               FROM (${EVENTS}) ev) e`,
    [w.since, w.until, h.from, h.to],
  );
  const r = rows[0] ?? {};
  return { timed: num(r.timed), totalMs: num(r.total_ms), succeeded: num(r.succeeded), errors: num(r.errors), refused: num(r.refused) };
}

/** queries.ts dailyActivity, rolled (UTC dates, every day present). */
export async function rolledDailyActivity(db: Queryable, w: AnalyticsWindow, state: RollupState): Promise<DailyRow[]> {
  const h = rolledHours(w, state.hourlyUntil);
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH days AS (
       SELECT d::date AS date FROM generate_series(($1::timestamptz AT TIME ZONE 'UTC')::date, (($2::timestamptz - interval '1 microsecond') AT TIME ZONE 'UTC')::date, interval '1 day') AS d
     ), counts AS (
       SELECT (ev.at AT TIME ZONE 'UTC')::date AS date,
              sum(ev.events) FILTER (WHERE ev.event_type = 'search')       AS searches,
              sum(ev.events) FILTER (WHERE ev.event_type = 'delegate')     AS delegations,
              sum(ev.events) FILTER (WHERE ev.event_type = 'chat_message') AS chat_messages,
              sum(ev.events) FILTER (WHERE ev.event_type = 'booking')      AS bookings,
              sum(ev.events) FILTER (WHERE ev.event_type = 'error')        AS errors,
              sum(ev.latency_ms_sum) FILTER (WHERE ev.event_type = 'search') AS search_ms,
              sum(ev.timed) FILTER (WHERE ev.event_type = 'search')        AS search_timed
         FROM (${EVENTS}) ev GROUP BY 1
     ), sessions AS (
       SELECT date, count(DISTINCT session_id) AS unique_sessions
         FROM (SELECT (s.hour AT TIME ZONE 'UTC')::date AS date, s.session_id FROM router_analytics_hourly_sessions s WHERE s.hour >= $3 AND s.hour < $4
               UNION ALL
               SELECT (a.created_at AT TIME ZONE 'UTC')::date, a.session_id FROM ${ANALYTICS_EVENTS} a WHERE ${EDGES} AND a.session_id IS NOT NULL) x
        GROUP BY 1
     )
     SELECT to_char(days.date, 'YYYY-MM-DD') AS date, c.searches, c.delegations, c.chat_messages, c.bookings, c.errors, s.unique_sessions,
            round(c.search_ms::numeric / NULLIF(c.search_timed, 0), 1) AS avg_search_latency_ms
       FROM days LEFT JOIN counts c ON c.date = days.date LEFT JOIN sessions s ON s.date = days.date
      ORDER BY days.date`,
    [w.since, w.until, h.from, h.to],
  );
  return rows.map((r) => ({
    date: String(r.date),
    searches: num(r.searches),
    delegations: num(r.delegations),
    chatMessages: num(r.chat_messages),
    bookings: num(r.bookings),
    errors: num(r.errors),
    uniqueSessions: num(r.unique_sessions),
    avgSearchLatencyMs: numOrNull(r.avg_search_latency_ms),
  }));
}

/** queries.ts popularShops, rolled. */
export async function rolledPopularShops(db: Queryable, w: AnalyticsWindow, state: RollupState, limit = 20): Promise<ShopRow[]> {
  const h = rolledHours(w, state.hourlyUntil);
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH per_shop AS (
       SELECT p.shop_id, p.discovered, p.delegated, p.booked FROM router_analytics_hourly_shops p WHERE p.hour >= $3 AND p.hour < $4
       UNION ALL
       SELECT e.value::bigint, 1, 0, 0
         FROM ${ANALYTICS_EVENTS} a
        CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(a.payload -> 'shop_ids') = 'array' THEN a.payload -> 'shop_ids' ELSE '[]'::jsonb END) AS e(value)
        WHERE a.event_type = 'search' AND ${EDGES} AND e.value ~ '^[0-9]{1,18}$'
       UNION ALL
       SELECT a.shop_id, 0, (a.event_type = 'delegate')::int, (a.event_type = 'booking')::int
         FROM ${ANALYTICS_EVENTS} a WHERE a.event_type IN ('delegate', 'booking') AND a.shop_id IS NOT NULL AND ${EDGES}
     ), totals AS (
       SELECT shop_id, sum(discovered) AS discovered, sum(delegated) AS delegated, sum(booked) AS booked FROM per_shop GROUP BY 1 HAVING sum(discovered) > 0
     )
     SELECT s.slug, s.name, t.discovered, t.delegated, t.booked
       FROM totals t JOIN shops s ON s.id = t.shop_id
      ORDER BY t.discovered DESC, t.delegated DESC, s.slug
      LIMIT $5`,
    [w.since, w.until, h.from, h.to, limit],
  );
  return rows.map((r) => ({ slug: String(r.slug), name: String(r.name), timesDiscovered: num(r.discovered), timesDelegated: num(r.delegated), bookings: num(r.booked) }));
}

/**
 * queries.ts orderedFunnel, rolled (24-hour funnel window only: `undefined` for another, which
 * the caller reads raw). Searches of final hours come from router_funnel_hourly; the others from
 * router_search_outcomes, corrected by the events after the horizon ($5) read raw: delegations
 * that reach a search of the window, bookings that follow such a delegation (its earliest per
 * session, stored or new), and the searches made after the horizon.
 */
export async function rolledFunnel(db: Queryable, w: AnalyticsWindow, state: RollupState, windowHours = 24): Promise<FunnelResult | undefined> {
  if (windowHours !== ROLLUP_FUNNEL_WINDOW_HOURS) return undefined;
  const h = rolledHours(w, state.funnelUntil);
  const shopIds = (p: string) => `CASE WHEN jsonb_typeof(${p} -> 'shop_ids') = 'array' THEN ${p} -> 'shop_ids' ELSE '[]'::jsonb END`;
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH closed AS (
       SELECT coalesce(sum(searches), 0) AS searches, coalesce(sum(with_results), 0) AS with_results,
              coalesce(sum(delegated), 0) AS delegated, coalesce(sum(booked), 0) AS booked
         FROM router_funnel_hourly WHERE hour >= $3 AND hour < $4
     ), ts AS MATERIALIZED (
       SELECT a.id AS event_id, a.search_id, a.created_at AS searched_at, a.payload
         FROM ${ANALYTICS_EVENTS} a
        WHERE a.event_type = 'search' AND a.created_at >= greatest($1::timestamptz, $5::timestamptz) AND a.created_at < $2 AND NOT a.synthetic AND a.search_id IS NOT NULL
     ), open AS MATERIALIZED (
       SELECT o.event_id, o.has_results, o.delegated_at IS NOT NULL AS delegated, o.booked_at IS NOT NULL AS booked
         FROM router_search_outcomes o
        WHERE ((o.searched_at >= $1 AND o.searched_at < $3) OR (o.searched_at >= $4 AND o.searched_at < $2)) AND o.searched_at < $5
       UNION ALL
       SELECT ts.event_id, jsonb_array_length(${shopIds('ts.payload')}) > 0, false, false FROM ts
     ), td AS MATERIALIZED (
       SELECT c.event_id, x.session_id, min(x.created_at) AS at
         FROM ${ANALYTICS_EVENTS} x
        CROSS JOIN LATERAL (
          SELECT o.event_id, o.searched_at, a.payload FROM router_search_outcomes o JOIN ${ANALYTICS_EVENTS} a ON a.id = o.event_id WHERE o.search_id = x.search_id
          UNION ALL
          SELECT ts.event_id, ts.searched_at, ts.payload FROM ts WHERE ts.search_id = x.search_id
        ) c
        WHERE x.event_type = 'delegate' AND NOT x.synthetic AND x.search_id IS NOT NULL
          AND x.created_at >= $5 AND x.created_at < $2::timestamptz + $6::float8 * interval '1 hour'
          AND x.created_at >= c.searched_at AND x.created_at < c.searched_at + $6::float8 * interval '1 hour'
          AND jsonb_contains(${shopIds('c.payload')}, to_jsonb(x.shop_id))
        GROUP BY 1, 2
     ), tb AS MATERIALIZED (
       SELECT DISTINCT p.event_id
         FROM ${ANALYTICS_EVENTS} k
        CROSS JOIN LATERAL (
          SELECT q.event_id, min(q.at) AS at
            FROM (SELECT d.event_id, d.delegated_at AS at FROM router_search_delegations d WHERE d.session_id = k.session_id
                  UNION ALL
                  SELECT td.event_id, td.at FROM td WHERE td.session_id = k.session_id) q
           GROUP BY 1
        ) p
        WHERE k.event_type = 'booking' AND NOT k.synthetic AND k.session_id IS NOT NULL
          AND k.created_at >= $5 AND k.created_at < $2::timestamptz + (2 * $6::float8) * interval '1 hour'
          AND k.created_at >= p.at AND k.created_at < p.at + $6::float8 * interval '1 hour'
     )
     SELECT closed.searches + (SELECT count(*) FROM open) AS searches,
            closed.with_results + (SELECT count(*) FROM open WHERE has_results) AS with_results,
            closed.delegated + (SELECT count(*) FROM open WHERE delegated OR event_id IN (SELECT event_id FROM td)) AS delegated,
            closed.booked + (SELECT count(*) FROM open WHERE booked OR event_id IN (SELECT event_id FROM tb)) AS booked
       FROM closed`,
    [w.since, w.until, h.from, h.to, state.outcomesUntil, windowHours],
  );
  const r = rows[0] ?? {};
  return { windowHours, searches: num(r.searches), searchesWithResults: num(r.with_results), delegated: num(r.delegated), booked: num(r.booked) };
}

/**
 * queries.ts timeBetweenEvents, rolled: an event counts when the same session's previous event is
 * in the window too. From the rollups: the rolled hours' events whose previous event is in a
 * rolled hour; raw: the events of the partial first hour (lag among themselves), the first events
 * after it of the sessions seen in it (their next event, from the hourly sessions), and the events
 * of the partial last hour (lag among themselves, else the session's last event before them).
 */
export async function rolledTimeBetweenEvents(db: Queryable, w: AnalyticsWindow, state: RollupState): Promise<GapRow[]> {
  const h = rolledHours(w, state.hourlyUntil);
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH head AS MATERIALIZED (
       SELECT a.session_id, a.event_type, a.created_at, a.created_at - lag(a.created_at) OVER (PARTITION BY a.session_id ORDER BY a.created_at, a.id) AS gap
         FROM ${ANALYTICS_EVENTS} a WHERE a.created_at >= $1 AND a.created_at < $3 AND NOT a.synthetic AND a.session_id IS NOT NULL
     ), head_last AS (
       SELECT session_id, max(created_at) AS last_at FROM head GROUP BY 1
     ), tail AS MATERIALIZED (
       SELECT a.session_id, a.event_type, a.created_at, a.created_at - lag(a.created_at) OVER (PARTITION BY a.session_id ORDER BY a.created_at, a.id) AS gap
         FROM ${ANALYTICS_EVENTS} a WHERE a.created_at >= $4 AND a.created_at < $2 AND NOT a.synthetic AND a.session_id IS NOT NULL
     ), parts AS (
       SELECT g.event_type, g.events, g.seconds_sum FROM router_analytics_hourly_gaps g WHERE g.hour >= $3 AND g.hour < $4 AND g.prev_hour >= $3
       UNION ALL
       SELECT event_type, 1, extract(epoch FROM gap) FROM head WHERE gap IS NOT NULL
       UNION ALL
       SELECT n.first_type, 1, extract(epoch FROM n.first_at - hl.last_at)
         FROM head_last hl
         CROSS JOIN LATERAL (SELECT s.hour, s.first_at, s.first_type FROM router_analytics_hourly_sessions s WHERE s.session_id = hl.session_id AND s.hour >= $3 ORDER BY s.hour LIMIT 1) n
        WHERE n.hour < $4
       UNION ALL
       SELECT t.event_type, 1, extract(epoch FROM coalesce(t.gap, t.created_at - p.last_at))
         FROM tail t
         LEFT JOIN LATERAL (
           SELECT max(x.last_at) AS last_at
             FROM (SELECT s.last_at FROM router_analytics_hourly_sessions s WHERE s.session_id = t.session_id AND s.hour >= $3 AND s.hour < $4
                   UNION ALL SELECT hl.last_at FROM head_last hl WHERE hl.session_id = t.session_id) x
         ) p ON t.gap IS NULL
        WHERE t.gap IS NOT NULL OR p.last_at IS NOT NULL
     )
     SELECT event_type, sum(events) AS events, round(sum(seconds_sum) / sum(events), 1) AS avg_seconds
       FROM parts GROUP BY event_type HAVING sum(events) > 0 ORDER BY event_type`,
    [w.since, w.until, h.from, h.to],
  );
  return rows.map((r) => ({ eventType: String(r.event_type), events: num(r.events), avgSecondsSincePrevious: numOrNull(r.avg_seconds) }));
}
