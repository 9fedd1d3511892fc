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
  /** The API under deployment (PUBLIC_API_BASE, or the in-process server on local). */
  apiBase?: string;
  /** Run checks by id with this run's dependencies (db.verify-schema, api.smoke). */
  runChecks?: (ids: string[]) => Promise<CheckOutcome[]>;
}

export interface StepResult {
  status: 'done' | 'skipped';
  summary: string;
  details?: string[];
  /** JSON-serialisable; recorded in the journal. */
  outputs?: Record<string, unknown>;
}

export interface Step {
  id: string;
  title: string;
  /** The parameter names a checklist may give it; anything else is a checklist error (a typo). */
  params?: readonly string[];
  plan(ctx: StepContext): Promise<string[]>;
  run(ctx: StepContext): Promise<StepResult>;
  verify?(ctx: StepContext, result: StepResult): Promise<CheckResult>;
  /** Undo the step from its recorded outputs (where that makes sense). */
  rollback?(ctx: StepContext, outputs: Record<string, unknown>): Promise<StepResult>;
}

export function defineStep<const S extends Step>(step: S): S {
  return step;
}
