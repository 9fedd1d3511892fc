/**
 * Which window the watch compares with (docs/metrics.md#watch-verdicts): the previous release's
 * first window of the same length (its first real event onwards, its rows only), else the same
 * window one week earlier, else none — said so, and the absolute limits alone apply.
 */
import type { Queryable } from '../../db/pool.js';
import { previousRelease, routeFigures, type WatchQueryWindow } from '../../db/analytics/watch.js';
import type { WatchBaseline } from './types.js';

export const WEEK_MS = 7 * 86_400_000;

export interface BaselineChoice {
  baseline: WatchBaseline;
  /** The baseline window matching the watch's window [start, to]: the same length; undefined for `none`. */
  windowFor(start: Date, to: Date): WatchQueryWindow | undefined;
}

async function requestsIn(db: Queryable, w: WatchQueryWindow): Promise<number> {
  return (await routeFigures(db, w)).reduce((n, r) => n + r.requests, 0);
}

/** From a journaled baseline (a resumed watch keeps the one it chose). */
export function baselineFrom(baseline: WatchBaseline): BaselineChoice {
  const from = baseline.from ? new Date(baseline.from) : undefined;
  return {
    baseline,
    windowFor(start, to) {
      if (baseline.kind === 'none' || !from) return undefined;
      const length = to.getTime() - start.getTime();
      if (baseline.kind === 'concurrent') return { from: start, to, funnelByRelease: true, ...(baseline.release ? { release: baseline.release } : {}), ...(baseline.exceptRelease ? { exceptRelease: baseline.exceptRelease } : {}) };
      if (baseline.kind === 'previous-release') return { from, to: new Date(from.getTime() + length), ...(baseline.release ? { release: baseline.release } : {}) };
      return { from: new Date(start.getTime() - WEEK_MS), to: new Date(to.getTime() - WEEK_MS) };
    },
  };
}

export async function chooseBaseline(db: Queryable, release: string | undefined, start: Date, forMs: number): Promise<BaselineChoice> {
  const iso = (ms: number) => new Date(ms).toISOString();
  let why: string;
  if (release) {
    const previous = await previousRelease(db, release, start);
    if (previous) {
      const from = previous.firstSeen.getTime();
      const requests = await requestsIn(db, { from: previous.firstSeen, to: new Date(from + forMs), release: previous.release });
      return baselineFrom({ kind: 'previous-release', release: previous.release, from: iso(from), to: iso(from + forMs), requests, reason: `release ${previous.release}'s first ${Math.round(forMs / 1000)} s (first seen ${iso(from)}), the release before ${release}` });
    }
    why = `no release before ${release} is recorded in router_analytics`;
  } else {
    why = '/health reported no version, so the previous release is unknown';
  }
  const weekFrom = start.getTime() - WEEK_MS;
  const requests = await requestsIn(db, { from: new Date(weekFrom), to: new Date(weekFrom + forMs) });
  if (requests > 0) return baselineFrom({ kind: 'week-earlier', from: iso(weekFrom), to: iso(weekFrom + forMs), requests, reason: `the same window one week earlier (${why})` });
  return baselineFrom({ kind: 'none', requests: 0, reason: `no baseline: ${why}, and the same window one week earlier had no traffic — the absolute limits alone apply` });
}

/**
 * A canary's baseline: the release the rest of the fleet runs, over the canary's own window —
 * the same traffic, the same minutes, so a change in error rate or latency is the release's. When
 * the fleet's release is unknown (its /health named none), every release but the canary's.
 */
export function concurrentBaseline(canary: { release: string; fleetRelease?: string; canaryHosts: number; fleetHosts: number }, start: Date, forMs: number): BaselineChoice {
  const { release, fleetRelease, canaryHosts, fleetHosts } = canary;
  const scale = fleetHosts > 0 ? canaryHosts / fleetHosts : 1;
  const others = fleetRelease ? `release ${fleetRelease}` : `every release but ${release} (the fleet's /health named none)`;
  return baselineFrom({
    kind: 'concurrent',
    ...(fleetRelease ? { release: fleetRelease } : { exceptRelease: release }),
    from: start.toISOString(),
    to: new Date(start.getTime() + forMs).toISOString(),
    requests: 0,
    ...(scale !== 1 ? { scale } : {}),
    reason: `${others} on the other ${fleetHosts} host(s) over the same window, against ${release} on ${canaryHosts}${scale !== 1 ? `; its volume weighed × ${Math.round(scale * 1000) / 1000} (per host)` : ''}`,
  });
}
