import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Redis as RedisClient } from 'ioredis';
import lockfile from 'proper-lockfile';
import { OperationError } from '../errors.js';
import type { Pool } from '../db/pool.js';
import { redactSecrets } from '../config/mask.js';
import { sleep } from './http.js';

/**
 * A slot shared by every process of the application: `run(fn)` starts fn at least `intervalMs`
 * after the previous fn started anywhere sharing the slot — Nominatim's "at most 1 request per
 * second" for the whole application, not per process. Three backends, by what the environment has:
 *
 * - **redis** (the environment's `redis_url_env`): `SET key NX PX` — whoever sets the key owns
 *   the slot, and when its request ends the key is made to expire one interval later; the others
 *   wait for its PTTL. Across machines.
 * - **postgres** (a real server): a session advisory lock held from before the request until one
 *   interval after it ended, so the next holder cannot start earlier. Across machines sharing the
 *   database; no table needed (the lock's hold time stands for the last request's timestamp).
 * - **file** (the embedded database, where advisory locks never exclude: one backend): the same
 *   hold, with a lock file (proper-lockfile) next to the embedded database. One machine.
 *
 * The interval is counted from the END of our request (its answer, or its failure), not from
 * taking the slot: the provider saw the request before we saw its answer, so the next request,
 * sent after the slot is free again, reaches the provider at least one interval later whatever
 * the network and scheduling delays of either process (measured: counting from the start let a
 * busy machine put two requests 972 ms apart). A small margin covers timer granularity.
 */
export interface RequestSlot {
  readonly kind: 'redis' | 'postgres' | 'file';
  /** What people read: "Redis at 127.0.0.1:6379", "advisory lock on the database". */
  readonly description: string;
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  close(): Promise<void>;
}

export interface SlotOptions {
  /** One slot per remote server: the host of the Nominatim URL, say. */
  name: string;
  /** Default 1000 ms. */
  intervalMs?: number;
  /** Added to the interval (default 25 ms). */
  marginMs?: number;
  /** Give up waiting for the slot after this long (default 10 minutes). */
  waitTimeoutMs?: number;
  /** The longest a request may take (its timeout): a slot whose owner died is free after this plus the interval (default 15 s). */
  requestTimeoutMs?: number;
}

const DEFAULTS = { intervalMs: 1000, marginMs: 25, waitTimeoutMs: 10 * 60_000, requestTimeoutMs: 15_000 };

function settings(options: SlotOptions) {
  return { ...DEFAULTS, ...options, holdMs: (options.intervalMs ?? DEFAULTS.intervalMs) + (options.marginMs ?? DEFAULTS.marginMs) };
}

function waitedTooLong(kind: string, name: string, ms: number): OperationError {
  return new OperationError(`Waited ${Math.round(ms / 1000)} s for the ${kind} request slot of ${name} without getting it.`, 'Another routergpt process is geocoding against the same server: wait for it to finish, then run again.');
}

/**
 * Redis: `SET routergpt:slot:<name> <token> NX PX <request timeout + hold>` takes the slot for the
 * request; when it ends, the key's expiry is set to `hold` from then (only if still ours), so the
 * slot frees one interval after the answer. The client is ioredis, as the server's rate limiter.
 */
export function createRedisSlot(redisUrl: string, options: SlotOptions): RequestSlot {
  const s = settings(options);
  const key = `routergpt:slot:${options.name}`;
  const token = `${process.pid}:${randomBytes(6).toString('hex')}`;
  // Required here, not imported: only a Redis-configured geocoding run needs ioredis (issue 16).
  const { Redis } = createRequire(import.meta.url)('ioredis') as { Redis: typeof RedisClient };
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, enableOfflineQueue: true });
  client.on('error', () => {});
  const display = (() => {
    try {
      return new URL(redisUrl).host;
    } catch {
      return 'the configured Redis';
    }
  })();
  return {
    kind: 'redis',
    description: `Redis at ${display}`,
    async run(fn, signal) {
      const deadline = Date.now() + s.waitTimeoutMs;
      for (;;) {
        let won: string | null;
        let pttl: number;
        try {
          won = await client.set(key, token, 'PX', s.requestTimeoutMs + s.holdMs, 'NX');
          pttl = won ? 0 : await client.pttl(key);
        } catch (error) {
          // Fail closed: without the shared slot we cannot keep the provider's limit.
          throw new OperationError(redactSecrets(`Redis at ${display} did not answer (${error instanceof Error ? error.message : String(error)}), so the shared request slot of ${options.name} cannot be kept.`), 'Start Redis or fix the environment\'s redis_url_env, then run again.', { cause: error });
        }
        if (won) {
          try {
            return await fn();
          } finally {
            await client.eval(RELEASE_AFTER_LUA, 1, key, token, String(s.holdMs)).catch(() => {});
          }
        }
        if (Date.now() >= deadline) throw waitedTooLong('Redis', options.name, s.waitTimeoutMs);
        // Poll at least every 25 ms: while the owner's request is in flight the key's PTTL is
        // the long one, shortened to one interval when the request ends. (-1: a key without
        // expiry, written by hand: poll.)
        await sleep(pttl > 0 ? Math.min(pttl, 25) : 25, signal);
      }
    },
    async close() {
      client.disconnect();
    },
  };
}

/** Still ours: expire `hold` ms from now. (Not ours: it expired and someone else took it; leave it.) */
const RELEASE_AFTER_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

/** With the lock held: fn, then `holdMs` more from its end, so the next holder starts an interval after our answer. */
async function holdAround<T>(holdMs: number, fn: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  try {
    return await fn();
  } finally {
    await sleep(holdMs, signal).catch(() => {});
  }
}

/**
 * PostgreSQL: pg_try_advisory_lock(hashtext('routergpt.slot'), hashtext(name)), polled outside
 * any transaction (as every advisory lock of routergpt), held for the interval.
 */
export function createPostgresSlot(pool: Pool, options: SlotOptions): RequestSlot {
  const s = settings(options);
  return {
    kind: 'postgres',
    description: 'advisory lock on the database',
    async run(fn, signal) {
      const client = await pool.connect();
      let locked = false;
      try {
        const deadline = Date.now() + s.waitTimeoutMs;
        for (;;) {
          const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtext('routergpt.slot'), hashtext($1)) AS locked`, [options.name]);
          if (rows[0]?.locked) break;
          if (Date.now() >= deadline) throw waitedTooLong('database', options.name, s.waitTimeoutMs);
          await sleep(10, signal);
        }
        locked = true;
        return await holdAround(s.holdMs, fn, signal);
      } finally {
        if (locked) await client.query(`SELECT pg_advisory_unlock(hashtext('routergpt.slot'), hashtext($1))`, [options.name]).catch(() => {});
        client.release();
      }
    },
    async close() {},
  };
}

/** A lock file `<dir>/<name>.slot` (proper-lockfile: mkdir-based, stale after 10 s if its owner died). */
export function createFileSlot(dir: string, options: SlotOptions): RequestSlot {
  const s = settings(options);
  const file = path.join(dir, `${options.name.replace(/[^A-Za-z0-9._-]/g, '_')}.slot`);
  return {
    kind: 'file',
    description: `lock file ${file}`,
    async run(fn, signal) {
      mkdirSync(dir, { recursive: true });
      if (!existsSync(file)) writeFileSync(file, '', { flag: 'a' });
      const deadline = Date.now() + s.waitTimeoutMs;
      let release: (() => Promise<void>) | undefined;
      while (!release) {
        try {
          release = await lockfile.lock(file, { stale: 10_000, update: 2_000, realpath: false });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
          if (Date.now() >= deadline) throw waitedTooLong('file', options.name, s.waitTimeoutMs);
          await sleep(10, signal);
        }
      }
      try {
        return await holdAround(s.holdMs, fn, signal);
      } finally {
        await release().catch(() => {});
      }
    },
    async close() {},
  };
}
