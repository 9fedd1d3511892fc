/**
 * Refused router requests (4xx, 429, and the toggle's deliberate 503) as counts, not rows: a
 * flood of refusals must not become a flood of inserts (docs/metrics.md#what-the-server-records).
 *
 * `count()` is synchronous and does no I/O: it adds 1 to an in-memory cell keyed by
 * (minute, route, policy, status, client_hmac, synthetic). A timer (unref'd, like the analytics
 * writer's) adds every cell to router_refusals with ONE multi-row
 * `INSERT … ON CONFLICT DO UPDATE SET count = count + EXCLUDED.count`, so several servers, and
 * several flushes within one minute, add up. `close()` flushes what is left.
 *
 * Memory is bounded whatever arrives: at most `maxCells` cells per client; past that a refusal
 * is added to its (minute, route, policy, status, synthetic) cell with client_hmac
 * OVERFLOW_CLIENT (so the count stays exact, only the client is lost), and past `maxOverflowCells`
 * of those it is dropped and counted in `stats().dropped` (and the log).
 */
import type { Logger } from 'pino';
import type { Queryable } from '../../db/pool.js';
import { LOG_TAGS } from '../logger.js';
import { createFlusher } from './flusher.js';

/** The client_hmac of refusals counted once the per-client cells were full. */
export const OVERFLOW_CLIENT = 'overflow';

export interface Refusal {
  /** The route pattern, e.g. `/router/search-by-location`. */
  route: string;
  /** The rate-limit policy the request was counted under (`search`, `delegate`, `default`, `synthetic`), '' when none. */
  policy: string;
  status: number;
  /** HMAC of the rate-limit client key (src/server/analytics/client-hmac.ts), never the address. */
  clientHmac: string;
  synthetic: boolean;
}

export interface RefusalSettings {
  /** How often the counts are written (default 1 s). */
  flushIntervalMs?: number;
  /** Cells per client kept in memory before refusals fold into the overflow cells (default 10 000). */
  maxCells?: number;
  /** Overflow cells kept before refusals are dropped (default 1 000). */
  maxOverflowCells?: number;
  /** Rows per INSERT (default 500). */
  maxBatch?: number;
  /** Written on every row; '' when unknown (they are part of the key, which cannot hold NULL). */
  release?: string;
  host?: string;
}

export interface RefusalCounter {
  count(refusal: Refusal): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** `cells`: in memory now; `counted`: refusals seen; `written`: refusals written; `dropped`: refusals lost to the bounds. */
  stats(): { cells: number; counted: number; written: number; dropped: number };
}

interface Cell extends Refusal {
  minute: Date;
  count: number;
}

const COLUMNS = 9;

function cellKey(minuteMs: number, r: Refusal): string {
  return `${minuteMs}\u0000${r.route}\u0000${r.policy}\u0000${r.status}\u0000${r.clientHmac}\u0000${r.synthetic ? 1 : 0}`;
}

export function createRefusalCounter(db: Queryable, log: Logger, settings: RefusalSettings = {}, clock: () => Date = () => new Date()): RefusalCounter {
  const flushIntervalMs = settings.flushIntervalMs ?? 1000;
  const maxCells = settings.maxCells ?? 10_000;
  const maxOverflowCells = settings.maxOverflowCells ?? 1000;
  const maxBatch = settings.maxBatch ?? 500;
  const release = settings.release ?? '';
  const host = settings.host ?? '';
  let cells = new Map<string, Cell>();
  let overflowCells = 0;
  let counted = 0;
  let written = 0;
  let dropped = 0;
  let lastDropLog = Number.NEGATIVE_INFINITY;
  const flusher = createFlusher(drain, flushIntervalMs);

  /** Add `n` refusals to their cell; false when the bounds left no room (the caller counts them dropped). */
  function add(minute: Date, refusal: Refusal, n: number): boolean {
    const minuteMs = minute.getTime();
    const key = cellKey(minuteMs, refusal);
    const cell = cells.get(key);
    if (cell) {
      cell.count += n;
      return true;
    }
    const isOverflow = refusal.clientHmac === OVERFLOW_CLIENT;
    if (!isOverflow && cells.size - overflowCells < maxCells) {
      cells.set(key, { ...refusal, minute, count: n });
      return true;
    }
    const folded = { ...refusal, clientHmac: OVERFLOW_CLIENT };
    const overflowKey = isOverflow ? key : cellKey(minuteMs, folded);
    const existing = cells.get(overflowKey);
    if (existing) {
      existing.count += n;
      return true;
    }
    if (overflowCells >= maxOverflowCells) return false;
    cells.set(overflowKey, { ...folded, minute, count: n });
    overflowCells += 1;
    return true;
  }

  function drop(n: number) {
    dropped += n;
    const t = Date.now();
    if (t - lastDropLog >= 30_000) {
      lastDropLog = t;
      log.error({ dropped }, `${LOG_TAGS.analytics} refused-request counts are full; ${dropped} refusal(s) dropped so far`);
    }
  }

  async function writeBatch(batch: Cell[]): Promise<void> {
    const values: unknown[] = [];
    const rows = batch.map((c, i) => {
      values.push(c.minute, c.route, c.policy, c.status, c.clientHmac, c.synthetic, release, host, c.count);
      const p = (k: number) => `$${i * COLUMNS + k}`;
      return `(${p(1)}::timestamptz, ${p(2)}, ${p(3)}, ${p(4)}::smallint, ${p(5)}, ${p(6)}::boolean, ${p(7)}, ${p(8)}, ${p(9)}::int)`;
    });
    await db.query(
      `INSERT INTO router_refusals (minute, route, policy, status, client_hmac, synthetic, release, host, count) VALUES ${rows.join(', ')}
       ON CONFLICT (minute, route, policy, status, client_hmac, synthetic, release, host) DO UPDATE SET count = router_refusals.count + EXCLUDED.count`,
      values,
    );
  }

  async function drain(): Promise<void> {
    if (cells.size === 0) return;
    // Take the whole map: refusals counted while the INSERT runs go to a fresh one.
    const pending = [...cells.values()];
    cells = new Map();
    overflowCells = 0;
    for (let i = 0; i < pending.length; i += maxBatch) {
      const batch = pending.slice(i, i + maxBatch);
      try {
        await writeBatch(batch);
        const n = batch.reduce((sum, c) => sum + c.count, 0);
        written += n;
        flusher.succeeded();
        log.info({ rows: batch.length, refusals: n }, `${LOG_TAGS.analytics} wrote ${n} refused request(s) in ${batch.length} row(s)`);
      } catch (error) {
        // Put back what was not written (merged into the cells counted since), within the bounds.
        let lost = 0;
        for (const c of pending.slice(i)) if (!add(c.minute, c, c.count)) lost += c.count;
        if (lost > 0) drop(lost);
        const delay = flusher.failed();
        log.error({ err: error, cells: cells.size, dropped, retry_in_ms: delay }, `${LOG_TAGS.analytics} failed to write refused-request counts; will retry in ${delay} ms`);
        return;
      }
    }
  }

  return {
    count(refusal) {
      counted += 1;
      const now = clock();
      const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
      if (!add(minute, refusal, 1)) drop(1);
      flusher.schedule();
    },
    flush: () => flusher.flush(),
    async close() {
      await flusher.close(() => cells.size > 0);
      if (cells.size > 0) {
        log.error({ lost: [...cells.values()].reduce((s, c) => s + c.count, 0) }, `${LOG_TAGS.analytics} refused-request counts could not be written before shutdown`);
      }
    },
    stats: () => ({ cells: cells.size, counted, written, dropped }),
  };
}
