/**
 * The retention jobs' loop (docs/maintenance.md#retention): a large change made as many small
 * ones, each batch its own short transaction under a `lock_timeout`, so no lock is held longer
 * than one batch takes (milliseconds to a second) and the API's writes never wait behind it. A
 * batch is all or nothing; progress is handed to `onProgress` (the step checkpoints it) so a run
 * killed between two batches resumes after the last committed one, never repeating or half-doing
 * one.
 */
import { withTransaction, type Pool, type PoolClient } from '../pool.js';

/** What one batch did: how many rows, and the keyset to continue after (the newest created_at it touched). */
export interface BatchOutcome {
  rows: number;
  /** The next batch starts at this created_at (inclusive: ties at the boundary are re-read, and are gone). */
  next?: string;
  /** Other counts of the batch (messages removed with their sessions). */
  extra?: Record<string, number>;
}

export interface BatchProgress {
  rows: number;
  batches: number;
  /** The keyset to continue from. */
  from: string;
  /** The longest batch transaction so far (ms): the longest any lock of this job was held. */
  longestBatchMs: number;
  extra: Record<string, number>;
}

export interface BatchLoopOptions {
  batchSize: number;
  /** SET LOCAL lock_timeout of every batch transaction (ms). */
  lockTimeoutMs: number;
  /** Stop (resumable) after this long; the rest is the next run's. */
  maxDurationMs?: number;
  /** Where a resumed run continues. */
  start?: BatchProgress;
  /** After every committed batch (the step checkpoints here). */
  onProgress?: (progress: BatchProgress) => Promise<void>;
  signal?: AbortSignal;
  now?: () => number;
  /** How many times a batch that waited out its lock_timeout is retried (1 s apart) before the loop stops. */
  lockRetries?: number;
}

export interface BatchLoopResult extends BatchProgress {
  /** Why it stopped before the end: the time limit, Ctrl-C, or a lock it could not get. */
  stopped?: 'max-duration' | 'signal' | 'locked';
  /** The lock wait, when stopped for a lock. */
  lockError?: string;
}

const LOCK_NOT_AVAILABLE = '55P03';

/** Run `batch` until it touches no row (or a stop): each call in its own transaction. */
export async function runBatches(pool: Pool, options: BatchLoopOptions, batch: (client: PoolClient, from: string, limit: number) => Promise<BatchOutcome>): Promise<BatchLoopResult> {
  const now = options.now ?? (() => performance.now());
  const startedAt = now();
  const progress: BatchProgress = options.start ? { ...options.start, extra: { ...options.start.extra } } : { rows: 0, batches: 0, from: '-infinity', longestBatchMs: 0, extra: {} };
  const lockTimeout = `${Math.max(1, Math.round(options.lockTimeoutMs))}ms`;
  let retries = options.lockRetries ?? 3;
  for (;;) {
    if (options.signal?.aborted) return { ...progress, stopped: 'signal' };
    if (options.maxDurationMs !== undefined && now() - startedAt >= options.maxDurationMs) return { ...progress, stopped: 'max-duration' };
    const began = now();
    let outcome: BatchOutcome;
    try {
      outcome = await withTransaction(pool, async (client) => {
        await client.query(`SET LOCAL lock_timeout = '${lockTimeout}'`);
        return batch(client, progress.from, options.batchSize);
      });
    } catch (error) {
      if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw error;
      if (retries-- <= 0) return { ...progress, stopped: 'locked', lockError: (error as Error).message };
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    const took = now() - began;
    if (outcome.rows === 0) return progress;
    progress.rows += outcome.rows;
    progress.batches += 1;
    progress.longestBatchMs = Math.max(progress.longestBatchMs, took);
    if (outcome.next) progress.from = outcome.next;
    for (const [k, v] of Object.entries(outcome.extra ?? {})) progress.extra[k] = (progress.extra[k] ?? 0) + v;
    await options.onProgress?.({ ...progress, extra: { ...progress.extra } });
  }
}
