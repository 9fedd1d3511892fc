import path from 'node:path';
import type { Check } from '../../checks/define-check.js';
import { CHECKS } from '../../checks/registry.js';
import { ConfigError, UsageError } from '../../errors.js';
import type { IO } from '../../cli/io.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { openDatabase } from '../../db/connect.js';
import { checklistFileFor, itemsFor, loadChecklist, type Checklist, type ChecklistItem } from '../../runbook/checklist.js';
import { defaultOperator, executeItems, stepContext, type ExecutorDeps } from '../../runbook/executor.js';
import { ensureJournalTable, Journal, listRunFiles, newRunId, readRunFile, runsDir, type ItemRecord, type RunRecord } from '../../runbook/journal.js';
import { acquireRunLock } from '../../runbook/lock.js';
import { rollbackPlanFor } from '../../runbook/rollback-plan.js';
import { readSignoffFile, type SignoffFile } from '../../runbook/signoff.js';
import { findStep, STEPS } from '../../steps/registry.js';
import { runVerify } from '../verify/run-verify.js';
import { startLocalApi, type LocalApi } from './local-api.js';

export interface DeployOptions {
  config: EnvironmentConfig;
  /** deploy: the checklist's deploy phases; maintenance: its maintenance phase (`routergpt maintain`). */
  kind?: 'deploy' | 'maintenance';
  io: IO;
  cwd: string;
  checklistFile?: string;
  dryRun: boolean;
  yes: boolean;
  /** true: the latest unfinished run; a string: that run. */
  resume?: string | true;
  signoffFile?: string;
  baseUrl?: string;
  now?: () => Date;
}

export interface PlanEntry {
  id: string;
  kind: ChecklistItem['kind'];
  phase: string;
  title: string;
  lines: string[];
}

export interface DeployResult {
  dryRun: boolean;
  plan: PlanEntry[];
  run?: RunRecord;
  rollbackPlan: string[];
}

export const KNOWN_IDS = { checks: new Set(CHECKS.map((c) => c.id)), steps: new Set(STEPS.map((s) => s.id)), stepParams: new Map(STEPS.map((s) => [s.id, s.params ?? []])) };

export function loadEnvChecklist(config: EnvironmentConfig, cwd: string, override?: string): Checklist {
  return loadChecklist(checklistFileFor(config.name, override, cwd), KNOWN_IDS);
}

function titleOf(item: ChecklistItem): string {
  if (item.title) return item.title;
  if (item.kind === 'step') return findStep(item.id)?.title ?? item.id;
  if (item.kind === 'check') return item.checks.length === 1 ? (CHECKS.find((c) => c.id === item.checks[0])?.title ?? item.id) : `${item.checks.length} checks`;
  return item.id;
}

function findResumable(dir: string, env: string, resume: string | true, kind: 'deploy' | 'maintenance'): RunRecord {
  const record = resume === true ? listRunFiles(dir).find((r) => r.kind === kind && r.status !== 'succeeded') : readRunFile(dir, resume);
  if (!record) {
    throw new UsageError(resume === true ? `There is no unfinished deploy of ${env} to resume.` : `Unknown run id "${resume}" for ${env}.`, `See \`routergpt status --env ${env}\` for run ids.`);
  }
  if (record.kind !== kind) throw new UsageError(`Run ${record.id} is a ${record.kind}, not a ${kind}.`, `See \`routergpt status --env ${env}\`.`);
  if (record.status === 'succeeded') throw new UsageError(`Run ${record.id} already succeeded; there is nothing to resume.`, 'Start a new deploy without --resume.');
  return record;
}

export async function runDeploy(options: DeployOptions): Promise<DeployResult> {
  const { config, io } = options;
  const now = options.now ?? (() => new Date());
  const checklist = loadEnvChecklist(config, options.cwd, options.checklistFile);
  const kind = options.kind ?? 'deploy';
  const items = itemsFor(checklist, kind);
  if (items.length === 0) throw new ConfigError(`The ${checklist.name} checklist has no ${kind} items.`, `Add phases with run: ${kind} to ${checklist.file}.`);
  const manual = items.filter((i) => i.kind === 'manual');
  const hasFinal = items.some((i) => i.kind === 'signoff');
  const interactive = io.stdinIsTTY && io.stderrIsTTY;
  const needsAnswers = manual.length > 0 || (hasFinal && config.name !== 'local');

  // Everything that can refuse does so before anything is touched.
  let signoff: SignoffFile | undefined;
  if (options.signoffFile) signoff = readSignoffFile(path.resolve(options.cwd, options.signoffFile), manual, hasFinal, config.protected.value);
  else if (needsAnswers && !interactive && !options.dryRun) {
    throw new UsageError(`The ${checklist.name} checklist has ${manual.length} manual item(s)${hasFinal ? ' and a final sign-off' : ''}, and there is no terminal to ask on.`, 'Pass --signoff-file FILE (docs/signoff.md); nothing was changed.');
  }
  // Steps confirm destructive actions (the purge, typed in prod): without a terminal that is
  // only possible with --yes, so refuse now rather than half-way through.
  if (!options.yes && !interactive && !options.dryRun) {
    throw new UsageError(`The ${kind} of ${config.name} asks for confirmations, and there is no terminal to ask on.`, `Re-run with --yes to confirm non-interactively${options.resume ? ' (with --resume to continue the same run)' : ''}; nothing was changed.`);
  }
  const dir = runsDir(config.stateDir.value, config.name);
  const resumed = options.resume !== undefined ? findResumable(dir, config.name, options.resume, kind) : undefined;
  if (resumed) {
    const want = items.map((i) => i.id).join(',');
    const had = resumed.items.map((i) => i.id).join(',');
    if (want !== had) throw new ConfigError(`Run ${resumed.id} was made from a different checklist (its items differ from ${checklist.file}).`, 'Resume with the checklist it ran, or start a new deploy.');
  }

  const db = await openDatabase(config, { applicationName: 'routergpt deploy', poolSize: 6 });
  let api: LocalApi | undefined;
  try {
    const runId = resumed?.id ?? newRunId(kind, now());
    const record: RunRecord = resumed ?? {
      schema: 'routergpt.run/v1',
      id: runId,
      kind,
      env: config.name,
      checklist: { name: checklist.name, file: checklist.file },
      status: 'running',
      startedAt: now().toISOString(),
      startedBy: defaultOperator(),
      host: (await import('node:os')).hostname(),
      pid: process.pid,
      resumes: [],
      items: items.map((i): ItemRecord => ({ id: i.id, kind: i.kind, phase: i.phase, title: titleOf(i), state: 'pending', attempts: 0 })),
    };
    const journal = new Journal(dir, record, options.dryRun ? undefined : db.pool, (m) => io.stderr.write(`${m}\n`));
    const inProcessApi = config.name === 'local' && db.kind === 'embedded' && !options.baseUrl;
    let apiBase = options.baseUrl ?? (inProcessApi ? undefined : config.publicApiBase.value);
    const deps: ExecutorDeps = {
      config,
      db,
      io,
      journal,
      interactive,
      yes: options.yes,
      signoff,
      startedBy: signoff?.signedBy ?? record.startedBy,
      now,
      cwd: options.cwd,
      ensureApi: async () => {
        if (apiBase || !inProcessApi) return apiBase;
        api = await startLocalApi(config, db, path.join(dir, runId));
        apiBase = api.url;
        io.stderr.write(`    (started the API in this process at ${apiBase} for the post-deployment checks)\n`);
        return apiBase;
      },
      runChecks: async (checks: Check[], base: string | undefined) =>
        (await runVerify({ config, command: 'verify', checks, stage: 'all', db, baseUrl: base, cwd: options.cwd, concurrency: 4, timeoutMs: 30_000 })).checks,
    };

    const plan = await buildPlan(deps, items, inProcessApi);
    printPlan(io, checklist, config, plan, record, options.dryRun);
    if (options.dryRun) return { dryRun: true, plan, rollbackPlan: [] };

    if (config.protected.value && !options.yes) {
      const { confirmOrThrow } = await import('../../cli/confirm.js');
      await confirmOrThrow({ io, yes: false, typed: config.name, message: `Run the ${checklist.name} checklist against ${config.name} (${db.display})?` });
    }
    const lock = await acquireRunLock({ pool: db.pool, embedded: db.kind === 'embedded', env: config.name, dir, runId, by: record.startedBy });
    try {
      await ensureJournalTable(db.pool);
      if (resumed) {
        record.resumes.push(now().toISOString());
        record.status = 'running';
        record.pid = process.pid;
        delete record.finishedAt;
      }
      await journal.save();
      io.stderr.write(`\nrun ${runId} (journal: ${journal.file})\n`);
      let outcome: 'succeeded' | 'failed' = 'failed';
      try {
        outcome = await executeItems(deps, items);
      } catch (error) {
        record.status = error instanceof Error && error.name === 'CancelledError' ? 'cancelled' : 'failed';
        record.error = (error as Error).message;
        throw error;
      } finally {
        if (record.status === 'running') record.status = outcome;
        record.finishedAt = now().toISOString();
        await journal.save();
      }
      return { dryRun: false, plan, run: record, rollbackPlan: record.status === 'succeeded' ? [] : rollbackPlanFor(record) };
    } finally {
      await lock.release();
    }
  } finally {
    await api?.close().catch(() => {});
    await db.close();
  }
}

async function buildPlan(deps: ExecutorDeps, items: ChecklistItem[], inProcessApi: boolean): Promise<PlanEntry[]> {
  const plan: PlanEntry[] = [];
  for (const item of items) {
    const entry: PlanEntry = { id: item.id, kind: item.kind, phase: item.phase, title: titleOf(item), lines: [] };
    if (item.kind === 'step') {
      const apiBase = inProcessApi ? '(the API started in this process)' : (deps.config.publicApiBase.value ?? undefined);
      try {
        entry.lines = await findStep(item.id)!.plan({ ...stepContext(deps, item, apiBase), outputs: {} });
      } catch (error) {
        entry.lines = [`(cannot plan yet: ${(error as Error).message.split('\n')[0]})`];
      }
    } else if (item.kind === 'check') entry.lines = [`check ${item.checks.join(', ')}${item.onFail === 'continue' ? ' (failures reported, do not stop)' : ' (a failure stops the run)'}`];
    else if (item.kind === 'manual') entry.lines = [deps.signoff ? `answered by ${deps.signoff.file}` : 'asked at the prompt'];
    else entry.lines = [deps.signoff?.signoff ? `from ${deps.signoff.file}` : deps.config.name === 'local' ? 'recorded as the local operator' : 'asked at the prompt: deployed by, approver'];
    plan.push(entry);
  }
  return plan;
}

function printPlan(io: IO, checklist: Checklist, config: EnvironmentConfig, plan: PlanEntry[], record: RunRecord, dryRun: boolean): void {
  const w = (s: string) => io.stderr.write(`${s}\n`);
  w(`${dryRun ? 'Dry run — nothing will be changed.\n' : ''}Plan: ${checklist.name} checklist on ${config.name} (${plan.length} items)`);
  let phase = '';
  for (const entry of plan) {
    if (entry.phase !== phase) {
      phase = entry.phase;
      w(`\n  [${phase}]`);
    }
    const state = record.items.find((i) => i.id === entry.id)?.state;
    const mark = state === 'done' || state === 'skipped' ? `(${state}, will not repeat) ` : '';
    w(`  • ${mark}${entry.id} — ${entry.title}`);
    for (const line of entry.lines) w(`      ${line}`);
  }
  w('');
}
