import type { CheckResult } from '../checks/define-check.js';
import type { CheckOutcome } from '../checks/run-checks.js';
import type { EnvironmentConfig } from '../config/types.js';
import type { Database } from '../db/connect.js';

/**
 * A step changes the world (backup, migrate, geocode, purge, deploy code…). `plan` says what it
 * would do (the --dry-run text) without changing anything; `run` does it and returns outputs
 * that are journaled (and used by `rollback`); `verify` confirms it worked.
 */
export interface StepContext {
  config: EnvironmentConfig;
  db: Database;
  /** The run's directory for files (backups, purge records, logs). */
  runDir: string;
  runId: string;
  /** Outputs of earlier steps in this run, by step id (e.g. the backup's path for restore). */
  outputs: Record<string, Record<string, unknown> | undefined>;
  /** Per-step parameters from the checklist. */
  params: Record<string, unknown>;
  /** Confirm a destructive action (typed in prod); throws CancelledError on "no". */
  confirm: (message: string) => Promise<void>;
  /** Progress lines (stderr; never secrets). */
  log: (line: string) => void;
  now: () => Date;
  signal?: AbortSignal;
  /** The release this run ships (`--release` > ROUTERGPT_RELEASE > git describe), when it has one. */
  release?: string;
  /** The API under deployment (PUBLIC_API_BASE, or the in-process server on local). */
  apiBase?: string;
  /** Run checks by id with this run's dependencies. */
  runChecks?: (ids: string[]) => Promise<CheckOutcome[]>;
  /**
   * Persist progress inside the item (journaled at once); a resumed run reads it back from
   * `resumed`, so a long step (a batch geocode) continues where the killed one stopped.
   */
  checkpoint: (data: Record<string, unknown>) => Promise<void>;
  /** The last checkpoint of this item, when the run was resumed after it was saved. */
  resumed?: Record<string, unknown>;
  /**
   * The break-glass toggle (router off at runtime) as a journaled rollback run linked from this
   * run — the one `routergpt rollback --tier toggle --run THIS-RUN` makes; no prompt.
   */
  breakGlassToggle?: () => Promise<{ rollbackRunId?: string; status: string; deployRunId?: string }>;
}

export interface StepResult {
  /** `warn`: it did its job, with something a person should look at (reported, not a failure). */
  status: 'done' | 'warn' | 'skipped';
  summary: string;
  details?: string[];
  /** JSON-serialisable; recorded in the journal. */
  outputs?: Record<string, unknown>;
}

/**
 * What a step changes, which decides the backup gate: `user-data` (rows people made or rely on:
 * migrations, purges, geocoding, restores) runs only after a verified backup in the same run;
 * `derived` (caches, flags, rollups that can be rebuilt) and `false` (files, code, nothing) do not.
 */
export type DataChange = 'user-data' | 'derived' | false;

/** What a step needs from the run: the database, the API under deployment. */
export type StepNeed = 'db' | 'api';

/** Rollback tiers. `toggle` is the break-glass router switch; the others undo a deploy's steps. */
export const ROLLBACK_TIERS = ['toggle', 'code', 'purge', 'geocode', 'migrations', 'restore'] as const;
export type RollbackTier = (typeof ROLLBACK_TIERS)[number];

/** How the journaled item of a deploy ended, as its undo sees it. */
export interface UndoSource {
  /** The deploy run the item belongs to. */
  runId: string;
  state: string;
  outputs: Record<string, unknown>;
  /** The item's last checkpoint (a rolling code.deploy's host states, when it did not finish). */
  checkpoint?: Record<string, unknown>;
}

/**
 * How a step is undone (STYLE.md §16): `rollback` walks the chosen deploy run's items in
 * reverse and calls the undo of each one that `applies` (by default: the step is done).
 */
export interface StepUndo {
  tier: Exclude<RollbackTier, 'toggle'>;
  title: string;
  /** Whether this journaled item left anything to undo. */
  applies?(source: UndoSource): boolean;
  /** Replaces or drops data written since: preview the loss and take a safety backup first. */
  destructive?: boolean;
  plan(ctx: StepContext, source: UndoSource): Promise<string[]>;
  run(ctx: StepContext, source: UndoSource): Promise<StepResult>;
}

export interface Step {
  id: string;
  title: string;
  /** The parameter names a checklist may give it; anything else is a checklist error (a typo). */
  params?: readonly string[];
  changesData: DataChange;
  needs: readonly StepNeed[];
  plan(ctx: StepContext): Promise<string[]>;
  run(ctx: StepContext): Promise<StepResult>;
  verify?(ctx: StepContext, result: StepResult): Promise<CheckResult>;
  undo?: StepUndo;
  /**
   * Runs without the run lock (the executor lets it go first, and takes it again for a later
   * item that needs it): for a long step that changes nothing — api.watch — during which a
   * rollback of any tier must be able to run. Such a step also gets Ctrl-C as `ctx.signal`: it
   * stops early, and resumes from its checkpoint.
   */
  runsUnlocked?: boolean;
}

/** Whether a journaled item of this step left something for its undo (done, unless the undo says more). */
export function undoApplies(step: Step, source: UndoSource): boolean {
  if (!step.undo) return false;
  return step.undo.applies ? step.undo.applies(source) : source.state === 'done' || source.state === 'warn';
}

export function defineStep<const S extends Step>(step: S): S {
  return step;
}
