/**
 * A journaled run of one step that is not a checklist — `migrate baseline`, `migrate repair`:
 * the record, the journal (file and `routergpt.runs`) and its states, so `routergpt status`
 * shows who changed the migration history when. The lifecycle of a checklist run is
 * withJournaledRun (run.ts); this is its one-item, lock-free form (the migrator takes its own).
 */
import os from 'node:os';
import { CancelledError } from '../errors.js';
import type { NotifyTarget } from '../config/types.js';
import type { Pool } from '../db/pool.js';
import { defaultOperator } from './executor.js';
import { ensureJournalTable, Journal, newRunId, runsDir, type ItemRecord, type RunKind, type RunRecord } from './journal.js';
import { createNotifier } from './notify.js';

export interface OneStepRunSpec {
  kind: RunKind;
  env: string;
  stateDir: string;
  db: Pool;
  /** The item: `migrate.baseline`, `migrate.repair`, `api.watch`. */
  itemId: string;
  /** The item's phase (default `database`). */
  phase?: string;
  title: string;
  /** The command, for the record's checklist field: `migrate baseline`. */
  command: string;
  /** Who runs it (an identity); the OS account when not given. */
  startedBy?: string;
  now?: () => Date;
  onWarning?: (line: string) => void;
  /** The run's id, when the caller took a lock in its name first (default: a new one). */
  id?: string;
  /** The environment's webhooks (config.notify): told run-started, the item's end and run-finished, as a checklist run tells them. */
  notify?: readonly NotifyTarget[];
}

export interface OneStepOutcome<T> {
  value: T;
  /** `failed`: the item's verdict was a failure (already reported, not an exception): the run is `failed`, its outputs kept. */
  state: 'done' | 'warn' | 'skipped' | 'failed';
  summary: string;
  details?: string[];
  outputs: Record<string, unknown>;
}

/**
 * Runs `work` journaled: `running` first, then succeeded / failed / cancelled with the item's
 * outcome. `checkpoint` journals progress inside the item at once (what `routergpt status` shows
 * of a long one while it runs).
 */
export async function journalOneStep<T extends object>(spec: OneStepRunSpec, work: (runId: string, checkpoint: (data: Record<string, unknown>) => Promise<void>) => Promise<OneStepOutcome<T>>): Promise<T & { runId: string; journalFile: string }> {
  const now = spec.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const item: ItemRecord = { id: spec.itemId, kind: 'step', phase: spec.phase ?? 'database', title: spec.title, state: 'running', attempts: 1, startedAt };
  const record: RunRecord = {
    schema: 'routergpt.run/v1',
    id: spec.id ?? newRunId(spec.kind, now()),
    kind: spec.kind,
    env: spec.env,
    checklist: { name: spec.command, file: `(none: routergpt ${spec.command})` },
    status: 'running',
    startedAt,
    startedBy: spec.startedBy ?? defaultOperator(),
    host: os.hostname(),
    pid: process.pid,
    resumes: [],
    items: [item],
  };
  await ensureJournalTable(spec.db);
  const journal = new Journal(runsDir(spec.stateDir, spec.env), record, spec.db, spec.onWarning);
  await journal.save();
  const notifier = createNotifier(spec.notify ?? [], { env: spec.env, warn: spec.onWarning ?? (() => {}) });
  notifier.observe({ type: 'run-started', record, journalFile: journal.file });
  try {
    const outcome = await work(record.id, async (data) => {
      item.checkpoint = data;
      await journal.save();
    });
    Object.assign(item, { state: outcome.state, summary: outcome.summary, outputs: outcome.outputs, ...(outcome.details ? { details: outcome.details } : {}) });
    record.status = outcome.state === 'failed' ? 'failed' : 'succeeded';
    return { ...outcome.value, runId: record.id, journalFile: journal.file };
  } catch (error) {
    Object.assign(item, { state: 'failed', summary: (error as Error).message.split('\n')[0], errorKind: (error as Error).name });
    record.status = error instanceof CancelledError ? 'cancelled' : 'failed';
    record.error = (error as Error).message;
    throw error;
  } finally {
    const finishedAt = now();
    item.finishedAt = record.finishedAt = finishedAt.toISOString();
    item.durationMs = finishedAt.getTime() - Date.parse(startedAt);
    await journal.save();
    notifier.observe({ type: 'item-finished', item });
    notifier.observe({ type: 'run-finished', record });
    await notifier.settle();
  }
}
