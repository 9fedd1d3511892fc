/**
 * The checklist's Success Metrics over a window — for `routergpt metrics` and the HTML report.
 * Each metric has a target (the checklist's, or the environment's `metrics.targets`), an actual,
 * the sample it was computed on, and a verdict: pass, fail, or inconclusive when the sample is
 * empty or smaller than the metric's minimum (never pass for lack of data). Real traffic only:
 * rows routergpt's own checks marked `synthetic` are left out everywhere.
 *
 * Definitions (docs/metrics.md is the long form):
 * - a **router booking** is a booking whose chat session the router opened (`chat_sessions.source
 *   = 'search'`: a delegation after a location search); a booking without a session (purged) or
 *   from a direct session is not one. Bookings count by `created_at`, whatever their status now.
 * - a **request** is any router request: success events (search, delegate, chat_message,
 *   feedback) + error events + the refused ones counted in `router_refusals` (per minute: the
 *   window's first, partial minute counts whole, as watch counts it);
 *   an **error** is a 5xx other than the toggle's deliberate 503 (an `error` event — the toggle's
 *   503 is recorded as a refusal).
 * - search → booking conversion is the analytics funnel's: searches of the window that led to a
 *   booking in the session of a delegation to a shop they returned, each stage within the funnel
 *   window of the one before (orderedFunnel), ÷ searches.
 * - average response time is the mean `latency_ms` of search and delegate events (the router's
 *   own routes; chat is bounded by the language model, with its own 5 s budget).
 * - satisfaction is the mean rating (1–5) of the feedback given or last changed in the window.
 */
import { ANALYTICS_EVENTS } from './events-source.js';
import { BUILT_IN_MIN_SAMPLE_ORIGIN, CHECKLIST_ORIGIN, METRIC_CATALOGUE, METRIC_IDS, type MetricComparison, type MetricId, type MetricUnit } from './metric-catalogue.js';
import { orderedFunnel, type AnalyticsWindow } from './queries.js';
import type { Queryable } from '../pool.js';
import { rolledEventTotals, rolledFunnel } from './rolled-queries.js';
import type { RollupState } from './rollups.js';

export { BUILT_IN_MIN_SAMPLE_ORIGIN, CHECKLIST_ORIGIN, METRIC_CATALOGUE, METRIC_IDS, isMetricId, type MetricComparison, type MetricId, type MetricUnit } from './metric-catalogue.js';

/** One metric's target and minimum sample, each with where it came from (for the report). */
export interface MetricTargetSetting {
  value: number;
  /** "the checklist (Success Metrics)", "routergpt.config.yaml: environments.prod.metrics.targets.error_rate". */
  origin: string;
  minSample: number;
  minSampleOrigin: string;
}
export type MetricTargets = Record<MetricId, MetricTargetSetting>;

export type MetricVerdict = 'pass' | 'fail' | 'inconclusive';

export interface SuccessMetric {
  id: MetricId;
  /** The checklist's name. */
  name: string;
  unit: MetricUnit;
  comparison: MetricComparison;
  target: number;
  targetOrigin: string;
  /** Unrounded; null when there was nothing to compute it from. Percentages are 0–100. */
  actual: number | null;
  /** How many observations the actual rests on, and how many a verdict needs. */
  sample: number;
  minSample: number;
  minSampleOrigin: string;
  /** What the sample counts ("bookings"). */
  sampleOf: string;
  /** The counts behind the actual (numerator and denominator, by name). */
  parts: Record<string, number>;
  verdict: MetricVerdict;
  /** One sentence: the figures that decided the verdict. */
  reason: string;
}

export interface SuccessMetricsReport {
  /** ISO instants: from (inclusive) … to (exclusive). */
  since: string;
  until: string;
  /** The funnel window of the conversion (hours). */
  funnelWindowHours: number;
  metrics: SuccessMetric[];
  /** fail when one metric fails; else inconclusive when one is; else pass (and pass with no metric asked). */
  verdict: MetricVerdict;
  counts: Record<MetricVerdict, number>;
}

export interface SuccessMetricsOptions {
  since: Date;
  /** Default: now. */
  until?: Date;
  /** Per metric; a metric left out takes the checklist's target and the built-in minimum sample. */
  targets?: Partial<MetricTargets>;
  /** Only these metrics (default: all five, in the checklist's order). */
  metrics?: readonly MetricId[];
  /** How long after a search (and after its delegation) the next stage still counts. Default 24 h. */
  funnelWindowHours?: number;
  /** Read the rollups (refreshed by the caller: refreshAnalyticsRollups) — the same answers, faster. */
  rollups?: RollupState;
}

/** The checklist's targets and the built-in minimum samples. */
export function defaultMetricTargets(): MetricTargets {
  return Object.fromEntries(
    METRIC_IDS.map((id) => [id, { value: METRIC_CATALOGUE[id].target, origin: CHECKLIST_ORIGIN, minSample: METRIC_CATALOGUE[id].minSample, minSampleOrigin: BUILT_IN_MIN_SAMPLE_ORIGIN }]),
  ) as MetricTargets;
}

/** A measurement before it is judged: the actual, its sample, and the counts behind it. */
interface Measurement {
  actual: number | null;
  sample: number;
  parts: Record<string, number>;
}

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const ratioPct = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : null);

/** Bookings of the window, and how many the router brought (definition above). */
async function usageRate(db: Queryable, w: AnalyticsWindow): Promise<Measurement> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT count(*) AS bookings, count(*) FILTER (WHERE cs.source = 'search') AS router_bookings
       FROM bookings b LEFT JOIN chat_sessions cs ON cs.id = b.session_id
      WHERE b.created_at >= $1 AND b.created_at < $2 AND NOT b.synthetic AND NOT coalesce(cs.synthetic, false)`,
    [w.since, w.until],
  );
  const bookings = num(rows[0]?.bookings);
  const routerBookings = num(rows[0]?.router_bookings);
  return { actual: ratioPct(routerBookings, bookings), sample: bookings, parts: { routerBookings, bookings } };
}

async function searchToBooking(db: Queryable, w: AnalyticsWindow, funnelWindowHours: number, rollups: RollupState | undefined): Promise<Measurement> {
  const f = (rollups && (await rolledFunnel(db, w, rollups, funnelWindowHours))) ?? (await orderedFunnel(db, w, funnelWindowHours));
  return { actual: ratioPct(f.booked, f.searches), sample: f.searches, parts: { bookedSearches: f.booked, searches: f.searches } };
}

/**
 * The response time and the error rate read the same rows: one scan of the window's events for
 * both (on a month of traffic that scan is most of the command's time), shared by the two.
 */
interface EventTotals {
  timed: number;
  totalMs: number;
  succeeded: number;
  errors: number;
  refused: number;
}

async function eventTotals(db: Queryable, w: AnalyticsWindow): Promise<EventTotals> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT e.timed, e.total_ms, e.succeeded, e.errors,
            (SELECT coalesce(sum(count), 0) FROM router_refusals
              WHERE minute >= date_trunc('minute', $1::timestamptz) AND minute < $2 AND NOT synthetic) AS refused
       FROM (SELECT count(latency_ms) FILTER (WHERE event_type IN ('search', 'delegate')) AS timed,
                    sum(latency_ms) FILTER (WHERE event_type IN ('search', 'delegate')) AS total_ms,
                    count(*) FILTER (WHERE event_type IN ('search', 'delegate', 'chat_message', 'feedback')) AS succeeded,
                    count(*) FILTER (WHERE event_type = 'error') AS errors
               FROM ${ANALYTICS_EVENTS} ev
              WHERE event_type IN ('search', 'delegate', 'chat_message', 'feedback', 'error') AND created_at >= $1 AND created_at < $2 AND NOT synthetic) e`,
    [w.since, w.until],
  );
  const r = rows[0] ?? {};
  return { timed: num(r.timed), totalMs: num(r.total_ms), succeeded: num(r.succeeded), errors: num(r.errors), refused: num(r.refused) };
}

function responseTime(t: EventTotals): Measurement {
  return { actual: t.timed > 0 ? t.totalMs / t.timed : null, sample: t.timed, parts: { totalMs: t.totalMs, timedRequests: t.timed } };
}

function errorRate(t: EventTotals): Measurement {
  const requests = t.succeeded + t.errors + t.refused;
  return { actual: ratioPct(t.errors, requests), sample: requests, parts: { errors: t.errors, requests, succeeded: t.succeeded, refused: t.refused } };
}

async function satisfaction(db: Queryable, w: AnalyticsWindow): Promise<Measurement> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT count(*) AS ratings, coalesce(sum(f.rating), 0) AS total
       FROM router_feedback f JOIN chat_sessions cs ON cs.id = f.session_id
      WHERE f.updated_at >= $1 AND f.updated_at < $2 AND NOT f.synthetic AND NOT cs.synthetic`,
    [w.since, w.until],
  );
  const ratings = num(rows[0]?.ratings);
  const total = num(rows[0]?.total);
  return { actual: ratings > 0 ? total / ratings : null, sample: ratings, parts: { ratingTotal: total, ratings } };
}

/** Render a value with its unit, for reasons (renderers format on their own). */
export function formatMetricValue(value: number, unit: MetricUnit): string {
  if (unit === 'ms') return `${Math.round(value)} ms`;
  if (unit === '%') return `${Number(value.toFixed(2))} %`;
  return `${Number(value.toFixed(2))}/5`;
}

/** Pass, fail or inconclusive, and the sentence that says why. Ties miss: the checklist's targets are strict (> 10 %, < 1 %). */
export function judgeMetric(id: MetricId, m: Measurement, setting: MetricTargetSetting): Pick<SuccessMetric, 'verdict' | 'reason'> {
  const def = METRIC_CATALOGUE[id];
  if (m.actual === null || m.sample === 0) return { verdict: 'inconclusive', reason: `no ${def.sampleOf} in the window` };
  if (m.sample < setting.minSample) {
    return { verdict: 'inconclusive', reason: `only ${m.sample} ${m.sample === 1 ? def.sampleOf.replace(/s$/, '') : def.sampleOf} in the window (a verdict needs ${setting.minSample})` };
  }
  const ok = def.comparison === 'above' ? m.actual > setting.value : m.actual < setting.value;
  const actual = formatMetricValue(m.actual, def.unit);
  const target = `${def.comparison === 'above' ? '>' : '<'} ${formatMetricValue(setting.value, def.unit)}`;
  return ok ? { verdict: 'pass', reason: `${actual} meets the target ${target}` } : { verdict: 'fail', reason: `${actual} misses the target ${target}` };
}

/** The Success Metrics of the window, read-only: four queries (response time and error rate share one). */
export async function successMetrics(db: Queryable, options: SuccessMetricsOptions): Promise<SuccessMetricsReport> {
  const w: AnalyticsWindow = { since: options.since, until: options.until ?? new Date() };
  const funnelWindowHours = options.funnelWindowHours ?? 24;
  const defaults = defaultMetricTargets();
  const ids = METRIC_IDS.filter((id) => !options.metrics || options.metrics.includes(id));
  const metrics: SuccessMetric[] = [];
  let totals: Promise<EventTotals> | undefined;
  const rollups = options.rollups;
  const shared = () => (totals ??= rollups ? rolledEventTotals(db, w, rollups) : eventTotals(db, w));
  for (const id of ids) {
    const setting = options.targets?.[id] ?? defaults[id];
    const m = await measure(db, id, w, funnelWindowHours, shared, rollups);
    const def = METRIC_CATALOGUE[id];
    metrics.push({
      id,
      name: def.name,
      unit: def.unit,
      comparison: def.comparison,
      target: setting.value,
      targetOrigin: setting.origin,
      actual: m.actual,
      sample: m.sample,
      minSample: setting.minSample,
      minSampleOrigin: setting.minSampleOrigin,
      sampleOf: def.sampleOf,
      parts: m.parts,
      ...judgeMetric(id, m, setting),
    });
  }
  const counts: Record<MetricVerdict, number> = { pass: 0, fail: 0, inconclusive: 0 };
  for (const m of metrics) counts[m.verdict] += 1;
  const verdict: MetricVerdict = counts.fail > 0 ? 'fail' : counts.inconclusive > 0 ? 'inconclusive' : 'pass';
  return { since: w.since.toISOString(), until: w.until.toISOString(), funnelWindowHours, metrics, verdict, counts };
}

async function measure(db: Queryable, id: MetricId, w: AnalyticsWindow, funnelWindowHours: number, totals: () => Promise<EventTotals>, rollups: RollupState | undefined): Promise<Measurement> {
  switch (id) {
    case 'usage-rate':
      return usageRate(db, w);
    case 'search-to-booking':
      return searchToBooking(db, w, funnelWindowHours, rollups);
    case 'response-time':
      return responseTime(await totals());
    case 'error-rate':
      return errorRate(await totals());
    case 'satisfaction':
      return satisfaction(db, w);
  }
}
