import os from 'node:os';
import type { IO } from '../cli/io.js';
import type { Prompter } from '../cli/prompter.js';
import type { EnvironmentConfig } from '../config/types.js';
import type { Database } from '../db/connect.js';
import { CancelledError, UsageError } from '../errors.js';
import type { RunObserver } from './events.js';
import { executeItems, type ExecutorDeps } from './executor.js';
import { resolveIdentity, type Identity } from './identity.js';
import { titleOf, type RunItem } from './items.js';
import { ensureJournalTable, Journal, newRunId, runsDir, type ItemRecord, type RunKind, type RunRecord } from './journal.js';
import { acquireRunLock, type RunLock } from './lock.js';
import { createNotifier, withNotifier } from './notify.js';
import { buildPlan, type PlanEntry } from './plan.js';

/** What a command supplies to a journaled run: its items and options; the lifecycle does the rest. */
export interface JournaledRunSpec {
  kind: RunKind;
  config: EnvironmentConfig;
  io: IO;
  db: Database;
  items: RunItem[];
  checklist: { name: string; file: string };
  /** The record to continue (`--resume`), found and validated by the command. */
  resume?: RunRecord;
  dryRun: boolean;
  yes: boolean;
  prompter: Prompter | undefined;
  emit: RunObserver;
  /** The plan's first line ("Plan: production checklist on prod (33 items)"). */
  heading: string;
  /** The question of the typed confirmation on protected environments (it may quote the plan: a loss preview). */
  confirm: string | ((plan: PlanEntry[]) => string);
  /** Fields of the record a command sets (a rollback's target and tiers, the release of every run). */
  extra?: Pick<RunRecord, 'target' | 'tiers' | 'interrupts' | 'release' | 'releaseCommit' | 'cadence'>;
  /** What the API is called in plans when it is not running yet. */
  apiLabel?: string;
  now?: () => Date;
  /** Who runs it (identity.ts); without one it is resolved from `as` (`--as`), git, the CI actor or the OS account. */
  identity?: Identity;
  as?: string;
  /** The executor's remaining dependencies (API, checks, outputs a rollback reads). */
  deps: Pick<ExecutorDeps, 'ensureApi' | 'runChecks' | 'baseOutputs' | 'signoff' | 'cwd' | 'approvalTimeoutMs' | 'approvalPollMs'>;
}

export interface JournaledRunResult {
  dryRun: boolean;
  plan: PlanEntry[];
  run?: RunRecord;
}

function newRecord(spec: JournaledRunSpec & { identity: Identity }, now: () => Date): RunRecord {
  return {
    schema: 'routergpt.run/v1',
    id: newRunId(spec.kind, now()),
    kind: spec.kind,
    env: spec.config.name,
    checklist: spec.checklist,
    status: 'running',
    startedAt: now().toISOString(),
    startedBy: spec.identity.id,
    identitySource: spec.identity.source,
    host: os.hostname(),
    pid: process.pid,
    ...spec.extra,
    resumes: [],
    items: spec.items.map((i): ItemRecord => ({ id: i.id, kind: i.kind, phase: i.phase, title: titleOf(i), state: 'pending', attempts: 0, ...(i.kind === 'undo' ? { tier: i.tier, undoes: i.step } : {}) })),
  };
}

/**
 * The one run lifecycle (DESIGN.md "Runbook") for deploy, rollback, maintain and every later
 * journaled command: id and record, journal (file + `routergpt.runs`), plan, confirmation, run
 * lock, execution and every state transition — running → succeeded | failed | cancelled.
 * The lock is taken before the first item that is not break-glass, so a rollback's toggle is
 * never blocked by the deploy it interrupts.
 */
export async function withJournaledRun(spec: JournaledRunSpec): Promise<JournaledRunResult> {
  const { config, io, db } = spec;
  const now = spec.now ?? (() => new Date());
  // Webhooks hear the same events as the renderers; a dry run tells nobody.
  const notifier = createNotifier(spec.dryRun ? [] : config.notify.value, { env: config.name, warn: (line) => io.stderr.write(`${line}\n`) });
  spec = { ...spec, emit: withNotifier(spec.emit, notifier) };
  const identity = spec.identity ?? (await resolveIdentity({ flag: spec.as, env: io.env, cwd: spec.deps.cwd }));
  if (spec.resume) {
    const want = spec.items.map((i) => i.id).join(',');
    const had = spec.resume.items.map((i) => i.id).join(',');
    if (want !== had) throw new UsageError(`Run ${spec.resume.id} was made from a different checklist (its items differ from ${spec.checklist.file}).`, `Resume with the checklist it ran, or start a new ${spec.kind} without --resume.`);
  }
  const record = spec.resume ?? newRecord({ ...spec, identity }, now);
  const journal = new Journal(runsDir(config.stateDir.value, config.name), record, spec.dryRun ? undefined : db.pool, (line) => spec.emit({ type: 'note', line }));
  let lock: RunLock | undefined;
  const guard = async () => {
    lock ??= await acquireRunLock({ pool: db.pool, embedded: db.kind === 'embedded', env: config.name, dir: journal.dir, runId: record.id, by: record.startedBy });
  };
  // Waiting for approval (before any change) lets the lock go: a rollback or the toggle is never blocked by it.
  const pauseLock = async () => {
    const held = lock;
    lock = undefined;
    await held?.release();
  };
  const approvalStore = { dir: journal.dir, db: spec.dryRun ? undefined : db.pool };
  const deps: ExecutorDeps = { ...spec.deps, config, db, io, journal, prompter: spec.prompter, yes: spec.yes, startedBy: identity.id, now, emit: spec.emit, guard, pauseLock, lockLost: () => lock?.lost(), approvalStore };

  const plan = await buildPlan(deps, spec.items, spec.apiLabel);
  spec.emit({ type: 'plan', record, plan, dryRun: spec.dryRun, heading: spec.heading });
  if (spec.dryRun) return { dryRun: true, plan };

  if (config.protected.value && !spec.yes) {
    const { confirmOrThrow } = await import('../cli/confirm.js');
    await confirmOrThrow({ io, yes: false, typed: config.name, message: typeof spec.confirm === 'string' ? spec.confirm : spec.confirm(plan), ...(spec.prompter ? { prompter: spec.prompter } : {}) });
  }
  try {
    // A run that must wait for nobody starts with the lock; a break-glass first item runs before it.
    if (!spec.items[0]?.breakGlass) await guard();
    await ensureJournalTable(db.pool);
    if (spec.resume) {
      record.resumes.push(now().toISOString());
      Object.assign(record, { status: 'running', pid: process.pid, host: os.hostname() });
      delete record.finishedAt;
      delete record.error;
    }
    await journal.save();
    spec.emit({ type: 'run-started', record, journalFile: journal.file });
    try {
      record.status = await executeItems(deps, spec.items);
    } catch (error) {
      record.status = error instanceof CancelledError ? 'cancelled' : 'failed';
      record.error = (error as Error).message;
      throw error;
    } finally {
      record.finishedAt = now().toISOString();
      await journal.save();
      spec.emit({ type: 'run-finished', record });
    }
    return { dryRun: false, plan, run: record };
  } finally {
    await lock?.release();
    await notifier.settle();
  }
}
