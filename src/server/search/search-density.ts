/**
 * The server's copy of the shop-density grid (src/db/search/density.ts) that sizes each
 * search's first ring. Read in the background on the first search and again when it is older
 * than `refreshMs` (10 minutes): searches never wait for it — until the first read lands they
 * use the rings from 1 mile, as without a grid. A failed read keeps the grid it had (or none),
 * is logged once per failure streak, and is tried again after `retryMs`.
 *
 * Staleness is harmless by construction: the grid only chooses where the rings start, and every
 * ring is exact, so a shop added since the last read is found all the same.
 */
import type { Queryable } from '../../db/pool.js';
import { loadDensityGrid, type DensityGrid } from '../../db/search/density.js';

export interface SearchDensity {
  /** The grid to use now (undefined until the first read lands); starts a read when due. */
  current(): DensityGrid | undefined;
  /** Read the grid now (a read in flight is shared). Resolves when it has landed or failed. */
  refresh(): Promise<void>;
  /** Wait for a read in flight; no read starts afterwards. */
  close(): Promise<void>;
}

export interface SearchDensityOptions {
  db: Queryable;
  /** Read again when the grid is older than this (ms); default 10 minutes. */
  refreshMs?: number;
  /** After a failed read, wait this long before the next (ms); default 30 s. */
  retryMs?: number;
  now?: () => number;
  onError?: (error: unknown) => void;
}

export const DENSITY_REFRESH_MS = 10 * 60_000;

export function createSearchDensity(options: SearchDensityOptions): SearchDensity {
  const { db, refreshMs = DENSITY_REFRESH_MS, retryMs = 30_000, now = Date.now, onError } = options;
  let grid: DensityGrid | undefined;
  let dueAt = 0;
  let inFlight: Promise<void> | undefined;
  let failing = false;
  let closed = false;

  const refresh = (): Promise<void> => {
    if (closed) return Promise.resolve();
    inFlight ??= loadDensityGrid(db)
      .then(
        (loaded) => {
          grid = loaded;
          failing = false;
          dueAt = now() + refreshMs;
        },
        (error: unknown) => {
          if (!failing) onError?.(error);
          failing = true;
          dueAt = now() + retryMs;
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return {
    current() {
      if (inFlight === undefined && !closed && now() >= dueAt) void refresh();
      return grid;
    },
    refresh,
    async close() {
      closed = true;
      await inFlight;
    },
  };
}
