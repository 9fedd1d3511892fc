import type { RawEnvironment } from './file-schema.js';
import type { Sourced, WatchSettings } from './types.js';

/**
 * `routergpt watch` defaults: 15 minutes in 1-minute intervals (the checklist's 15-minute
 * verification), 20 requests before a route says anything, and the checklist's budgets —
 * search p95 < 500 ms, delegate < 200 ms, chat < 5 s, error rate < 1 % — plus a 429 rate of 5 %.
 */
export const DEFAULT_WATCH: WatchSettings = {
  forMs: 15 * 60_000,
  intervalMs: 60_000,
  minRequests: 20,
  limits: { p95_ms: { search: 500, delegate: 200, chat: 5000 }, error_rate: 0.01, rate_429: 0.05 },
};

const P95_ROUTES = ['search', 'delegate', 'chat', 'feedback'] as const;

/**
 * `watch:` of the environment over DEFAULT_WATCH, key by key. `duration` parses a duration key
 * (recording its problem); `problems` collects the rest, so every problem is reported at once.
 */
export function resolveWatch(raw: RawEnvironment['watch'], fileLabel: (key: string) => string, duration: (value: string | undefined, where: string) => number | undefined, problems: string[]): Sourced<WatchSettings> {
  if (!raw) return { value: DEFAULT_WATCH, source: 'default', origin: "built-in default (for 15m, interval 1m, min_requests 20, the checklist's budgets)" };
  const ms = (value: string | undefined, key: string) => duration(value, fileLabel(`watch.${key}`));
  const d = DEFAULT_WATCH;
  const p95 = { ...d.limits.p95_ms };
  for (const route of P95_ROUTES) {
    const value = ms(raw.limits?.p95?.[route], `limits.p95.${route}`);
    if (value !== undefined) p95[route] = value;
  }
  const value: WatchSettings = {
    forMs: ms(raw.for, 'for') ?? d.forMs,
    intervalMs: ms(raw.interval, 'interval') ?? d.intervalMs,
    minRequests: raw.min_requests ?? d.minRequests,
    limits: {
      p95_ms: p95,
      error_rate: raw.limits?.error_rate_percent !== undefined ? raw.limits.error_rate_percent / 100 : d.limits.error_rate,
      rate_429: raw.limits?.rate_429_percent !== undefined ? raw.limits.rate_429_percent / 100 : d.limits.rate_429,
    },
  };
  if (value.intervalMs === 0 || value.forMs === 0) problems.push(`${fileLabel('watch')}: for and interval must be longer than 0 (e.g. for: 15m, interval: 1m).`);
  else if (value.intervalMs > value.forMs) problems.push(`${fileLabel('watch.interval')} (${raw.interval ?? '1m'}) is longer than watch.for (${raw.for ?? '15m'}): make the interval at most as long as the watch.`);
  const keys = Object.keys(raw).map((k) => `watch.${k}`).join(', ');
  return { value, source: 'file', origin: `${fileLabel('watch')} (${keys || 'empty'}; the rest built-in defaults)` };
}
