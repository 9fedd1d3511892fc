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
 * ARGV: limit, windowMs, nowMs ('' = use Redis TIME), unique member
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
  routergptSlidingLog(key: string, limit: number, windowMs: number, nowMs: string, member: string): Promise<[number, number, number]>;
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
  /** Used while Redis is unreachable: each server keeps limiting on its own. */
  fallback: MemoryStore;
  /** Called (throttled by the caller) when Redis fails or recovers. */
  onStateChange?: (state: 'ok' | 'unreachable', error?: Error) => void;
}

/**
 * Redis sliding log shared by all servers. Fails open: when Redis is down or slow, the request
 * is decided by the in-process fallback log instead (per-server budget) and the state is
 * reported as unreachable until a command succeeds again.
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

  constructor(options: RedisStoreOptions) {
    this.keyPrefix = options.keyPrefix ?? 'routergpt:rl:';
    this.fallback = options.fallback;
    this.onStateChange = options.onStateChange;
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
    this.client.on('ready', () => this.markOk());
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
    if (this.client.status !== 'ready') {
      this.markUnreachable(this.lastError ?? new Error(`Redis connection is ${this.client.status}`));
      return this.fallback.hitSync(key, policy, nowMs);
    }
    try {
      const member = `${this.memberPrefix}-${(this.sequence++).toString(36)}`;
      const [allowed, count, resetMs] = await (this.client as unknown as ScriptedRedis).routergptSlidingLog(
        `${this.keyPrefix}${policy.name}:${key}`,
        policy.limit,
        policy.windowMs,
        nowMs === undefined ? '' : String(Math.floor(nowMs)),
        member,
      );
      this.markOk();
      return { allowed: allowed === 1, policy, remaining: Math.max(0, policy.limit - count), resetMs, store: 'redis' };
    } catch (error) {
      this.markUnreachable(error instanceof Error ? error : new Error(String(error)));
      return this.fallback.hitSync(key, policy, nowMs);
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
