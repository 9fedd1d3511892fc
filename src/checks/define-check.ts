import type { EnvironmentConfig } from '../config/types.js';
import type { Pool } from '../db/pool.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip' | 'error';

/** What a check returns. `error` is never returned by a check: it means the check crashed. */
export interface CheckResult {
  status: Exclude<CheckStatus, 'error'>;
  summary: string;
  /** Lines shown under the summary (offending rows, missing indexes…). */
  details?: string[];
  /** The next action, shown under a failure. */
  hint?: string;
  data?: Record<string, unknown>;
}

/** What a check may need; a need that cannot be met makes the check `skip` with the reason. */
export type CheckNeed = 'db' | 'api' | 'tls' | 'repo' | 'log' | 'privacy-url' | 'openapi-file';

export type CheckStage = 'pre' | 'post';

/** Everything a check can touch, injected (STYLE.md §10). Absent members are unmet needs. */
export interface CheckDeps {
  config: EnvironmentConfig;
  db?: Pool;
  /** Why there is no database, when opening it failed (db.reachable reports it). */
  dbError?: string;
  /** Base URL of the running API (no trailing slash). */
  apiBase?: string;
  /** Why the API is not usable, when the pre-flight /health probe could not connect. */
  apiError?: string;
  /** The repository root, for file-based checks. */
  repoDir?: string;
  /** Path of the OpenAPI document to check. */
  openapiFile?: string;
  /** Extra CA certificates (PEM) to trust for TLS checks — tests use a throwaway CA. */
  tlsCa?: string[];
  /** For fetching pages as a browser would (privacy.policy-published follows redirects); the API checks use api/transport.ts. */
  fetch: typeof fetch;
  /**
   * Signs every API request as synthetic (src/lib/synthetic.ts), so routergpt's own traffic never
   * counts as real: ROUTERGPT_SYNTHETIC_KEY, else the target database's key. Absent: unmarked.
   */
  syntheticKey?: string;
  now: () => Date;
  /** Per-check settings from the checklist or flags (probe locations, budgets…). */
  params?: Record<string, unknown>;
  signal?: AbortSignal;
}

export interface Check {
  /** Stable id `area.kebab-name`; the file name matches; never reused. */
  id: string;
  title: string;
  needs: readonly CheckNeed[];
  /** When the checklist runs it: before the deploy (pre), after (post), or both. */
  stages: readonly CheckStage[];
  /** Extra tags for --only/--skip (the area is always a tag). */
  tags?: readonly string[];
  /** Checks that cost real budget (rate limits) or data (bookings) can be off by default in some envs. */
  defaultOffIn?: readonly string[];
  timeoutMs?: number;
  /**
   * Takes seconds where most take milliseconds (many requests, a whole-schema diff): the runner
   * starts these first, so a run is not left waiting on one started last. Results keep their order.
   */
  slow?: boolean;
  /**
   * Names of the `deps.params` keys this check reads (a check without it takes none). The
   * checklist loader rejects any other key on a check item, so a misspelt parameter is an error
   * before the run rather than a default silently used.
   */
  params?: readonly string[];
  run(deps: CheckDeps): Promise<CheckResult>;
}

/** Identity helper so a check's literal type is inferred and checked (STYLE.md §8). */
export function defineCheck<const C extends Check>(check: C): C {
  return check;
}

export const pass = (summary: string, extra: Partial<CheckResult> = {}): CheckResult => ({ status: 'pass', summary, ...extra });
export const warn = (summary: string, extra: Partial<CheckResult> = {}): CheckResult => ({ status: 'warn', summary, ...extra });
export const fail = (summary: string, extra: Partial<CheckResult> = {}): CheckResult => ({ status: 'fail', summary, ...extra });
export const skip = (summary: string): CheckResult => ({ status: 'skip', summary });
