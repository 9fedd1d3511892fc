/**
 * The watch itself: every interval, /health and the figures of the window so far (from the
 * watch's start), evaluated against the baseline and the limits; a fail ends it early and hands
 * the report to `onFail` (the caller toggles, stops or asks). The loop is the same for
 * `routergpt watch` and the api.watch step; what differs is injected: the clock, the sleep, the
 * checkpoint (the step journals every window, so a resumed run continues after the last one).
 */
import { CancelledError, OperationError } from '../../errors.js';
import type { WatchSettings } from '../../config/types.js';
import type { Queryable } from '../../db/pool.js';
import { readAnalyticsRollupState } from '../../db/analytics/rollups.js';
import { windowFigures } from '../../db/analytics/watch.js';
import { baselineFrom, chooseBaseline, concurrentBaseline } from './baseline.js';
import { evaluateWindow, windowStatus } from './evaluate.js';
import type { HealthReader, HealthReading } from './health.js';
import { worstStatus, type WatchAction, type WatchHealth, type WatchReport, type WatchStatus, type WatchWindow } from './types.js';

export type OnFail = WatchAction['onFail'];
export const ON_FAIL = ['toggle', 'stop', 'pause'] as const satisfies readonly OnFail[];

export interface WatchLoopOptions {
  db: Queryable;
  env: string;
  apiBase: string;
  settings: WatchSettings;
  strict: boolean;
  onFail: OnFail;
  readHealth: HealthReader;
  now: () => Date;
  /** Resolves after `ms`, or early when the signal aborts. */
  sleep: (ms: number) => Promise<void>;
  signal?: AbortSignal;
  /**
   * A canary's bake: only the rows of `release` (the release the canary was gated on) count, and
   * the baseline is the rest of the fleet over the same window (baseline.ts concurrentBaseline) —
   * `fleetRelease` when known, else every other release — not a past window.
   */
  canary?: { release: string; fleetRelease?: string; canaryHosts: number; fleetHosts: number };
  /** A journaled report to continue (the api.watch step on --resume). */
  resumed?: WatchReport;
  /** Called after each window with the report so far (the step journals it). */
  checkpoint?: (report: WatchReport) => Promise<void>;
  onWindow?: (window: WatchWindow, report: WatchReport) => void;
  /** What to do about a fail; its answer is recorded as `report.action`. */
  handleFail: (report: WatchReport) => Promise<WatchAction>;
}

function healthVerdict(reading: HealthReading, release: string | undefined): WatchHealth {
  const base = { httpStatus: reading.httpStatus, ...(reading.version ? { version: reading.version } : {}) };
  if (!reading.ok) return { ...base, status: 'fail', reason: `/health: ${reading.problem ?? 'not healthy'}` };
  if (release && reading.version !== release) return { ...base, status: 'warn', reason: `/health reports version ${reading.version ?? '(none)'}, not ${release} the watch started on: the release changed during the watch` };
  return { ...base, status: 'pass', reason: `/health 200${reading.version ? `, version ${reading.version}` : ''}` };
}

/** A sleep that Ctrl-C (the signal) cuts short: the watch then stops between windows. */
export function abortableSleep(signal: AbortSignal | undefined): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
}

/** How many windows a watch of `forMs` in steps of `intervalMs` evaluates (the last one ends at `forMs`). */
export function windowCount(settings: Pick<WatchSettings, 'forMs' | 'intervalMs'>): number {
  return Math.max(1, Math.ceil(settings.forMs / settings.intervalMs));
}

/** The exit code of a watch (DESIGN.md "Exit codes"): 1 on a fail, 3 for warn/inconclusive under --strict, else 0. */
export function watchExitCode(report: Pick<WatchReport, 'status' | 'strict'>): 0 | 1 | 3 {
  if (report.status === 'fail') return 1;
  return report.strict && report.status !== 'pass' ? 3 : 0;
}

export async function watchRelease(o: WatchLoopOptions): Promise<WatchReport> {
  const { settings } = o;
  let report: WatchReport;
  let choice;
  if (o.resumed) {
    report = o.resumed;
    choice = baselineFrom(report.baseline);
  } else {
    const started = o.now();
    // Every table and column the watch reads, queried once over an empty window: a database
    // behind this release's migrations is said first (exit 2), before the API is asked anything.
    await windowFigures(o.db, { from: started, to: started });
    const first = await o.readHealth();
    // Not reaching the API at all is not a verdict on the release (a wrong URL, this machine's
    // network): nothing is watched, and --on-fail toggle never switches a router off for it.
    if (first.httpStatus === null) throw new OperationError(`The API at ${o.apiBase} did not answer /health (${first.problem ?? 'no answer'}); nothing was watched or changed.`, 'Check the URL (--base-url, PUBLIC_API_BASE) and that this machine can reach it, then watch again.');
    // A canary is judged on its release's rows against the others'; re-deploying the fleet's own
    // release leaves nothing to tell apart, and the whole fleet is watched.
    const canary = o.canary && o.canary.release !== o.canary.fleetRelease ? o.canary : undefined;
    choice = canary ? concurrentBaseline(canary, started, settings.forMs) : await chooseBaseline(o.db, first.version, started, settings.forMs);
    const release = canary?.release ?? first.version;
    report = {
      env: o.env,
      apiBase: o.apiBase,
      ...(release ? { release } : {}),
      ...(canary ? { releaseOnly: true } : {}),
      startedAt: started.toISOString(),
      forMs: settings.forMs,
      intervalMs: settings.intervalMs,
      minRequests: settings.minRequests,
      strict: o.strict,
      limits: settings.limits,
      baseline: choice.baseline,
      windows: [],
      status: 'inconclusive',
      completed: false,
    };
    await o.checkpoint?.(report);
  }
  const start = new Date(report.startedAt);
  const total = windowCount(report);
  for (let index = report.windows.length + 1; index <= total; index += 1) {
    const due = start.getTime() + Math.min(index * report.intervalMs, report.forMs);
    while (o.now().getTime() < due) {
      if (o.signal?.aborted) break;
      await o.sleep(due - o.now().getTime());
    }
    if (o.signal?.aborted) throw new CancelledError(`Watch cancelled after ${report.windows.length} of ${total} windows (verdict so far: ${report.status}).`, 'Run `routergpt watch` again to watch afresh.');
    const to = new Date(Math.min(o.now().getTime(), start.getTime() + report.forMs));
    const health = healthVerdict(await o.readHealth(), report.release);
    const current = await windowFigures(o.db, { from: start, to, ...(report.releaseOnly && report.release ? { release: report.release, funnelByRelease: true } : {}) });
    const baseWindow = choice.windowFor(start, to);
    // The baseline is old traffic: read through the rollups as far as they go (never built here);
    // a concurrent one (a canary's) is the same minutes as the watch, read from the events.
    const concurrent = report.baseline.kind === 'concurrent';
    const baseline = baseWindow ? await windowFigures(o.db, baseWindow, concurrent ? undefined : await readAnalyticsRollupState(o.db)) : undefined;
    if (concurrent && baseline) report.baseline.requests = baseline.routes.reduce((n, r) => n + r.requests, 0);
    const evaluation = evaluateWindow({ current, ...(baseline ? { baseline } : {}), limits: report.limits, minRequests: report.minRequests, ...(report.baseline.scale ? { volumeScale: report.baseline.scale } : {}) });
    const status = windowStatus(evaluation, health, current, baseline, report.minRequests);
    const window: WatchWindow = { index, from: start.toISOString(), to: to.toISOString(), status, health, ...evaluation };
    report.windows.push(window);
    report.status = overallStatus(report.windows);
    if (status === 'fail') {
      report.completed = false;
      report.endedAt = o.now().toISOString();
      await o.checkpoint?.(report);
      o.onWindow?.(window, report);
      report.action = await o.handleFail(report);
      await o.checkpoint?.(report);
      return report;
    }
    await o.checkpoint?.(report);
    o.onWindow?.(window, report);
  }
  report.completed = true;
  report.endedAt = o.now().toISOString();
  await o.checkpoint?.(report);
  return report;
}

/** A fail in any window stands; otherwise the last window decides. */
export function overallStatus(windows: WatchWindow[]): WatchStatus {
  if (windows.some((w) => w.status === 'fail')) return 'fail';
  return windows.at(-1)?.status ?? worstStatus([]);
}
