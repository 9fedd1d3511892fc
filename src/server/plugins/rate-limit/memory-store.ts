import type { RateLimitDecision, RateLimitPolicy, RateLimitStore } from './types.js';

export interface MemoryStoreOptions {
  /** Clock used when `hit` is given no time (default Date.now). */
  now?: () => number;
  /** Upper bound on tracked clients; past it, idle logs are swept, then the oldest-created are dropped. */
  maxKeys?: number;
  /** How often idle logs are swept (default 60 s). The timer does not keep the process alive. */
  sweepIntervalMs?: number;
}

interface Log {
  windowMs: number;
  /** Admission times, ascending. Never longer than the policy's limit. */
  times: number[];
}

/**
 * Sliding log in process memory. A request at time t is admitted when fewer than `limit`
 * admissions lie in (t − window, t]; so no window of that length ever holds more than `limit`
 * admissions — exact, unlike a fixed window, which lets 2× through around a boundary.
 * Rejected requests are not logged, so hammering does not extend the wait.
 *
 * Memory is bounded: each log holds at most `limit` numbers, idle logs are swept periodically,
 * and the number of logs is capped by `maxKeys`.
 */
export class MemoryStore implements RateLimitStore {
  private readonly logs = new Map<string, Log>();
  private readonly now: () => number;
  private readonly maxKeys: number;
  private readonly timer: NodeJS.Timeout;
  /** Keeps time monotonic per store even if the wall clock steps back (NTP), so logs stay sorted. */
  private last = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.timer.unref();
  }

  async hit(key: string, policy: RateLimitPolicy, nowMs: number | undefined): Promise<RateLimitDecision> {
    return this.hitSync(key, policy, nowMs);
  }

  /** `key` is the client; each policy keeps its own log for it (as in Redis: `<policy>:<client>`). */
  hitSync(client: string, policy: RateLimitPolicy, nowMs: number | undefined): RateLimitDecision {
    const t = Math.max(nowMs ?? this.now(), this.last);
    this.last = t;
    const key = `${policy.name}:${client}`;
    let log = this.logs.get(key);
    if (!log) {
      if (this.logs.size >= this.maxKeys) this.makeRoom(t);
      log = { windowMs: policy.windowMs, times: [] };
      this.logs.set(key, log);
    }
    const times = log.times;
    const floor = t - policy.windowMs;
    let expired = 0;
    while (expired < times.length && times[expired]! <= floor) expired++;
    if (expired > 0) times.splice(0, expired);
    const allowed = times.length < policy.limit;
    if (allowed) times.push(t);
    const oldest = times[0];
    return {
      allowed,
      policy,
      remaining: Math.max(0, policy.limit - times.length),
      resetMs: oldest === undefined ? 0 : Math.max(0, oldest + policy.windowMs - t),
      store: 'memory',
    };
  }

  /** Number of clients tracked (for tests and diagnostics). */
  get size(): number {
    return this.logs.size;
  }

  /** Drop logs whose newest admission has left the window. */
  sweep(at: number = Math.max(this.now(), this.last)): void {
    for (const [key, log] of this.logs) {
      const newest = log.times[log.times.length - 1];
      if (newest === undefined || newest <= at - log.windowMs) this.logs.delete(key);
    }
  }

  private makeRoom(t: number): void {
    this.sweep(t);
    // Still full of active clients: drop the oldest-created tenth (Map keeps insertion order), so
    // the O(n) sweep is not paid on every new client. Those clients get a fresh budget — the
    // price of bounded memory under a flood of distinct keys.
    if (this.logs.size < this.maxKeys) return;
    const excess = Math.max(1, Math.floor(this.maxKeys / 10));
    let dropped = 0;
    for (const key of this.logs.keys()) {
      if (dropped++ >= excess) break;
      this.logs.delete(key);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.logs.clear();
  }
}
