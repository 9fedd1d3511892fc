/**
 * The watch's verdicts (docs/metrics.md#watch-verdicts): each metric of each route against its
 * baseline and its absolute limit, as small rules — one function per metric, each returning a
 * verdict with the numbers that decided it. Pure: figures in, verdicts out.
 */
import type { FunnelResult } from '../../db/analytics/queries.js';
import type { RouteFigures, WindowFigures } from '../../db/analytics/watch.js';
import { WATCH_ROUTES, worstStatus, type WatchConversionMetric, type WatchHealth, type WatchLimits, type WatchRouteReport, type WatchStatus, type WatchVerdict } from './types.js';

/** p95 (or p50) above this multiple of the baseline's warns; a p95 over its limit fails only when also above FAIL_LATENCY × baseline. */
export const WARN_LATENCY = 1.5;
export const FAIL_LATENCY = 1.2;
/** A rate (errors, 429s) more than this multiple of the baseline's, and over half its limit, warns. */
export const WARN_RATE = 2;
/** Fewer requests than this fraction of the baseline's over the same time warns (traffic fell away). */
export const WARN_TRAFFIC = 0.5;
/** A conversion under this fraction of the baseline's warns. */
export const WARN_CONVERSION = 0.5;

export interface EvaluationInput {
  current: WindowFigures;
  /** Absent: there is no baseline (said so; the limits still apply). */
  baseline?: WindowFigures;
  limits: WatchLimits;
  minRequests: number;
  /**
   * The baseline's share of traffic comparable to the watched one's (a canary: its hosts ÷ the
   * others'): the volume rule weighs the baseline's request count by it. Rates, latencies and the
   * min_requests floor are judged on the counts as they are. Absent: 1.
   */
  volumeScale?: number;
}

export interface Evaluation {
  routes: WatchRouteReport[];
  conversion: WatchVerdict[];
}

export const pct = (ratio: number) => `${(ratio * 100).toFixed(2)} %`;
const msText = (ms: number) => `${ms} ms`;

interface RuleContext {
  cur: RouteFigures;
  /** The same route over the baseline window; undefined without a baseline. */
  base: RouteFigures | undefined;
  limits: WatchLimits;
  min: number;
  volumeScale: number;
}

type Rule = (ctx: RuleContext) => WatchVerdict;

/** The baseline's value only when it had enough traffic to mean something; null when it had not. */
function baselineValue<T>(ctx: RuleContext, samples: (f: RouteFigures) => number, value: (f: RouteFigures) => T | null): T | null | undefined {
  if (!ctx.base) return undefined;
  return samples(ctx.base) >= ctx.min ? value(ctx.base) : null;
}

const baselineText = (baseline: unknown) => (baseline === undefined ? 'no baseline' : 'the baseline had too little traffic to compare');

function tooFew(metric: WatchVerdict['metric'], unit: WatchVerdict['unit'], samples: number, min: number, what: string, baseline?: number | null): WatchVerdict {
  return { metric, status: 'inconclusive', unit, actual: null, ...(baseline !== undefined ? { baseline } : {}), samples, reason: `${samples} ${what} < min_requests ${min}: too few to judge` };
}

const requestsRule: Rule = (ctx) => {
  const { cur, min, volumeScale } = ctx;
  const baseline = ctx.base ? ctx.base.requests : undefined;
  const common = { metric: 'requests' as const, unit: 'count' as const, actual: cur.requests, ...(baseline !== undefined ? { baseline } : {}), samples: cur.requests };
  // A canary's baseline is several hosts' traffic: its share per host is what one host should see.
  const share = baseline === undefined ? undefined : baseline * volumeScale;
  const baseText = baseline === undefined ? '' : volumeScale === 1 ? `baseline ${baseline}` : `baseline ${baseline} × ${Math.round(volumeScale * 1000) / 1000} per host = ${Math.round((share ?? 0) * 10) / 10}`;
  if (cur.requests < min) return { ...common, status: 'inconclusive', reason: `${cur.requests} requests < min_requests ${min}: too few to judge${baseText ? ` (${baseText})` : ''}` };
  if (baseline !== undefined && baseline >= min && cur.requests < WARN_TRAFFIC * share!) return { ...common, status: 'warn', reason: `${cur.requests} requests < ${WARN_TRAFFIC} × ${baseText} over the same time: traffic fell away` };
  return { ...common, status: 'pass', reason: `${cur.requests} requests${baseText ? ` (${baseText})` : ''}` };
};

/**
 * A rate with a limit: over the limit fails, unless the baseline was as bad (within half the
 * limit), which only warns — the release did not make it worse. Under the limit, more than
 * WARN_RATE × the baseline and over half the limit warns (rising). `failOver: false` makes
 * "over the limit" a warning at most (429s: the rate limiter doing its job).
 */
function rateRule(metric: 'error_rate' | 'rate_429', count: (f: RouteFigures) => number, limit: number, failOver: boolean, what: string): Rule {
  return (ctx) => {
    const { cur, min } = ctx;
    const ratio = (f: RouteFigures) => (f.requests > 0 ? count(f) / f.requests : 0);
    const baseline = baselineValue(ctx, (f) => f.requests, ratio);
    if (cur.requests < min) return tooFew(metric, 'ratio', cur.requests, min, 'requests', baseline);
    const actual = ratio(cur);
    const common = { metric, unit: 'ratio' as const, actual, ...(baseline !== undefined ? { baseline } : {}), limit, samples: cur.requests };
    const figures = `${count(cur)} ${what} of ${cur.requests} requests = ${pct(actual)}`;
    if (actual > limit) {
      if (typeof baseline === 'number' && actual <= baseline + limit / 2) return { ...common, status: 'warn', reason: `${figures} > limit ${pct(limit)}, as the baseline's ${pct(baseline)} was (within ${pct(limit / 2)}): over the limit, not worse than before` };
      const why = typeof baseline === 'number' ? `and > baseline ${pct(baseline)} + ${pct(limit / 2)}` : `(${baselineText(baseline)})`;
      return { ...common, status: failOver ? 'fail' : 'warn', reason: `${figures} > limit ${pct(limit)} ${why}` };
    }
    if (typeof baseline === 'number' && actual > limit / 2 && actual > WARN_RATE * baseline) return { ...common, status: 'warn', reason: `${figures} > ${WARN_RATE} × baseline ${pct(baseline)} and over half the limit ${pct(limit)}: rising` };
    return { ...common, status: 'pass', reason: `${figures} ≤ limit ${pct(limit)}${typeof baseline === 'number' ? ` (baseline ${pct(baseline)})` : ` (${baselineText(baseline)})`}` };
  };
}

/**
 * A latency percentile: over its limit fails unless within FAIL_LATENCY × a baseline that was as
 * slow (then it warns); above WARN_LATENCY × the baseline warns. Over the successful requests.
 */
function latencyRule(metric: 'p50_ms' | 'p95_ms', value: (f: RouteFigures) => number | null, limit: number | undefined): Rule {
  return (ctx) => {
    const { cur, min } = ctx;
    const name = metric === 'p95_ms' ? 'p95' : 'p50';
    const baseline = baselineValue(ctx, (f) => f.successes, value);
    if (cur.successes < min) return { ...tooFew(metric, 'ms', cur.successes, min, 'successful requests', baseline), ...(limit !== undefined ? { limit } : {}) };
    const actual = value(cur) ?? 0;
    const common = { metric, unit: 'ms' as const, actual, ...(baseline !== undefined ? { baseline } : {}), ...(limit !== undefined ? { limit } : {}), samples: cur.successes };
    const figures = `${name} ${msText(actual)} over ${cur.successes} successful requests`;
    if (limit !== undefined && actual > limit) {
      if (typeof baseline === 'number' && actual <= FAIL_LATENCY * baseline) return { ...common, status: 'warn', reason: `${figures} > limit ${msText(limit)}, but ≤ ${FAIL_LATENCY} × baseline ${msText(baseline)}: over budget, as before` };
      const why = typeof baseline === 'number' ? `and > ${FAIL_LATENCY} × baseline ${msText(baseline)}` : `(${baselineText(baseline)})`;
      return { ...common, status: 'fail', reason: `${figures} > limit ${msText(limit)} ${why}` };
    }
    if (typeof baseline === 'number' && actual > WARN_LATENCY * baseline) return { ...common, status: 'warn', reason: `${figures} > ${WARN_LATENCY} × baseline ${msText(baseline)}` };
    const against = [limit !== undefined ? `≤ limit ${msText(limit)}` : undefined, typeof baseline === 'number' ? `baseline ${msText(baseline)}` : baselineText(baseline)].filter(Boolean).join('; ');
    return { ...common, status: 'pass', reason: `${figures} (${against})` };
  };
}

function routeRules(route: RouteFigures['route'], limits: WatchLimits): Rule[] {
  return [
    requestsRule,
    rateRule('error_rate', (f) => f.errors, limits.error_rate, true, 'errors (5xx)'),
    latencyRule('p50_ms', (f) => f.p50Ms, undefined),
    latencyRule('p95_ms', (f) => f.p95Ms, limits.p95_ms[route]),
    rateRule('rate_429', (f) => f.refused429, limits.rate_429, false, '429s'),
  ];
}

/** One conversion of the funnel: under WARN_CONVERSION × the baseline's warns; there is no absolute target here (`routergpt metrics` has those). */
function conversionVerdict(metric: WatchConversionMetric, part: (f: FunnelResult) => number, whole: (f: FunnelResult) => number, cur: FunnelResult, base: FunnelResult | undefined, min: number, what: string): WatchVerdict {
  const ratio = (f: FunnelResult) => (whole(f) > 0 ? part(f) / whole(f) : 0);
  const baseline = base ? (whole(base) >= min ? ratio(base) : null) : undefined;
  const samples = whole(cur);
  if (samples < min) return tooFew(metric, 'ratio', samples, min, what, baseline);
  const actual = ratio(cur);
  const common = { metric, unit: 'ratio' as const, actual, ...(baseline !== undefined ? { baseline } : {}), samples };
  const figures = `${part(cur)} of ${samples} ${what} = ${pct(actual)}`;
  if (typeof baseline === 'number' && actual < WARN_CONVERSION * baseline) return { ...common, status: 'warn', reason: `${figures} < ${WARN_CONVERSION} × baseline ${pct(baseline)}` };
  return { ...common, status: 'pass', reason: `${figures}${typeof baseline === 'number' ? ` (baseline ${pct(baseline)})` : ` (${baselineText(baseline)})`}` };
}

export function evaluateWindow({ current, baseline, limits, minRequests, volumeScale = 1 }: EvaluationInput): Evaluation {
  const routes = WATCH_ROUTES.map(({ key, path }): WatchRouteReport => {
    const cur = current.routes.find((r) => r.route === key)!;
    const base = baseline?.routes.find((r) => r.route === key);
    const verdicts = routeRules(key, limits).map((rule) => rule({ cur, base, limits, min: minRequests, volumeScale }));
    return { route: key, path, status: worstStatus(verdicts.map((v) => v.status)), verdicts };
  });
  const c = current.funnel;
  const b = baseline?.funnel;
  const conversion = [
    conversionVerdict('search_to_delegate', (f) => f.delegated, (f) => f.searches, c, b, minRequests, 'searches delegated'),
    conversionVerdict('delegate_to_booking', (f) => f.booked, (f) => f.delegated, c, b, minRequests, 'delegated searches booked'),
    conversionVerdict('search_to_booking', (f) => f.booked, (f) => f.searches, c, b, minRequests, 'searches booked'),
  ];
  return { routes, conversion };
}

/**
 * A window's verdict: any fail fails, then any warn warns. Inconclusive when the watch as a whole
 * saw fewer than min_requests requests; when a route busy enough to judge (≥ min_requests) still
 * has a verdict it cannot give (every request refused: no latency to measure); or when a route
 * the baseline saw busy is now too quiet to judge. A route nobody uses (feedback, often) is
 * reported as inconclusive but does not make every watch inconclusive.
 */
export function windowStatus(evaluation: Evaluation, health: WatchHealth, current: WindowFigures, baseline: WindowFigures | undefined, minRequests: number): WatchStatus {
  const all = [health.status, ...evaluation.routes.flatMap((r) => r.verdicts.map((v) => v.status)), ...evaluation.conversion.map((v) => v.status)];
  if (all.includes('fail')) return 'fail';
  if (all.includes('warn')) return 'warn';
  const total = current.routes.reduce((n, r) => n + r.requests, 0);
  if (total < minRequests) return 'inconclusive';
  const requestsOf = (figures: WindowFigures | undefined, route: string) => figures?.routes.find((f) => f.route === route)?.requests ?? 0;
  const unjudged = evaluation.routes.some((r) => r.status === 'inconclusive' && (requestsOf(current, r.route) >= minRequests || requestsOf(baseline, r.route) >= minRequests));
  return unjudged ? 'inconclusive' : 'pass';
}
