/**
 * The figures `routergpt watch` decides on (docs/metrics.md#watch-verdicts), per route over one
 * window: requests, errors, 429s, p50/p95 latency — and the release history its baseline is
 * chosen from. Real traffic only: synthetic rows (routergpt's own checks) are left out.
 *
 * A request is a success event of the route + an `error` event naming it (payload.route) + the
 * route's refused requests (router_refusals.count: 4xx, 429 and the toggle's 503). Refusals are
 * counted per minute, so a window takes the minutes that overlap it (its first minute whole).
 * Latency percentiles are over the success events' latency_ms.
 */
import { ANALYTICS_EVENTS } from './events-source.js';
import type { Queryable } from '../pool.js';
import { WATCH_ROUTES, type WatchRouteKey } from '../../runbook/watch/types.js';
import { orderedFunnel, type FunnelResult } from './queries.js';
import { rolledFunnel } from './rolled-queries.js';
import type { RollupState } from './rollups.js';

export interface WatchQueryWindow {
  from: Date;
  to: Date;
  /** Only rows of this release (a baseline of the previous release); all rows when absent. */
  release?: string;
  /** Only rows of every other release (a canary's concurrent baseline when the fleet's release is unknown). */
  exceptRelease?: string;
  /**
   * The funnel too counts only the searches of `release` / not of `exceptRelease` (a canary's
   * bake, where the releases serve the same minutes side by side); otherwise it is every
   * release's searches of the window.
   */
  funnelByRelease?: boolean;
}

export interface RouteFigures {
  route: WatchRouteKey;
  requests: number;
  successes: number;
  errors: number;
  refusals: number;
  refused429: number;
  /** Over the success events' latency_ms; null without any. */
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface WindowFigures {
  routes: RouteFigures[];
  funnel: FunnelResult;
}

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const ms = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);

const ROUTES_SQL = `(VALUES ${WATCH_ROUTES.map((_, i) => `($${i * 3 + 4}::text, $${i * 3 + 5}::text, $${i * 3 + 6}::text)`).join(', ')}) AS r(key, path, event_type)`;
const ROUTE_PARAMS = WATCH_ROUTES.flatMap((r) => [r.key, r.path, r.eventType]);
/** The parameter after the routes': exceptRelease. */
const EXCEPT = `$${4 + ROUTE_PARAMS.length}`;

/** Every watched route's figures over the window (routes without traffic as zeros). */
export async function routeFigures(db: Queryable, w: WatchQueryWindow): Promise<RouteFigures[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH ok AS (
       SELECT r.key, count(*) AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY a.latency_ms) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY a.latency_ms) AS p95
         FROM ${ANALYTICS_EVENTS} a JOIN ${ROUTES_SQL} ON r.event_type = a.event_type
        WHERE a.created_at >= $1 AND a.created_at < $2 AND NOT a.synthetic AND ($3::text IS NULL OR a.release = $3) AND (${EXCEPT}::text IS NULL OR a.release IS DISTINCT FROM ${EXCEPT})
        GROUP BY r.key
     ), err AS (
       SELECT a.payload ->> 'route' AS path, count(*) AS n
         FROM ${ANALYTICS_EVENTS} a
        WHERE a.event_type = 'error' AND a.created_at >= $1 AND a.created_at < $2 AND NOT a.synthetic AND ($3::text IS NULL OR a.release = $3) AND (${EXCEPT}::text IS NULL OR a.release IS DISTINCT FROM ${EXCEPT})
        GROUP BY 1
     ), ref AS (
       SELECT f.route AS path, sum(f.count) AS n, coalesce(sum(f.count) FILTER (WHERE f.status = 429), 0) AS n429
         FROM router_refusals f
        WHERE f.minute >= date_trunc('minute', $1::timestamptz) AND f.minute < $2 AND NOT f.synthetic AND ($3::text IS NULL OR f.release = $3) AND (${EXCEPT}::text IS NULL OR f.release IS DISTINCT FROM ${EXCEPT})
        GROUP BY 1
     )
     SELECT r.key, coalesce(ok.n, 0) AS successes, coalesce(err.n, 0) AS errors, coalesce(ref.n, 0) AS refusals, coalesce(ref.n429, 0) AS refused429, ok.p50, ok.p95
       FROM ${ROUTES_SQL}
       LEFT JOIN ok ON ok.key = r.key LEFT JOIN err ON err.path = r.path LEFT JOIN ref ON ref.path = r.path`,
    [w.from, w.to, w.release ?? null, ...ROUTE_PARAMS, w.exceptRelease ?? null],
  );
  const byKey = new Map(rows.map((r) => [String(r.key), r]));
  return WATCH_ROUTES.map(({ key }) => {
    const r = byKey.get(key) ?? {};
    const successes = num(r.successes);
    const errors = num(r.errors);
    const refusals = num(r.refusals);
    return { route: key, requests: successes + errors + refusals, successes, errors, refusals, refused429: num(r.refused429), p50Ms: ms(r.p50), p95Ms: ms(r.p95) };
  });
}

/**
 * The routes' figures and the ordered search → delegate → booking funnel of the window's searches
 * (queries.ts; within a release's own first window its searches are that release's).
 */
export async function windowFigures(db: Queryable, w: WatchQueryWindow, rollups?: RollupState): Promise<WindowFigures> {
  const window = { since: w.from, until: w.to };
  // The rolled funnel is the same answer as orderedFunnel (both 24 h, all releases' searches of
  // the window); on a baseline a week back it takes milliseconds instead of seconds.
  // A funnel by release reads the events (the rollups are every release's).
  const byRelease = w.funnelByRelease ? { ...(w.release ? { release: w.release } : {}), ...(w.exceptRelease ? { exceptRelease: w.exceptRelease } : {}) } : undefined;
  const funnel = async () => (byRelease ? orderedFunnel(db, window, undefined, byRelease) : (rollups && (await rolledFunnel(db, window, rollups))) || orderedFunnel(db, window));
  const [routes, f] = await Promise.all([routeFigures(db, w), funnel()]);
  return { routes, funnel: f };
}

export interface ReleaseStart {
  release: string;
  firstSeen: Date;
}

/** When a release's first real event was recorded; undefined when it has none yet. */
export async function releaseFirstSeen(db: Queryable, release: string): Promise<Date | undefined> {
  const { rows } = await db.query<{ first: Date | null }>(`SELECT min(created_at) AS first FROM ${ANALYTICS_EVENTS} ev WHERE release = $1 AND NOT synthetic`, [release]);
  return rows[0]?.first ?? undefined;
}

/**
 * The release before `current`: of the other releases recorded, the one first seen last before
 * `current` was first seen (or before `before`, when `current` has no event yet).
 */
export async function previousRelease(db: Queryable, current: string, before: Date): Promise<ReleaseStart | undefined> {
  const { rows } = await db.query<{ release: string; first: Date }>(
    `SELECT release, min(created_at) AS first
       FROM ${ANALYTICS_EVENTS} ev
      WHERE release IS NOT NULL AND release <> '' AND release <> $1 AND NOT synthetic
      GROUP BY release
     HAVING min(created_at) < coalesce((SELECT min(created_at) FROM ${ANALYTICS_EVENTS} ev WHERE release = $1 AND NOT synthetic), $2)
      ORDER BY first DESC
      LIMIT 1`,
    [current, before],
  );
  const row = rows[0];
  return row ? { release: row.release, firstSeen: row.first } : undefined;
}
