/**
 * The checklist's analytics queries (its "Analytics Review (1 week)" and 24-hour monitoring),
 * over a window, for `routergpt analytics` — and for the metrics and the watch that build on it.
 * Every figure counts real traffic only: rows routergpt's own checks marked `synthetic` are
 * left out (the views already do), except where a query says it counts them separately.
 *
 * The funnel is ordered, per search — not daily ratios: a search counts as *delegated* when a
 * delegation carries its search id, to a shop that search returned, within the window after it;
 * and as *booked* when that delegation's session made a booking within the window after the
 * delegation. Each search counts once per stage, however many sessions it opened.
 */
import { ANALYTICS_EVENTS } from './events-source.js';
import type { Queryable } from '../pool.js';

export interface AnalyticsWindow {
  /** From this instant (inclusive) … */
  since: Date;
  /** … to this one (exclusive). */
  until: Date;
}

export interface DailyRow {
  date: string;
  searches: number;
  delegations: number;
  chatMessages: number;
  bookings: number;
  errors: number;
  uniqueSessions: number;
  avgSearchLatencyMs: number | null;
}

export interface FunnelResult {
  /** How long after the search (and after the delegation) a later stage still counts. */
  windowHours: number;
  searches: number;
  searchesWithResults: number;
  delegated: number;
  booked: number;
}

export interface ShopRow {
  slug: string;
  name: string;
  timesDiscovered: number;
  timesDelegated: number;
  bookings: number;
}

export interface EventCount {
  eventType: string;
  real: number;
  synthetic: number;
}

export interface GapRow {
  eventType: string;
  /** Events of this type that followed an earlier event of the same session. */
  events: number;
  avgSecondsSincePrevious: number | null;
}

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Per day of the window (UTC dates), every day present, oldest first: the charts' series. */
export async function dailyActivity(db: Queryable, w: AnalyticsWindow): Promise<DailyRow[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH days AS (
       SELECT d::date AS date FROM generate_series(($1::timestamptz AT TIME ZONE 'UTC')::date, (($2::timestamptz - interval '1 microsecond') AT TIME ZONE 'UTC')::date, interval '1 day') AS d
     ), events AS (
       SELECT (a.created_at AT TIME ZONE 'UTC')::date AS date, a.event_type, a.session_id, a.latency_ms
         FROM ${ANALYTICS_EVENTS} a
        WHERE a.created_at >= $1 AND a.created_at < $2 AND NOT a.synthetic
     )
     SELECT to_char(days.date, 'YYYY-MM-DD') AS date,
            count(*) FILTER (WHERE e.event_type = 'search')       AS searches,
            count(*) FILTER (WHERE e.event_type = 'delegate')     AS delegations,
            count(*) FILTER (WHERE e.event_type = 'chat_message') AS chat_messages,
            count(*) FILTER (WHERE e.event_type = 'booking')      AS bookings,
            count(*) FILTER (WHERE e.event_type = 'error')        AS errors,
            count(DISTINCT e.session_id)                          AS unique_sessions,
            round(avg(e.latency_ms) FILTER (WHERE e.event_type = 'search'), 1) AS avg_search_latency_ms
       FROM days LEFT JOIN events e ON e.date = days.date
      GROUP BY days.date ORDER BY days.date`,
    [w.since, w.until],
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

/**
 * The ordered funnel of the searches made in the window (module comment); with `releases`, only
 * the searches served by that release (`release`) or by any other (`exceptRelease`) — a canary's
 * cohort, whatever host served what followed.
 */
export async function orderedFunnel(db: Queryable, w: AnalyticsWindow, windowHours = 24, releases: { release?: string; exceptRelease?: string } = {}): Promise<FunnelResult> {
  const { rows } = await db.query<Record<string, unknown>>(
    // Written for the planner as much as for the reader (bench/analytics, 10 M events): shop_ids
    // is normalised to an array in s, because a jsonb_typeof() filter on a CTE's column is
    // estimated at 0.5 % of its rows; the containment is the function jsonb_contains(), estimated
    // at a third, not the operator @>, estimated at 0.1 %. Underestimated, the delegations and
    // bookings become nested loops over a time-range index — minutes on a month of traffic;
    // estimated sanely they are hash joins. Each join also gets the window's own bounds
    // (a delegation is at most windowHours after a search of [$1, $2), a booking at most
    // windowHours after that), which change no result and let an index range bound the scan.
    `WITH s AS (
       SELECT a.search_id, a.created_at,
              CASE WHEN jsonb_typeof(a.payload -> 'shop_ids') = 'array' THEN a.payload -> 'shop_ids' ELSE '[]'::jsonb END AS shop_ids
         FROM ${ANALYTICS_EVENTS} a
        WHERE a.event_type = 'search' AND a.created_at >= $1 AND a.created_at < $2 AND NOT a.synthetic AND a.search_id IS NOT NULL
          AND ($4::text IS NULL OR a.release = $4) AND ($5::text IS NULL OR a.release IS DISTINCT FROM $5)
     ), d AS (
       SELECT DISTINCT ON (s.search_id, x.session_id) s.search_id, x.session_id, x.created_at
         FROM s
         JOIN ${ANALYTICS_EVENTS} x ON x.event_type = 'delegate' AND x.search_id = s.search_id AND NOT x.synthetic
          AND x.created_at >= $1 AND x.created_at < $2::timestamptz + $3::float8 * interval '1 hour'
          AND x.created_at >= s.created_at AND x.created_at < s.created_at + $3::float8 * interval '1 hour'
          AND jsonb_contains(s.shop_ids, to_jsonb(x.shop_id))
        ORDER BY s.search_id, x.session_id, x.created_at
     ), b AS (
       SELECT DISTINCT d.search_id
         FROM d
         JOIN ${ANALYTICS_EVENTS} k ON k.event_type = 'booking' AND k.session_id = d.session_id AND NOT k.synthetic
          AND k.created_at >= $1 AND k.created_at < $2::timestamptz + (2 * $3::float8) * interval '1 hour'
          AND k.created_at >= d.created_at AND k.created_at < d.created_at + $3::float8 * interval '1 hour'
     )
     SELECT (SELECT count(*) FROM s) AS searches,
            (SELECT count(*) FROM s WHERE jsonb_array_length(s.shop_ids) > 0) AS with_results,
            (SELECT count(DISTINCT search_id) FROM d) AS delegated,
            (SELECT count(*) FROM b) AS booked`,
    [w.since, w.until, windowHours, releases.release ?? null, releases.exceptRelease ?? null],
  );
  const r = rows[0] ?? {};
  return { windowHours, searches: num(r.searches), searchesWithResults: num(r.with_results), delegated: num(r.delegated), booked: num(r.booked) };
}

/** The checklist's "popular shops" (router_shop_discovery), over the window: discovered = in a search's results. */
export async function popularShops(db: Queryable, w: AnalyticsWindow, limit = 20): Promise<ShopRow[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH found AS (
       SELECT e.value::bigint AS shop_id, count(*) AS n
         FROM ${ANALYTICS_EVENTS} a
        CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(a.payload -> 'shop_ids') = 'array' THEN a.payload -> 'shop_ids' ELSE '[]'::jsonb END) AS e(value)
        WHERE a.event_type = 'search' AND a.created_at >= $1 AND a.created_at < $2 AND NOT a.synthetic AND e.value ~ '^[0-9]{1,18}$'
        GROUP BY 1
     ), acted AS (
       SELECT a.shop_id, count(*) FILTER (WHERE a.event_type = 'delegate') AS delegated, count(*) FILTER (WHERE a.event_type = 'booking') AS booked
         FROM ${ANALYTICS_EVENTS} a
        WHERE a.event_type IN ('delegate', 'booking') AND a.shop_id IS NOT NULL AND a.created_at >= $1 AND a.created_at < $2 AND NOT a.synthetic
        GROUP BY 1
     )
     SELECT s.slug, s.name, coalesce(f.n, 0) AS discovered, coalesce(x.delegated, 0) AS delegated, coalesce(x.booked, 0) AS booked
       FROM found f JOIN shops s ON s.id = f.shop_id LEFT JOIN acted x ON x.shop_id = f.shop_id
      ORDER BY discovered DESC, delegated DESC, s.slug
      LIMIT $3`,
    [w.since, w.until, limit],
  );
  return rows.map((r) => ({ slug: String(r.slug), name: String(r.name), timesDiscovered: num(r.discovered), timesDelegated: num(r.delegated), bookings: num(r.booked) }));
}

/**
 * The checklist's "events in the last hour" (`window`: a PostgreSQL interval, e.g. '1 hour') —
 * real and synthetic counted apart. Also db.analytics-recent-events' query.
 */
export async function recentEvents(db: Queryable, window = '1 hour'): Promise<EventCount[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT event_type, count(*) FILTER (WHERE NOT synthetic) AS real, count(*) FILTER (WHERE synthetic) AS synthetic
       FROM router_analytics WHERE created_at > now() - $1::interval GROUP BY event_type ORDER BY event_type`,
    [window],
  );
  return rows.map((r) => ({ eventType: String(r.event_type), real: num(r.real), synthetic: num(r.synthetic) }));
}

/**
 * The checklist's "time between events per session", as SQL can run it (the checklist's version
 * puts a window function inside an aggregate, which PostgreSQL refuses): per event type, the
 * mean time since the same session's previous event.
 */
export async function timeBetweenEvents(db: Queryable, w: AnalyticsWindow): Promise<GapRow[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT event_type, count(gap) AS events, round(avg(extract(epoch FROM gap))::numeric, 1) AS avg_seconds
       FROM (SELECT event_type, created_at - lag(created_at) OVER (PARTITION BY session_id ORDER BY created_at, id) AS gap
               FROM ${ANALYTICS_EVENTS} ev
              WHERE session_id IS NOT NULL AND created_at >= $1 AND created_at < $2 AND NOT synthetic) g
      WHERE gap IS NOT NULL
      GROUP BY event_type ORDER BY event_type`,
    [w.since, w.until],
  );
  return rows.map((r) => ({ eventType: String(r.event_type), events: num(r.events), avgSecondsSincePrevious: numOrNull(r.avg_seconds) }));
}
