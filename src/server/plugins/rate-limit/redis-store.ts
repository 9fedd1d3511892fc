import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemoryStore } from './memory-store.js';
import type { RateLimitDecision, RateLimitPolicy, RateLimitStatus, RateLimitStore } from './types.js';

/**
 * The sliding log in one Lua script, so prune + count + admit is atomic across every server
 * sharing the Redis. The clock is Redis's own `TIME` unless the caller passes one (tests with a
 * fake clock): with one clock for all servers, clock skew between servers cannot widen the
 * window. (Redis ≥ 5 replicates script effects, so TIME inside a writing script is allowed.)
 *
 * KEYS[1] the log (a sorted set of admissions scored by ms)
 * ARGV: limit, windowMs, nowMs ('' = use Redis TIME), unique member, then the times of
 *   admissions the calling server made while Redis was skipped (added first, never later than now)
 * Returns {allowed 0|1, count after, resetMs}
 */
const SLIDING_LOG_LUA = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
for i = 5, #ARGV do
  local t = tonumber(ARGV[i])
  if t > now then t = now end
  if t > now - window then redis.call('ZADD', key, t, ARGV[4] .. ':' .. i) end
end
local count = redis.call('ZCARD', key)
local allowed = 0
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  count = count + 1
  allowed = 1
end
local reset = 0
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if oldest[2] ~= nil then
  reset = tonumber(oldest[2]) + window - now
  if reset < 0 then reset = 0 end
end
if count > 0 then redis.call('PEXPIRE', key, window) end
return {allowed, count, reset}
`;

interface ScriptedRedis {
  routergptSlidingLog(key: string, limit: number, windowMs: number, nowMs: string, member: string, ...unsynced: number[]): Promise<[number, number, number]>;
}

export interface RedisStoreOptions {
  /** A `redis://` URL (we own and close the client) or a client someone else owns and closes. */
  redis: string | Redis;
  /** Prefix of every key: `<prefix><policy>:<client>`. Default `routergpt:rl:`. */
  keyPrefix?: string;
  /** Per-command timeout, so a slow or half-open Redis never holds a request (default 200 ms). */
  commandTimeoutMs?: number;
  /** TCP connect timeout (default 1000 ms). */
  connectTimeoutMs?: number;
  /**
   * This server's own admissions, whichever store decided them; decides alone while Redis is
   * unreachable, so the fallback continues the same window.
   */
  fallback: MemoryStore;
  /** After a failed command (timeout, error), Redis is skipped this long, then one request probes it (default 5000 ms). */
  breakerMs?: number;
  /** Called (throttled by the caller) when Redis fails or recovers. */
  onStateChange?: (state: 'ok' | 'unreachable', error?: Error) => void;
}

/**
 * Redis sliding log shared by all servers. Fails open: when Redis is down or slow, the request
 * is decided by the in-process fallback log instead (per-server budget) and the state is
 * reported as unreachable until a command succeeds again.
 *
 * The bound across an outage (at most servers × limit in any window): every admission of this
 * server is also recorded in its in-memory log, and a request is admitted only when that log has
 * room too — so, whatever Redis knows or forgot (restarted empty, partitioned), no server admits
 * more than the limit per window. Admissions made while Redis was skipped are sent to Redis with
 * the next command for the same key, so a recovered Redis learns them and the budget is shared
 * again. A circuit breaker keeps a hung Redis off the request path: after a failed command Redis
 * is skipped for `breakerMs`, then a single request probes it while the others decide locally.
 */
export class RedisStore implements RateLimitStore {
  readonly client: Redis;
  private readonly owned: boolean;
  private readonly keyPrefix: string;
  private readonly fallback: MemoryStore;
  private readonly onStateChange: RedisStoreOptions['onStateChange'];
  private readonly memberPrefix = randomBytes(6).toString('hex');
  private sequence = 0;
  private state: 'ok' | 'unreachable' = 'unreachable';
  private lastError: Error | undefined;
  private since = new Date();
  private closing = false;
  private readonly breakerMs: number;
  /** performance.now() until which Redis is skipped after a failure; 0 = closed (Redis is asked). */
  private openUntil = 0;
  /** A probe of a half-open breaker is in flight: the other requests decide locally meanwhile. */
  private probing = false;

  constructor(options: RedisStoreOptions) {
    this.keyPrefix = options.keyPrefix ?? 'routergpt:rl:';
    this.fallback = options.fallback;
    this.onStateChange = options.onStateChange;
    this.breakerMs = options.breakerMs ?? 5000;
    if (typeof options.redis === 'string') {
      this.owned = true;
      this.client = new Redis(options.redis, {
        // Never queue commands while disconnected, never retry one: a request must not wait on Redis.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: options.connectTimeoutMs ?? 1000,
        commandTimeout: options.commandTimeoutMs ?? 200,
        retryStrategy: (times) => Math.min(times * 250, 2000),
        lazyConnect: false,
      });
    } else {
      this.owned = false;
      this.client = options.redis;
    }
    this.client.defineCommand('routergptSlidingLog', { numberOfKeys: 1, lua: SLIDING_LOG_LUA });
    if (this.client.status === 'ready') this.state = 'ok';
    this.client.on('ready', () => {
      // A fresh connection has answered its ready check: no need to wait out the breaker.
      this.openUntil = 0;
      this.markOk();
    });
    this.client.on('error', (error: Error) => this.markUnreachable(error));
    this.client.on('end', () => this.markUnreachable(new Error('connection closed')));
  }

  /** Resolve once connected, or after `timeoutMs` either way: an unreachable Redis must not stop the server starting. */
  async waitReady(timeoutMs: number): Promise<void> {
    if (this.client.status === 'ready') return this.markOk();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.client.on('ready', done);
    });
  }

  async hit(key: string, policy: RateLimitPolicy, nowMs: number | undefined): Promise<RateLimitDecision> {
    const fallback = this.fallback;
    const local = fallback.reserve(key, policy, nowMs);
    const decision = local.decision;
    let probe = false;
    if (this.client.status !== 'ready') {
      this.markUnreachable(this.lastError ?? new Error(`Redis connection is ${this.client.status}`));
      if (decision.allowed) fallback.markUnsynced(local);
      return decision;
    }
    if (this.openUntil !== 0) {
      if (this.probing || performance.now() < this.openUntil) {
        if (decision.allowed) fallback.markUnsynced(local);
        return decision;
      }
      this.probing = probe = true;
    }
    const unsynced = fallback.takeUnsynced(local);
    if (!decision.allowed && unsynced === undefined) {
      // This server alone has used the budget: Redis (which counts every server) would refuse too.
      // No Redis command is needed, and a recovered, empty Redis cannot hand out more.
      if (probe) this.probing = false;
      decision.store = 'redis';
      return decision;
    }
    try {
      const member = `${this.memberPrefix}-${(this.sequence++).toString(36)}`;
      const redisKey = `${this.keyPrefix}${policy.name}:${key}`;
      const nowArg = nowMs === undefined ? '' : String(Math.floor(nowMs));
      const scripted = this.client as unknown as ScriptedRedis;
      // Refused here but with admissions Redis does not know: tell it (limit 0 admits nothing).
      const limit = decision.allowed ? policy.limit : 0;
      const [allowed, count, resetMs] = unsynced
        ? await scripted.routergptSlidingLog(redisKey, limit, policy.windowMs, nowArg, member, ...unsynced)
        : await scripted.routergptSlidingLog(redisKey, limit, policy.windowMs, nowArg, member);
      this.openUntil = 0;
      if (probe) this.probing = false;
      this.markOk();
      if (!decision.allowed) {
        decision.store = 'redis';
        return decision;
      }
      if (allowed !== 1) {
        fallback.release(local);
        return { allowed: false, policy, remaining: Math.max(0, policy.limit - count), resetMs, store: 'redis' };
      }
      // Admitted by both: the fuller log is the one that says how much is left.
      if (policy.limit - decision.remaining > count) {
        decision.store = 'redis';
        return decision;
      }
      return { allowed: true, policy, remaining: Math.max(0, policy.limit - count), resetMs, store: 'redis' };
    } catch (error) {
      this.openUntil = performance.now() + this.breakerMs;
      if (probe) this.probing = false;
      if (unsynced) fallback.restoreUnsynced(local, unsynced);
      if (decision.allowed) fallback.markUnsynced(local);
      this.markUnreachable(error instanceof Error ? error : new Error(String(error)));
      return decision;
    }
  }

  status(): RateLimitStatus {
    if (this.state === 'ok') return { store: 'redis', redis: 'ok' };
    // A code, not the message: /health is public, and messages carry internal addresses.
    return { store: 'redis', redis: 'unreachable', lastError: (this.lastError as NodeJS.ErrnoException | undefined)?.code ?? (this.lastError ? 'error' : 'not connected yet'), since: this.since.toISOString() };
  }

  private markOk(): void {
    if (this.state === 'ok' || this.closing) return;
    this.state = 'ok';
    this.lastError = undefined;
    this.since = new Date();
    this.onStateChange?.('ok');
  }

  private markUnreachable(error: Error): void {
    if (this.closing) return; // our own quit() ends the connection: not an outage
    this.lastError = error;
    if (this.state === 'unreachable') {
      this.onStateChange?.('unreachable', error);
      return;
    }
    this.state = 'unreachable';
    this.since = new Date();
    this.onStateChange?.('unreachable', error);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (!this.owned) return;
    this.client.removeAllListeners('error');
    this.client.on('error', () => {});
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
        return;
      } catch {
        // fall through to a hard disconnect
      }
    }
    this.client.disconnect();
  }
}
