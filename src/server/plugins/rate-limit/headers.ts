import type { RateLimitDecision } from './types.js';

/** Whole seconds, rounded up: a client that waits this long will find the slot free. */
export function ceilSeconds(ms: number): number {
  return Math.ceil(Math.max(0, ms) / 1000);
}

/**
 * The headers every response carries.
 *
 * - `X-RateLimit-Limit/Remaining/Reset` — the de-facto trio; Reset is delta-seconds until the
 *   oldest admission leaves the window (the next slot frees), not an epoch timestamp.
 * - `RateLimit-Policy` / `RateLimit` — draft-ietf-httpapi-ratelimit-headers (-09 and later):
 *   Structured-Field lists of a quoted policy name with `q` (quota), `w` (window, s),
 *   `r` (remaining) and `t` (seconds until the quota is restored).
 * - `Retry-After` — only on 429, integer seconds ≥ 1.
 */
export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  const { policy } = decision;
  const reset = ceilSeconds(decision.resetMs);
  const windowSeconds = Math.max(1, ceilSeconds(policy.windowMs));
  const name = sfString(policy.name);
  const headers: Record<string, string> = {
    'x-ratelimit-limit': String(policy.limit),
    'x-ratelimit-remaining': String(decision.remaining),
    'x-ratelimit-reset': String(reset),
    'ratelimit-policy': `${name};q=${policy.limit};w=${windowSeconds}`,
    ratelimit: `${name};r=${decision.remaining};t=${reset}`,
  };
  if (!decision.allowed) headers['retry-after'] = String(Math.max(1, reset));
  return headers;
}

/** RFC 8941 sf-string: quote and escape `"` and `\`. Policy names are ours, but be exact anyway. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
