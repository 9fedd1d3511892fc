/** One rate-limit policy: at most `limit` admitted requests in any rolling `windowMs`. */
export interface RateLimitPolicy {
  /** Short stable name: used in the IETF headers ("search") and in the Redis key. */
  name: string;
  limit: number;
  windowMs: number;
}

/** The outcome of one request against one policy. */
export interface RateLimitDecision {
  allowed: boolean;
  policy: RateLimitPolicy;
  /** Slots still free in the current rolling window, after this request. */
  remaining: number;
  /** Milliseconds until the oldest admitted request leaves the window (a slot frees); 0 when none is held. */
  resetMs: number;
  /** Which store decided: 'redis', or 'memory' (also when Redis is down and we fell back). */
  store: 'memory' | 'redis';
}

/** A sliding-log store. `nowMs` is the injected clock; undefined lets the store pick (Redis uses its own TIME). */
export interface RateLimitStore {
  hit(key: string, policy: RateLimitPolicy, nowMs: number | undefined): Promise<RateLimitDecision>;
  close(): Promise<void>;
}

export type RedisHealth = 'ok' | 'unreachable' | 'not-configured';

/** What /health reports about rate limiting. */
export interface RateLimitStatus {
  store: 'memory' | 'redis';
  redis: RedisHealth;
  /** When Redis is unreachable: the last error (no credentials) and since when (ISO 8601). */
  lastError?: string;
  since?: string;
}
