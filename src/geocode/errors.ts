import { OperationError } from '../errors.js';

/**
 * Why a provider call failed, which decides what the caller does with it:
 * - `stop`: the provider refuses us (key, billing, quota, a malformed request, a ban) — asking
 *   again or asking for the next shop cannot help, so the batch stops (the fallback chain too:
 *   a silent fallback would hide a broken key).
 * - `exhausted`: rate-limited or failing transiently, and still so after the bounded retries —
 *   the next provider of the chain may be asked.
 * - `garbage`: an answer that is not the provider's wire format (a proxy's HTML page, truncated
 *   JSON) — the next provider may be asked.
 */
export type GeocodeFailure = 'stop' | 'exhausted' | 'garbage';

/**
 * A geocoding provider failed. An OperationError (exit 1) whose message names the provider, the
 * provider's status or the HTTP status, and (already redacted) what it said; the hint is the fix.
 */
export class GeocodeProviderError extends OperationError {
  constructor(
    readonly provider: string,
    readonly failure: GeocodeFailure,
    /** The provider's status word (OVER_QUERY_LIMIT) or `HTTP 429`. */
    readonly status: string,
    message: string,
    hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, hint, options);
  }
}

export function isGeocodeProviderError(error: unknown): error is GeocodeProviderError {
  return error instanceof GeocodeProviderError;
}
