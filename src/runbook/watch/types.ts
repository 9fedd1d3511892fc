/**
 * The watch model: what `routergpt watch` and the `api.watch` step decide, interval by interval,
 * and what they journal (the api.watch item's result data is a WatchReport under `outputs.report`).
 * The HTML report renders it, so the shape is stable: add optional fields, never rename.
 *
 * Every number a verdict was decided on is in the verdict itself (`actual`, `baseline`, `limit`,
 * `samples`) and `reason` says the rule in words (docs/metrics.md#watch-verdicts).
 */

/** A verdict. `inconclusive`: fewer requests than `min_requests`, so nothing can be said. */
export type WatchStatus = 'pass' | 'warn' | 'fail' | 'inconclusive';

/** The routes watch reports on, by the analytics event type their successes are recorded as. */
export const WATCH_ROUTES = [
  { key: 'search', path: '/router/search-by-location', eventType: 'search' },
  { key: 'delegate', path: '/router/delegate', eventType: 'delegate' },
  { key: 'chat', path: '/chat', eventType: 'chat_message' },
  { key: 'feedback', path: '/router/feedback', eventType: 'feedback' },
] as const;
export type WatchRouteKey = (typeof WATCH_ROUTES)[number]['key'];

/** Per-route metrics, in the order they are shown. */
export const WATCH_ROUTE_METRICS = ['requests', 'error_rate', 'p50_ms', 'p95_ms', 'rate_429'] as const;
/** The search → delegate → booking funnel, over all routes. */
export const WATCH_CONVERSION_METRICS = ['search_to_delegate', 'delegate_to_booking', 'search_to_booking'] as const;
export type WatchRouteMetric = (typeof WATCH_ROUTE_METRICS)[number];
export type WatchConversionMetric = (typeof WATCH_CONVERSION_METRICS)[number];
export type WatchMetric = WatchRouteMetric | WatchConversionMetric;

/** How `actual`, `baseline` and `limit` are measured: a count, a ratio in 0…1, or milliseconds. */
export type WatchUnit = 'count' | 'ratio' | 'ms';

export interface WatchVerdict {
  metric: WatchMetric;
  status: WatchStatus;
  unit: WatchUnit;
  /** The value in the window so far; null when there was nothing to compute it from. */
  actual: number | null;
  /** The same metric over the baseline window; absent when there is no baseline, null when it had no data for this metric. */
  baseline?: number | null;
  /** The absolute limit (a budget); absent when the metric has none. */
  limit?: number;
  /** What the ratio or percentile was computed over (requests, or funnel entries for conversion). */
  samples: number;
  /** The rule that decided it, with the numbers: "p95 612 ms > limit 500 ms". */
  reason: string;
}

export interface WatchRouteReport {
  route: WatchRouteKey;
  /** The HTTP path, e.g. /router/search-by-location. */
  path: string;
  /** The worst verdict of the route's metrics. */
  status: WatchStatus;
  verdicts: WatchVerdict[];
}

/** Which window the figures were compared with. */
export interface WatchBaseline {
  /**
   * `previous-release`: the first window of the same length of the release before this one;
   * `week-earlier`: the same window one week earlier; `none`: neither had any traffic (or the
   * release under watch is unknown and a week ago was empty) — absolute limits alone apply;
   * `concurrent`: a canary's bake — the release the rest of the fleet still runs, over the same
   * window as the canary (its requests grow with the watch).
   */
  kind: 'previous-release' | 'week-earlier' | 'none' | 'concurrent';
  /** The previous release, for `previous-release`; the fleet's release, for `concurrent`. */
  release?: string;
  /** For `concurrent` when the fleet's release is unknown: every release but this one (the canary's). */
  exceptRelease?: string;
  /** ISO timestamps of the baseline window (absent for `none`). */
  from?: string;
  to?: string;
  /** Requests in the baseline window, all routes (for `concurrent`, as counted: before `scale`). */
  requests: number;
  /**
   * The baseline's request count is weighed by this in the volume verdict (a canary: its hosts ÷
   * the rest of the fleet's, so one host's traffic is compared with one host's share); rates,
   * latencies and the min_requests floor use the counts as they are. Absent: 1.
   */
  scale?: number;
  /** In words, e.g. "no baseline: release v1.3 is the first one recorded and a week ago had no traffic". */
  reason: string;
}

/** The absolute limits in force (from config `watch.limits`, else the checklist's budgets). */
export interface WatchLimits {
  /** p95 latency budgets, ms, by route. */
  p95_ms: Partial<Record<WatchRouteKey, number>>;
  /** Error rate limit, a ratio in 0…1 (0.01 = 1 %). */
  error_rate: number;
  /** 429 rate limit, a ratio in 0…1. */
  rate_429: number;
}

/** One evaluation: the window from the watch's start to `to`. */
export interface WatchWindow {
  /** 1-based. */
  index: number;
  from: string;
  to: string;
  /** The worst verdict in this window. */
  status: WatchStatus;
  health: WatchHealth;
  routes: WatchRouteReport[];
  conversion: WatchVerdict[];
}

export interface WatchHealth {
  status: WatchStatus;
  /** HTTP status of GET /health; null when it could not be reached. */
  httpStatus: number | null;
  /** `version` as /health reports it. */
  version?: string;
  reason: string;
}

/** What watch did about a fail (`--on-fail`). */
export interface WatchAction {
  onFail: 'toggle' | 'stop' | 'pause';
  /** What happened: `toggled` the router off, `stopped`, a person `continued` or `stopped` at the pause. */
  taken: 'toggled' | 'stopped' | 'continued' | 'none';
  /** The rollback run journaling the toggle, and the deploy run it is linked from. */
  rollbackRunId?: string;
  deployRunId?: string;
  reason: string;
}

export interface WatchReport {
  env: string;
  apiBase: string;
  /** The release under watch (what /health reports as `version`). */
  release?: string;
  /**
   * Only `release`'s rows are the watch's figures, funnel included (a canary: one host on the new
   * release while the others serve the old one); absent: every release's rows in the window.
   */
  releaseOnly?: boolean;
  startedAt: string;
  endedAt?: string;
  forMs: number;
  intervalMs: number;
  minRequests: number;
  strict: boolean;
  limits: WatchLimits;
  baseline: WatchBaseline;
  /** Every evaluation, oldest first; the last one decides. */
  windows: WatchWindow[];
  /** The overall verdict: the last window's, or `fail` as soon as one window failed. */
  status: WatchStatus;
  /** Whether the watch ran its full length (false when a fail ended it early or it was cancelled). */
  completed: boolean;
  action?: WatchAction;
  /** A standalone `routergpt watch` is journaled as a run of kind `watch`: its id and journal file (absent for a deploy's api.watch item, which is in the deploy's run). */
  runId?: string;
  journalFile?: string;
}

const ORDER: Record<WatchStatus, number> = { pass: 0, inconclusive: 1, warn: 2, fail: 3 };

/** The worst of some verdicts (pass < inconclusive < warn < fail); pass for none. */
export function worstStatus(statuses: Iterable<WatchStatus>): WatchStatus {
  let worst: WatchStatus = 'pass';
  for (const s of statuses) if (ORDER[s] > ORDER[worst]) worst = s;
  return worst;
}
