/**
 * The RouterGPT feature toggle: on only when ENABLE_ROUTER_GPT (config) is true AND the
 * `router_gpt` row of feature_flags is enabled. The row is what `routergpt rollback` flips on
 * a live system, so it is re-read at most every `ttlMs` (≤ 1 s): a flip takes effect within
 * about a second on every server, with no restart and one tiny query per second per server.
 */
import type { Queryable } from '../db/pool.js';
import { readRouterFlag, ROUTER_FLAG_KEY } from '../db/router-flag.js';

export { ROUTER_FLAG_KEY };

export interface ToggleState {
  enabled: boolean;
  /** Why it is off, for the 503 body and /health. */
  reason?: string;
}

export interface RouterToggle {
  state(): Promise<ToggleState>;
  /**
   * The state when it is known without a read (the config switch, or a row read within the
   * TTL), else undefined: the request path takes it synchronously, without a promise per request.
   */
  fresh(): ToggleState | undefined;
}

export interface RouterToggleOptions {
  db: Queryable;
  configEnabled: boolean;
  /** Where the config value came from, for the message ("ENABLE_ROUTER_GPT (from the environment)"). */
  configOrigin: string;
  ttlMs?: number;
  now?: () => number;
  onError?: (error: unknown) => void;
}

export function createRouterToggle({ db, configEnabled, configOrigin, ttlMs = 1000, now = Date.now, onError }: RouterToggleOptions): RouterToggle {
  let cached: { at: number; state: ToggleState } | undefined;
  let inflight: Promise<ToggleState> | undefined;

  async function read(): Promise<ToggleState> {
    try {
      const row = await readRouterFlag(db);
      // A missing row means nobody switched it off: the config value decides.
      const state: ToggleState =
        row && !row.enabled
          ? { enabled: false, reason: `RouterGPT is switched off by the '${ROUTER_FLAG_KEY}' feature flag${row.updatedBy ? ` (by ${row.updatedBy})` : ''}.` }
          : { enabled: true };
      cached = { at: now(), state };
      return state;
    } catch (error) {
      onError?.(error);
      // Database trouble is reported by /health and by the route itself; keep the last known
      // state rather than flapping the toggle.
      const state = cached?.state ?? { enabled: true };
      cached = { at: now(), state };
      return state;
    }
  }

  const off: ToggleState = { enabled: false, reason: `RouterGPT is switched off by ENABLE_ROUTER_GPT=false (${configOrigin}).` };
  const fresh = (): ToggleState | undefined => {
    if (!configEnabled) return off;
    return cached && now() - cached.at < ttlMs ? cached.state : undefined;
  };
  return {
    fresh,
    async state() {
      const known = fresh();
      if (known) return known;
      // One query at a time, however many requests arrive when the cache expires.
      inflight ??= read().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
  };
}
