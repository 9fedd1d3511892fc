import type { RateLimitDecision, RateLimitPolicy } from './types.js';

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
  const fixed = policyStrings(decision.policy);
  const reset = ceilSeconds(decision.resetMs);
  const remaining = String(decision.remaining);
  const resetText = String(reset);
  const headers: Record<string, string> = {
    'x-ratelimit-limit': fixed.limit,
    'x-ratelimit-remaining': remaining,
    'x-ratelimit-reset': resetText,
    'ratelimit-policy': fixed.policy,
    ratelimit: `${fixed.name};r=${remaining};t=${resetText}`,
  };
  if (!decision.allowed) headers['retry-after'] = String(Math.max(1, reset));
  return headers;
}

interface PolicyStrings {
  limit: string;
  policy: string;
  name: string;
}

/** The parts of the headers that depend on the policy alone, built once per policy object (a handful per server; policies are never changed once made). */
const cached = new WeakMap<RateLimitPolicy, PolicyStrings>();

function policyStrings(policy: RateLimitPolicy): PolicyStrings {
  let strings = cached.get(policy);
  if (strings === undefined) {
    const name = sfString(policy.name);
    const windowSeconds = Math.max(1, ceilSeconds(policy.windowMs));
    strings = { limit: String(policy.limit), policy: `${name};q=${policy.limit};w=${windowSeconds}`, name };
    cached.set(policy, strings);
  }
  return strings;
}

/** RFC 8941 sf-string: quote and escape `"` and `\`. Policy names are ours, but be exact anyway. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
