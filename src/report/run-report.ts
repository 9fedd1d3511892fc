import { plural } from '../lib/plural.js';
import type { CheckStatus } from '../checks/define-check.js';
import { countOutcomes, type CheckOutcome, type Counts } from '../checks/run-checks.js';
import { approversOfRun, type ItemRecord, type ItemState, type RunKind, type RunRecord, type RunStatus, type SignOff } from '../runbook/journal.js';

/** The documented, versioned report of a journaled run (docs/report-schema.md). */
export const RUN_REPORT_SCHEMA = 'routergpt.run-report/v1';

/**
 * An item's outcome as reported. The journal's states, plus `warn`: done, with something a
 * person should look at (a step that warned, a check item with warnings or continued past a
 * failure under `on_fail: continue`). A warning is never reported as plain `done`.
 */
export type RunItemState = ItemState;

/** One symbol per state, for every run renderer; a warning is never a tick. */
export const RUN_SYMBOL: Record<RunItemState, string> = { done: '✔', warn: '⚠', failed: '✖', skipped: '↷', pending: '·', running: '▶' };
export const RUN_ITEM_STATES: readonly RunItemState[] = ['done', 'warn', 'failed', 'skipped', 'pending', 'running'];

export interface RunReportItem {
  id: string;
  kind: ItemRecord['kind'];
  phase: string;
  title: string;
  state: RunItemState;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  summary: string | null;
  details: string[];
  /** Check items only: one outcome per check, as `verify` reports them ([] until the item ran). */
  checks?: CheckOutcome[];
  signedBy?: string;
  signedAt?: string;
  note?: string;
  /** The error class when the item failed by throwing (LockHeldError, CancelledError…). */
  errorKind?: string;
}

export interface RunReport {
  schema: typeof RUN_REPORT_SCHEMA;
  id: string;
  kind: RunKind;
  env: string;
  status: RunStatus;
  checklist: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  startedBy: string;
  host: string;
  /** For a rollback: the deploy run it undoes. */
  target: string | null;
  tiers: string[];
  /** The run ids of earlier attempts this run resumed. */
  resumes: string[];
  error: string | null;
  signoff: SignOff | null;
  /** Who approved the change (approval items; older runs: the sign-off's approver). */
  approvedBy: string[];
  /** Items per reported state; they add up to items.length. */
  counts: Record<RunItemState, number>;
  /** Check outcomes across all check items (the same counts as verify's report). */
  checkCounts: Counts;
  items: RunReportItem[];
}

const msBetween = (from: string | undefined, to: string | undefined) => (from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : null);

/** Whether an item that did its job left something to look at. */
function hasWarning(item: ItemRecord): boolean {
  return (item.warnings ?? 0) > 0 || (item.checks ?? []).some((o) => o.status !== 'pass' && o.status !== 'skip');
}

export function itemState(item: ItemRecord): RunItemState {
  const state: RunItemState = item.state;
  return state === 'done' && hasWarning(item) ? 'warn' : state;
}

function toReportItem(item: ItemRecord): RunReportItem {
  return {
    id: item.id,
    kind: item.kind,
    phase: item.phase,
    title: item.title,
    state: itemState(item),
    attempts: item.attempts,
    startedAt: item.startedAt ?? null,
    finishedAt: item.finishedAt ?? null,
    durationMs: item.durationMs ?? msBetween(item.startedAt, item.finishedAt),
    summary: item.summary ?? null,
    details: item.details ?? [],
    ...(item.kind === 'check' ? { checks: item.checks ?? [] } : {}),
    ...(item.signedBy ? { signedBy: item.signedBy } : {}),
    ...(item.signedAt ? { signedAt: item.signedAt } : {}),
    ...(item.note ? { note: item.note } : {}),
    ...(item.errorKind ? { errorKind: item.errorKind } : {}),
  };
}

/** The report of a run: the journal's record minus step outputs (rollback's business), plus counts. */
export function toRunReport(record: RunRecord): RunReport {
  const items = record.items.map(toReportItem);
  const counts = Object.fromEntries(RUN_ITEM_STATES.map((s) => [s, items.filter((i) => i.state === s).length])) as Record<RunItemState, number>;
  return {
    schema: RUN_REPORT_SCHEMA,
    id: record.id,
    kind: record.kind,
    env: record.env,
    status: record.status,
    checklist: record.checklist.name,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt ?? null,
    durationMs: msBetween(record.startedAt, record.finishedAt),
    startedBy: record.startedBy,
    host: record.host,
    target: record.target ?? null,
    tiers: record.tiers ?? [],
    resumes: record.resumes,
    error: record.error ?? null,
    signoff: record.signoff ?? null,
    approvedBy: approversOfRun(record),
    counts,
    checkCounts: countOutcomes(items.flatMap((i) => i.checks ?? [])),
    items,
  };
}

/**
 * The state in verify's terms, so run reporters reuse verify's JUnit, colours and emoji:
 * pending and running items did not run to an outcome, which JUnit calls skipped.
 */
export const AS_CHECK_STATUS: Record<RunItemState, CheckStatus> = { done: 'pass', warn: 'warn', failed: 'fail', skipped: 'skip', pending: 'skip', running: 'skip' };

/** "5 done, 1 warning, 1 failed, 0 skipped, 3 pending" — the same words in every reporter. */
export function describeCounts(counts: RunReport['counts']): string {
  const base = `${counts.done} done, ${plural(counts.warn, 'warning')}, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.pending} pending`;
  return counts.running ? `${base}, ${counts.running} running` : base;
}

/** "deploy prod: FAILED" */
export const runHeadline = (report: RunReport) => `${report.kind} ${report.env}: ${report.status.toUpperCase()}`;

export const formatSeconds = (ms: number | null) => (ms === null ? '' : `${(ms / 1000).toFixed(1)} s`);
