/**
 * The timing both of the server's buffered writers share (writer.ts: events; refusals.ts: counts):
 * an unref'd timer that flushes after `intervalMs`, flushes serialised so batches are written in
 * order and never twice (one queued flush drains everything, so more requests need not queue
 * more), and a backoff while the database fails (×2 per failure up to 30 s) instead of one
 * attempt per request. What is buffered, and how it is written, is the owner's: `drain` writes
 * what is pending and calls `failed()` when a write fails (keeping what it could not write).
 */
export interface Flusher {
  /** Flush after `delayMs` (the interval by default) unless a flush is already scheduled or it is closed. */
  schedule(delayMs?: number): void;
  /** Flush now (after the flush in progress, if any). */
  flush(): Promise<void>;
  /** A write succeeded: the backoff starts again from the interval. */
  succeeded(): void;
  /** A write failed: schedule the retry after the next backoff delay, which is returned. */
  failed(): number;
  /** No flush before this time (ms since the epoch): the retry of a failed write is pending. */
  retryAt(): number;
  /** Stop scheduling; flush what is pending, and then once more if `pending()` still holds something (on shutdown there is no later). */
  close(pending: () => boolean): Promise<void>;
  readonly closed: boolean;
}

const MAX_BACKOFF_MS = 30_000;

export function createFlusher(drain: () => Promise<void>, intervalMs: number): Flusher {
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let queued = false;
  let closed = false;
  let failures = 0;
  let retryAt = 0;

  function cancel() {
    if (timer) clearTimeout(timer);
    timer = undefined;
  }

  function schedule(delayMs = intervalMs) {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, delayMs);
    // The timer must never keep a process alive on its own; close() flushes explicitly.
    timer.unref();
  }

  function flush(): Promise<void> {
    cancel();
    if (queued) return flushing;
    queued = true;
    const run = () => {
      queued = false;
      return drain();
    };
    flushing = flushing.then(run, run);
    return flushing;
  }

  return {
    schedule,
    flush,
    succeeded() {
      failures = 0;
      retryAt = 0;
    },
    failed() {
      failures += 1;
      const delay = Math.min(MAX_BACKOFF_MS, intervalMs * 2 ** failures);
      retryAt = Date.now() + delay;
      if (!closed) {
        cancel();
        schedule(delay);
      }
      return delay;
    },
    retryAt: () => retryAt,
    async close(pending) {
      closed = true;
      await flush();
      if (pending()) await drain();
    },
    get closed() {
      return closed;
    },
  };
}
