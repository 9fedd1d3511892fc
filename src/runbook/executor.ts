import os from 'node:os';
import path from 'node:path';
import type { Check } from '../checks/define-check.js';
import { findCheck } from '../checks/registry.js';
import type { CheckOutcome } from '../checks/run-checks.js';
import { CancelledError, OperationError } from '../errors.js';
import type { IO } from '../cli/io.js';
import { redactSecrets } from '../config/mask.js';
import type { EnvironmentConfig } from '../config/types.js';
import type { Database } from '../db/connect.js';
import type { StepContext } from '../steps/define-step.js';
import { findStep } from '../steps/registry.js';
import type { ChecklistItem } from './checklist.js';
import type { ItemRecord, Journal } from './journal.js';
import type { SignoffFile } from './signoff.js';

/** Steps that change data: they run only after a verified backup in the same run (the hard gate). */
export const NEEDS_VERIFIED_BACKUP = new Set(['db.migrate', 'db.purge-test-data', 'db.geocode-shops']);

export interface ExecutorDeps {
  config: EnvironmentConfig;
  db: Database;
  io: IO;
  journal: Journal;
  /** Prompts allowed (a terminal, not --yes for manual items). */
  interactive: boolean;
  yes: boolean;
  signoff?: SignoffFile;
  startedBy: string;
  now: () => Date;
  cwd: string;
  /** Resolve the API base, starting the in-process server on local when first needed. */
  ensureApi: () => Promise<string | undefined>;
  /** Outputs visible to steps besides this run's own: a rollback sees its deploy's (backup manifest…). */
  baseOutputs?: Record<string, Record<string, unknown> | undefined>;
  /** Run checks (verify's runner with this run's database and API). */
  runChecks: (checks: Check[], apiBase: string | undefined) => Promise<CheckOutcome[]>;
}

export interface ItemEvent {
  type: 'start' | 'finish';
  item: ItemRecord;
}

function itemNeedsApi(item: ChecklistItem): boolean {
  if (item.kind === 'step') return item.id.startsWith('api.');
  if (item.kind === 'check') return item.checks.some((id) => findCheck(id)?.needs.includes('api'));
  return false;
}

function log(io: IO, line: string): void {
  io.stderr.write(`${line}\n`);
}

/** Outputs of done steps so far, by step id (what later steps and rollbacks read). */
export function outputsOf(items: ItemRecord[]): Record<string, Record<string, unknown> | undefined> {
  return Object.fromEntries(items.filter((i) => i.kind === 'step' && (i.state === 'done' || i.state === 'skipped')).map((i) => [i.id, i.outputs]));
}

export function stepContext(deps: ExecutorDeps, item: ChecklistItem & { kind: 'step' }, apiBase: string | undefined): StepContext {
  const { config, db, journal } = deps;
  return {
    config,
    db,
    runDir: path.join(journal.dir, journal.record.id),
    runId: journal.record.id,
    outputs: { ...deps.baseOutputs, ...outputsOf(journal.record.items) },
    params: item.params,
    apiBase,
    now: deps.now,
    log: (line) => log(deps.io, `    ${redactSecrets(line)}`),
    runChecks: async (ids) => {
      const checks = ids.map((id) => findCheck(id)).filter((c): c is Check => Boolean(c));
      return deps.runChecks(checks, checks.some((c) => c.needs.includes('api')) ? await deps.ensureApi() : undefined);
    },
    confirm: async (message) => {
      if (deps.yes) return;
      const { confirmOrThrow } = await import('../cli/confirm.js');
      await confirmOrThrow({ io: deps.io, yes: false, typed: config.protected.value ? config.name : undefined, message });
    },
  };
}

async function runCheckItem(deps: ExecutorDeps, item: ChecklistItem & { kind: 'check' }, record: ItemRecord): Promise<boolean> {
  const checks = item.checks.map((id) => findCheck(id)!).map((c) => (Object.keys(item.params).length ? { ...c, run: (d: Parameters<Check['run']>[0]) => c.run({ ...d, params: item.params }) } : c));
  const outcomes = await deps.runChecks(checks, itemNeedsApi(item) ? await deps.ensureApi() : undefined);
  const bad = outcomes.filter((o) => o.status === 'fail' || o.status === 'error');
  record.checks = outcomes;
  record.warnings = outcomes.filter((o) => o.status === 'warn').length;
  record.summary = bad.length
    ? `${bad.length} of ${outcomes.length} failed: ${bad.map((o) => `${o.id} (${o.summary})`).join('; ')}`
    : `${outcomes.filter((o) => o.status === 'pass').length} passed${record.warnings ? `, ${record.warnings} warning(s)` : ''}${outcomes.some((o) => o.status === 'skip') ? `, ${outcomes.filter((o) => o.status === 'skip').length} skipped` : ''}`;
  record.details = outcomes.filter((o) => o.status !== 'pass').map((o) => `${o.status} ${o.id}: ${o.summary}${o.hint && o.status !== 'skip' ? ` → ${o.hint}` : ''}`);
  return bad.length === 0 || item.onFail === 'continue';
}

async function runStepItem(deps: ExecutorDeps, item: ChecklistItem & { kind: 'step' }, record: ItemRecord): Promise<boolean> {
  const step = findStep(item.id)!;
  if (NEEDS_VERIFIED_BACKUP.has(step.id)) {
    const backup = deps.journal.record.items.find((i) => i.id === 'db.backup');
    if (!backup || backup.state !== 'done') {
      throw new OperationError(`${step.id} changes data, and this run has no verified backup (db.backup ${backup ? backup.state : 'is not in the checklist'}).`, 'Put `step: db.backup` before it in the checklist and resume; backups are the hard gate before any migration.');
    }
    // Verified again right before use: the file may have been damaged since (a resumed run, a full disk).
    const manifest = backup.outputs?.manifest;
    const { verifyBackup } = await import('../db/backup/verify.js');
    const verified = typeof manifest === 'string' ? await verifyBackup(manifest) : undefined;
    if (!verified?.ok) {
      throw new OperationError(`The pre-deploy backup is no longer usable (${verified?.problem ?? 'no manifest recorded'}); ${step.id} was not run.`, 'Take a new backup: delete the run and deploy again, or fix the file from its manifest.');
    }
  }
  const apiBase = itemNeedsApi(item) ? await deps.ensureApi() : undefined;
  const ctx = stepContext(deps, item, apiBase);
  const result = await step.run(ctx);
  record.summary = result.summary;
  record.details = result.details;
  record.outputs = result.outputs;
  record.state = result.status === 'skipped' ? 'skipped' : 'done';
  if (step.verify && result.status === 'done') {
    const verdict = await step.verify(ctx, result);
    record.details = [...(record.details ?? []), `verify: ${verdict.status} — ${verdict.summary}`, ...(verdict.details ?? [])];
    if (verdict.status === 'fail') {
      record.summary = `${result.summary}; verification failed: ${verdict.summary}`;
      if (verdict.hint) record.details.push(`→ ${verdict.hint}`);
      return false;
    }
  }
  return true;
}

async function runManualItem(deps: ExecutorDeps, item: ChecklistItem & { kind: 'manual' }, record: ItemRecord): Promise<boolean> {
  const key = item.id.replace(/^manual\./, '');
  if (deps.signoff) {
    const answer = deps.signoff.items[key];
    record.signedBy = answer?.by ?? deps.signoff.signedBy;
    record.signedAt = deps.now().toISOString();
    record.note = answer?.note;
    record.summary = answer?.done ? `confirmed by ${record.signedBy} (sign-off file)` : `NOT confirmed in ${deps.signoff.file}`;
    return Boolean(answer?.done);
  }
  if (!deps.interactive) throw new OperationError(`Manual item "${item.title}" needs an answer and there is no terminal.`, 'Pass --signoff-file FILE (docs/signoff.md).');
  const { confirm } = await import('@inquirer/prompts');
  const ok = await confirm({ message: `${item.title} — done?`, default: false }, { output: deps.io.stderr });
  record.signedBy = deps.startedBy;
  record.signedAt = deps.now().toISOString();
  record.summary = ok ? `confirmed by ${deps.startedBy}` : `not confirmed by ${deps.startedBy}`;
  return ok;
}

async function runSignoffItem(deps: ExecutorDeps, record: ItemRecord): Promise<boolean> {
  const date = deps.now().toISOString();
  if (deps.signoff?.signoff) {
    deps.journal.record.signoff = { ...deps.signoff.signoff, date, source: 'signoff-file' };
  } else if (deps.interactive) {
    const { input } = await import('@inquirer/prompts');
    const deployedBy = await input({ message: 'Deployed by:', default: deps.startedBy, required: true }, { output: deps.io.stderr });
    const approver = await input({ message: 'Approved by:', required: deps.config.protected.value }, { output: deps.io.stderr });
    deps.journal.record.signoff = { deployedBy: deployedBy.trim(), approver: approver.trim() || null, date, source: 'prompt' };
  } else if (!deps.config.protected.value && deps.config.name === 'local') {
    deps.journal.record.signoff = { deployedBy: deps.startedBy, approver: null, date, source: 'local' };
  } else {
    throw new OperationError('The final sign-off needs an answer and there is no terminal.', 'Pass --signoff-file FILE with signoff.deployed_by and signoff.approver.');
  }
  const s = deps.journal.record.signoff;
  record.signedBy = s.deployedBy;
  record.signedAt = date;
  record.summary = `deployed by ${s.deployedBy}${s.approver ? `, approved by ${s.approver}` : ''} on ${date.slice(0, 10)}`;
  return true;
}

const SYMBOL: Record<string, string> = { done: '✔', skipped: '↷', failed: '✖' };

/**
 * Run items in order, journaling each state change (file first, then database) so a run killed
 * at any point can `--resume` from the first item not done. Done and skipped items are never
 * repeated; an item that was running when the process died is started again.
 */
export async function executeItems(deps: ExecutorDeps, items: ChecklistItem[]): Promise<'succeeded' | 'failed'> {
  const { journal, io } = deps;
  let phase = '';
  for (const item of items) {
    // Ctrl-C: stop between items, never inside one; the journal shows where to resume.
    if (io.signal?.aborted) {
      const next = journal.record.kind === 'rollback' ? 'Run the rollback again for the tiers not done.' : `Resume with \`routergpt ${journal.record.kind === 'maintenance' ? 'maintain' : 'deploy'} --env ${deps.config.name} --resume ${journal.record.id}\`.`;
      throw new CancelledError(`Cancelled before ${item.id}; every item before it is journaled.`, next);
    }
    const record = journal.item(item.id);
    if (record.state === 'done' || record.state === 'skipped') {
      log(io, `  ${SYMBOL[record.state]} ${item.id} — already ${record.state} (resumed)`);
      continue;
    }
    if (item.phase !== phase) {
      phase = item.phase;
      log(io, `\n[${phase}]`);
    }
    record.state = 'running';
    record.attempts += 1;
    record.startedAt = deps.now().toISOString();
    delete record.finishedAt;
    await journal.save();
    log(io, `▶ ${item.id}${item.title ? ` — ${item.title}` : ''}`);
    const t0 = performance.now();
    let ok = false;
    try {
      if (item.kind === 'check') ok = await runCheckItem(deps, item, record);
      else if (item.kind === 'step') ok = await runStepItem(deps, item, record);
      else if (item.kind === 'manual') ok = await runManualItem(deps, item, record);
      else ok = await runSignoffItem(deps, record);
      if (ok && record.state === 'running') record.state = 'done';
      if (!ok) record.state = 'failed';
    } catch (error) {
      record.state = 'failed';
      if (error instanceof Error) record.errorKind = error.name;
      const message = error instanceof Error ? error.message : String(error);
      record.summary = message;
      const hint = (error as { hint?: string }).hint;
      if (hint) record.details = [...(record.details ?? []), `→ ${hint}`];
      if (error instanceof CancelledError || (error instanceof Error && error.name === 'ExitPromptError')) {
        record.finishedAt = deps.now().toISOString();
        record.durationMs = Math.round(performance.now() - t0);
        await journal.save();
        throw error instanceof CancelledError ? error : new CancelledError('Cancelled at a prompt.');
      }
    }
    record.finishedAt = deps.now().toISOString();
    record.durationMs = Math.round(performance.now() - t0);
    // Nothing an item reports may carry a secret into the journal or the report.
    if (record.summary) record.summary = redactSecrets(record.summary);
    if (record.details) record.details = record.details.map((d) => redactSecrets(d));
    await journal.save();
    const secs = (record.durationMs / 1000).toFixed(1);
    log(io, `  ${SYMBOL[record.state] ?? '?'} ${record.state} (${secs} s) ${record.summary ?? ''}`);
    for (const d of (record.state === 'failed' ? record.details : record.details?.filter((x) => /^(warn|fail|error) /.test(x))) ?? []) log(io, `      ${d}`);
    if (record.state === 'failed') return 'failed';
  }
  return 'succeeded';
}

export function defaultOperator(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return `unknown@${os.hostname()}`;
  }
}
