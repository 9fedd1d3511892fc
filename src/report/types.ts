import { plural } from '../lib/plural.js';
import type { CheckOutcome, Counts } from '../checks/run-checks.js';

/** The documented, versioned result of `verify`/`smoke` (docs/report-schema.md). */
export const REPORT_SCHEMA = 'routergpt.verify/v1';

export interface VerifyReport {
  schema: typeof REPORT_SCHEMA;
  command: 'verify' | 'smoke';
  env: string;
  stage: 'pre' | 'post' | 'all';
  target: { database: string | null; apiBase: string | null };
  startedAt: string;
  durationMs: number;
  status: 'pass' | 'warn' | 'fail';
  counts: Counts;
  checks: CheckOutcome[];
}

/** "30 passed, 1 warning, 0 failed, 0 crashed, 3 skipped" — verify's counts in every reporter. */
export function describeCheckCounts(c: Counts): string {
  return `${c.pass} passed, ${plural(c.warn, 'warning')}, ${c.fail} failed, ${c.error} crashed, ${c.skip} skipped`;
}

export type ReporterName = 'human' | 'json' | 'junit' | 'github' | 'markdown';
export const REPORTERS: readonly ReporterName[] = ['human', 'json', 'junit', 'github', 'markdown'];
