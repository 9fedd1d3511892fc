import type { BatchLoopOptions, BatchLoopResult, BatchProgress } from '../../db/retention/batches.js';
import { plural } from '../../lib/plural.js';
import type { StepContext } from '../define-step.js';
import { durationParam, numberParam } from '../db/params.js';

/** The checklist parameters every retention step takes. */
export const RETENTION_PARAMS = ['batch_size', 'lock_timeout', 'max_duration'] as const;

/** Rows per batch: a few thousand keeps each batch transaction well under a second. */
export const DEFAULT_BATCH_SIZE = 5000;
/** A batch waits at most this long for a table lock (a migration's, say), then retries later. */
export const DEFAULT_LOCK_TIMEOUT_MS = 2000;

/** The item's checkpoint as this run continues it: what a resumed run saved, over `base` (the cutoff). */
export function checkpointOf(ctx: StepContext, base: Record<string, unknown>): Record<string, unknown> {
  return { ...base, ...(ctx.resumed ?? {}) };
}

/**
 * The batch loop's options from the step's parameters, resuming from the item's checkpoint
 * (`key`: the part of `saved` this loop owns) and checkpointing all of `saved` after every batch.
 */
export function batchOptions(stepId: string, ctx: StepContext, key: string, saved: Record<string, unknown>): BatchLoopOptions {
  const batchSize = numberParam(stepId, ctx.params, 'batch_size') ?? DEFAULT_BATCH_SIZE;
  const lockTimeoutMs = durationParam(stepId, ctx.params, 'lock_timeout') ?? DEFAULT_LOCK_TIMEOUT_MS;
  const maxDurationMs = durationParam(stepId, ctx.params, 'max_duration');
  const start = saved[key] as BatchProgress | undefined;
  return {
    batchSize,
    lockTimeoutMs,
    ...(maxDurationMs !== undefined ? { maxDurationMs } : {}),
    ...(start ? { start } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onProgress: async (progress) => {
      saved[key] = progress;
      await ctx.checkpoint(saved);
    },
  };
}

/** The cutoff a resumed item was working to (so a resumed run finishes the job it planned), else a new one. */
export function resumedCutoff(ctx: StepContext, fresh: () => Date): Date {
  const saved = ctx.resumed?.cutoff;
  return typeof saved === 'string' ? new Date(saved) : fresh();
}

/** "in 3 batches (longest 120 ms)", and why it stopped early, if it did. */
export function describeLoop(r: BatchLoopResult): string {
  const how = r.batches > 0 ? ` in ${plural(r.batches, 'batch', 'batches')} (longest ${Math.round(r.longestBatchMs)} ms)` : '';
  const stopped = r.stopped === 'max-duration' ? '; stopped at max_duration, the next run continues' : r.stopped === 'signal' ? '; interrupted, resume to continue' : r.stopped === 'locked' ? `; stopped: ${r.lockError ?? 'a lock was not granted'} — the next run continues` : '';
  return `${how}${stopped}`;
}

/** The three retention settings, by the config key each step reads, and what its step does. */
const SETTINGS = {
  analytics_archive_days: ['analyticsArchiveDays', 'archive'],
  analytics_delete_days: ['analyticsDeleteDays', 'delete'],
  chat_anonymise_days: ['chatAnonymiseDays', 'anonymise'],
} as const;

/** Why a retention step has nothing to do (its setting is unset: kept forever), or undefined when it is set. */
export function retentionNotSet(ctx: StepContext, key: keyof typeof SETTINGS): string | undefined {
  const [field, verb] = SETTINGS[key];
  const days = ctx.config.retention[field];
  return days.value === undefined ? `retention.${key} is not set (${days.origin}): nothing to ${verb}` : undefined;
}
