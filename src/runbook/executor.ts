import { plural } from '../lib/plural.js';
import os from 'node:os';
import path from 'node:path';
import type { Check } from '../checks/define-check.js';
import { findCheck } from '../checks/registry.js';
import type { CheckOutcome } from '../checks/run-checks.js';
import type { IO } from '../cli/io.js';
import type { Prompter } from '../cli/prompter.js';
import { redactSecrets } from '../config/mask.js';
import type { EnvironmentConfig } from '../config/types.js';
import type { Database } from '../db/connect.js';
import { isConnectionLost, connectionLostReason } from '../db/connection-lost.js';
import { CancelledError, DatabaseConnectionLostError, OperationError, UsageError } from '../errors.js';
import type { Step, StepContext, StepResult } from '../steps/define-step.js';
import { findStep } from '../steps/registry.js';
import type { RunEvent } from './events.js';
import type { RunItem, UndoItem } from './items.js';
import { commandOf, resumeCommand, type ItemRecord, type Journal } from './journal.js';
import type { SignoffFile } from './signoff.js';
import { readApprovals, type ApprovalStore } from './approvals.js';
import { parseIdentity } from './identity.js';

export interface ExecutorDeps {
  config: EnvironmentConfig;
  db: Database;
  io: IO;
  journal: Journal;
  /** Who answers questions; undefined when nobody can (no terminal): manual items then need a sign-off file. */
  prompter: Prompter | undefined;
  yes: boolean;
  signoff?: SignoffFile;
  startedBy: string;
  now: () => Date;
  cwd: string;
  /** Every state change, for the renderers (report/): they print; the executor never does. */
  emit: (event: RunEvent) => void;
  /** Resolve the API base, starting the in-process server on local when first needed. */
  ensureApi: () => Promise<string | undefined>;
  /** Outputs visible to steps besides this run's own: a rollback sees its deploy's (backup manifest…). */
  baseOutputs?: Record<string, Record<string, unknown> | undefined>;
  /** Run checks (verify's runner with this run's database and API). */
  runChecks: (checks: Check[], apiBase: string | undefined) => Promise<CheckOutcome[]>;
  /** Called once, before the first item that is not break-glass: takes the run lock. */
  guard?: () => Promise<void>;
  /** Lets the run lock go while the run waits for approvals (nothing has changed yet); `guard` takes it again. */
  pauseLock?: () => Promise<void>;
  /** Why the run lock is no longer held (its session ended), or undefined while it is (or none is taken). */
  lockLost?: () => Error | undefined;
  /** Where `routergpt approve` leaves approvals for a waiting run. */
  approvalStore?: ApprovalStore;
  /** How long to wait in `waiting-approval` (default: the environment's approvals.timeout). */
  approvalTimeoutMs?: number;
  /** How often a waiting run looks for approvals and saves its heartbeat (default 2 s). */
  approvalPollMs?: number;
}

function runsUnlocked(item: RunItem): boolean {
  return item.kind === 'step' && findStep(item.id)?.runsUnlocked === true;
}

function itemNeedsApi(item: RunItem): boolean {
  if (item.kind === 'step') return findStep(item.id)?.needs.includes('api') ?? false;
  if (item.kind === 'check') return item.checks.some((id) => findCheck(id)?.needs.includes('api'));
  return false;
}

/** Outputs of finished steps so far, by step id (what later steps read). */
export function outputsOf(items: ItemRecord[]): Record<string, Record<string, unknown> | undefined> {
  return Object.fromEntries(items.filter((i) => i.kind === 'step' && (i.state === 'done' || i.state === 'warn' || i.state === 'skipped')).map((i) => [i.id, i.outputs]));
}

export function stepContext(deps: ExecutorDeps, item: RunItem & { kind: 'step' | 'undo' }, apiBase: string | undefined): StepContext {
  const { config, db, journal } = deps;
  const record = journal.record.items.find((i) => i.id === item.id);
  return {
    config,
    db,
    runDir: path.join(journal.dir, journal.record.id),
    runId: journal.record.id,
    outputs: { ...deps.baseOutputs, ...outputsOf(journal.record.items) },
    params: item.params,
    ...(journal.record.release ? { release: journal.record.release } : {}),
    apiBase,
    now: deps.now,
    // No abort signal: the first Ctrl-C lets the current item finish (the run stops after it).
    log: (line) => {
      if (record) deps.emit({ type: 'item-progress', item: record, line: redactSecrets(line) });
    },
    runChecks: async (ids) => {
      const checks = ids.map((id) => findCheck(id)).filter((c): c is Check => Boolean(c));
      return deps.runChecks(checks, checks.some((c) => c.needs.includes('api')) ? await deps.ensureApi() : undefined);
    },
    confirm: async (message) => {
      if (deps.yes) return;
      const { confirmOrThrow } = await import('../cli/confirm.js');
      await confirmOrThrow({ io: deps.io, yes: false, typed: config.protected.value ? config.name : undefined, message, ...(deps.prompter ? { prompter: deps.prompter } : {}) });
    },
    checkpoint: async (data) => {
      if (!record) return;
      record.checkpoint = data;
      await journal.save();
    },
    ...(record?.checkpoint ? { resumed: record.checkpoint } : {}),
    ...(item.kind === 'step' && findStep(item.id)?.runsUnlocked && deps.io.signal ? { signal: deps.io.signal } : {}),
    breakGlassToggle: async () => {
      // Lazily: the rollback run is a journaled run, whose lifecycle imports this executor.
      const { toggleRouterOff } = await import('./watch/on-fail.js');
      return toggleRouterOff({
        config,
        io: deps.io,
        cwd: deps.cwd,
        ...(journal.record.kind === 'deploy' ? { deployRunId: journal.record.id } : {}),
        as: deps.startedBy,
        ...(journal.record.release ? { release: journal.record.release } : {}),
        observer: (event) => {
          if (!record) return;
          if (event.type === 'note') deps.emit({ type: 'item-progress', item: record, line: event.line });
          if (event.type === 'run-started') deps.emit({ type: 'item-progress', item: record, line: `rollback run ${event.record.id} (journal: ${event.journalFile})` });
          if (event.type === 'item-finished') deps.emit({ type: 'item-progress', item: record, line: `rollback ${event.item.id}: ${event.item.state}${event.item.summary ? ` — ${event.item.summary}` : ''}` });
        },
      });
    },
  };
}

async function runCheckItem(deps: ExecutorDeps, item: RunItem & { kind: 'check' }, record: ItemRecord): Promise<boolean> {
  const checks = item.checks.map((id) => findCheck(id)!).map((c) => (Object.keys(item.params).length ? { ...c, run: (d: Parameters<Check['run']>[0]) => c.run({ ...d, params: item.params }) } : c));
  const outcomes = await deps.runChecks(checks, itemNeedsApi(item) ? await deps.ensureApi() : undefined);
  const bad = outcomes.filter((o) => o.status === 'fail' || o.status === 'error');
  const count = (status: string) => outcomes.filter((o) => o.status === status).length;
  record.checks = outcomes;
  record.warnings = count('warn');
  record.summary = bad.length
    ? `${bad.length} of ${outcomes.length} failed: ${bad.map((o) => `${o.id} (${o.summary})`).join('; ')}`
    : `${count('pass')} passed${record.warnings ? `, ${plural(record.warnings, 'warning')}` : ''}${count('skip') ? `, ${count('skip')} skipped` : ''}`;
  record.details = outcomes.filter((o) => o.status !== 'pass').map((o) => `${o.status} ${o.id}: ${o.summary}${o.hint && o.status !== 'skip' ? ` → ${o.hint}` : ''}`);
  // A failure under `on_fail: continue` does not stop the run, and is never drawn as a pass.
  if ((bad.length === 0 && record.warnings) || (bad.length > 0 && item.onFail === 'continue')) record.state = 'warn';
  return bad.length === 0 || item.onFail === 'continue';
}

/**
 * The hard gate, derived from what a step declares (never from a list of ids): a step that
 * changes user data, or a destructive undo, runs only after a backup verified in this run —
 * and verified again right before use, since the file may have been damaged since (a resumed
 * run, a full disk).
 */
async function verifyBackupGate(deps: ExecutorDeps, what: string): Promise<void> {
  const backup = deps.journal.record.items.find((i) => i.id === 'db.backup');
  if (!backup || (backup.state !== 'done' && backup.state !== 'warn')) {
    throw new OperationError(`${what} changes user data, and this run has no verified backup (db.backup ${backup ? backup.state : 'is not in the checklist'}).`, 'Put `step: db.backup` before it in the checklist and resume; a verified backup is the hard gate before any change to user data.');
  }
  const manifest = backup.outputs?.manifest;
  const { verifyBackup } = await import('../db/backup/verify.js');
  const verified = typeof manifest === 'string' ? await verifyBackup(manifest) : undefined;
  if (!verified?.ok) {
    throw new OperationError(`The backup taken by this run is no longer usable (${verified?.problem ?? 'no manifest recorded'}); ${what} was not run.`, `Take a new backup: start a new ${commandOf(deps.journal.record.kind)} (\`routergpt ${commandOf(deps.journal.record.kind)} --env ${deps.config.name}\`), or check the file against its manifest (\`routergpt backup --verify FILE\`).`);
  }
}

function applyResult(record: ItemRecord, result: StepResult): void {
  record.summary = result.summary;
  record.details = result.details;
  record.outputs = result.outputs;
  record.state = result.status;
}

async function runStepItem(deps: ExecutorDeps, item: RunItem & { kind: 'step' }, record: ItemRecord): Promise<boolean> {
  const step = findStep(item.id)!;
  if (step.changesData === 'user-data' && !(item.backupWaived && !deps.config.protected.value)) await verifyBackupGate(deps, step.id);
  if (item.backupWaived && !deps.config.protected.value) record.note = `no backup: ${item.backupWaived}`;
  const ctx = stepContext(deps, item, itemNeedsApi(item) ? await deps.ensureApi() : undefined);
  const result = await step.run(ctx);
  applyResult(record, result);
  return verifyStep(step, ctx, result, record);
}

async function verifyStep(step: Step, ctx: StepContext, result: StepResult, record: ItemRecord): Promise<boolean> {
  if (!step.verify || result.status === 'skipped') return true;
  const verdict = await step.verify(ctx, result);
  record.details = [...(record.details ?? []), `verify: ${verdict.status} — ${verdict.summary}`, ...(verdict.details ?? [])];
  if (verdict.status === 'warn' && record.state === 'done') record.state = 'warn';
  if (verdict.status !== 'fail') return true;
  record.summary = `${result.summary}; verification failed: ${verdict.summary}`;
  if (verdict.hint) record.details.push(`→ ${verdict.hint}`);
  return false;
}

async function runUndoItem(deps: ExecutorDeps, item: UndoItem, record: ItemRecord): Promise<boolean> {
  const undo = findStep(item.step)?.undo;
  if (!undo) throw new OperationError(`Step ${item.step} has no undo.`, 'See docs/runbook.md#rollback for the tiers each step can be undone by.');
  if (undo.destructive) await verifyBackupGate(deps, `rollback tier ${item.tier}`);
  const ctx = stepContext(deps, item, undefined);
  applyResult(record, await undo.run(ctx, item.source));
  return true;
}

async function runManualItem(deps: ExecutorDeps, item: RunItem & { kind: 'manual' }, record: ItemRecord): Promise<boolean> {
  const key = item.id.replace(/^manual\./, '');
  if (deps.signoff) {
    const answer = deps.signoff.items[key];
    record.signedBy = answer?.by ?? deps.signoff.signedBy;
    record.signedAt = deps.now().toISOString();
    record.note = answer?.note;
    record.summary = answer?.done ? `confirmed by ${record.signedBy} (sign-off file)` : `NOT confirmed in ${deps.signoff.file}`;
    // "Custom GPT tested on production", answered in a file written before production ran it.
    if (answer?.done && item.after && isPreAnswered(deps, item.after, deps.signoff.readAt)) {
      record.state = 'warn';
      record.summary = `pre-answered: confirmed by ${record.signedBy} in ${deps.signoff.file}, read before ${item.after} ran`;
      record.details = [`${item.title} is about what ${item.after} does; the sign-off file answered it up front. Confirm it after the deploy (answer it at the prompt, or resume with a sign-off file written afterwards).`];
    }
    return Boolean(answer?.done);
  }
  if (!deps.prompter) throw new OperationError(`Manual item "${item.title}" needs an answer and there is no terminal.`, 'Pass --signoff-file FILE (docs/signoff.md).');
  deps.emit({ type: 'prompt', item: record, question: item.title });
  const ok = await deps.prompter.confirm(`${item.title} — done?`, { default: false });
  record.signedBy = deps.startedBy;
  record.signedAt = deps.now().toISOString();
  record.summary = ok ? `confirmed by ${deps.startedBy}` : `not confirmed by ${deps.startedBy}`;
  return ok;
}

/** Whether `after` (a phase or an item) had not finished when the sign-off file was read. */
function isPreAnswered(deps: ExecutorDeps, after: string, readAt: string): boolean {
  const items = deps.journal.record.items.filter((i) => i.id === after || i.phase === after);
  const finished = items.map((i) => i.finishedAt).filter((t): t is string => Boolean(t));
  return items.length === 0 || finished.length < items.length || finished.some((t) => t > readAt);
}

/** The approvers the run's approval items recorded (the sign-off's summary names them; they never come from it). */
function approversOf(deps: ExecutorDeps): string[] {
  return [...new Set(deps.journal.record.items.flatMap((i) => i.approvals ?? []).map((a) => a.by))];
}

/**
 * The final sign-off records the deployer (their identity) and the date. Approvals are not
 * given here: they came before the change, from approval items.
 */
async function runSignoffItem(deps: ExecutorDeps, record: ItemRecord): Promise<boolean> {
  const date = deps.now().toISOString();
  const localRehearsal = !deps.config.protected.value && deps.config.name === 'local';
  const deployedBy = deps.startedBy;
  const identitySource = deps.journal.record.identitySource;
  const base = { deployedBy, ...(identitySource ? { identitySource } : {}), date };
  if (deps.signoff) {
    deps.journal.record.signoff = { ...base, source: 'signoff-file' };
  } else if (localRehearsal && deps.yes) {
    // `routergpt deploy --yes` on the embedded default runs unattended, at a terminal too.
    deps.journal.record.signoff = { ...base, source: 'local' };
  } else if (deps.prompter) {
    deps.emit({ type: 'prompt', item: record, question: 'final sign-off' });
    const ok = await deps.prompter.confirm(`Sign off: deployed by ${deployedBy} on ${date.slice(0, 10)}?`, { default: true });
    if (!ok) throw new OperationError(`The final sign-off was not given by ${deployedBy}.`, `Resume the run when the deployment can be signed off (\`routergpt deploy --env ${deps.config.name} --resume ${deps.journal.record.id}\`).`);
    deps.journal.record.signoff = { ...base, source: 'prompt' };
  } else if (localRehearsal) {
    deps.journal.record.signoff = { ...base, source: 'local' };
  } else {
    throw new OperationError('The final sign-off needs an answer and there is no terminal.', 'Pass --signoff-file FILE (docs/signoff.md).');
  }
  const approvers = approversOf(deps);
  record.signedBy = deployedBy;
  record.signedAt = date;
  record.summary = `deployed by ${deployedBy} on ${date.slice(0, 10)}${approvers.length ? `; approved by ${approvers.join(', ')}` : ''}`;
  return true;
}

/** Who may not approve: the deployer of record and whoever runs this process (a resume by someone else). */
function deployersOf(deps: ExecutorDeps): string[] {
  return [...new Set([deps.journal.record.startedBy, deps.startedBy].map((s) => s.trim().toLowerCase()))];
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * An approval before the change (DESIGN.md "Approval"): `approvals.required` distinct people,
 * none of them the deployer unless `allow_self_approval`. Answered from the sign-off file, at
 * the prompt (each approver types their identity), or by `routergpt approve RUN --as ID` from
 * another process while this run waits in `waiting-approval` — without the run lock, since
 * nothing has changed yet — until the timeout.
 */
async function runApprovalItem(deps: ExecutorDeps, item: RunItem & { kind: 'approval' }, record: ItemRecord): Promise<boolean> {
  const { config, journal } = deps;
  const policy = config.approvals.value;
  const deployers = deployersOf(deps);
  const approvals = (record.approvals ??= []);
  const valid = (by: string) => policy.allowSelfApproval || !deployers.includes(by);
  const add = (by: string, source: 'prompt' | 'signoff-file' | 'approve', at = deps.now().toISOString(), note?: string) => {
    if (!valid(by) || approvals.some((a) => a.by === by)) return false;
    approvals.push({ by, at, source, item: item.id, ...(note ? { note } : {}) });
    return true;
  };
  const have = () => approvals.filter((a) => valid(a.by)).length;
  const finish = (): true => {
    record.summary = `approved by ${approvals.map((a) => `${a.by} (${a.source === 'approve' ? 'routergpt approve' : a.source})`).join(', ')}`;
    return true;
  };
  for (const a of deps.signoff?.approvals ?? []) add(a.by, 'signoff-file', undefined, a.note);
  if (policy.required === 0) {
    record.state = 'skipped';
    record.summary = `no approval required on ${config.name} (approvals.required is 0, ${config.approvals.origin})${approvals.length ? `; recorded: ${approvals.map((a) => a.by).join(', ')}` : ''}`;
    return true;
  }
  const collect = async () => {
    for (const a of deps.approvalStore ? await readApprovals(deps.approvalStore, journal.record.id) : []) if (a.item === item.id) add(a.by, 'approve', a.at);
  };
  await collect();
  if (have() >= policy.required) return finish();

  if (deps.prompter && !deps.signoff) {
    while (have() < policy.required) {
      deps.emit({ type: 'prompt', item: record, question: item.title });
      const answer = await deps.prompter.input(`${item.title} — approver's identity (${have() + 1} of ${policy.required}; not ${deployers.join(' or ')}; empty: wait for \`routergpt approve\`):`, { required: false });
      if (!answer.trim()) break;
      const by = parseIdentity(answer, 'The approver');
      if (!valid(by)) throw new UsageError(`${by} is deploying this run and cannot approve it on ${config.name} (approvals.allow_self_approval is false).`, `Ask another person to answer, or to run \`routergpt approve ${journal.record.id} --as THEIR-ID --env ${config.name}\`, then resume; nothing was changed.`);
      if (!add(by, 'prompt')) throw new UsageError(`${by} has already approved ${item.id}; each approval must be a different person.`, `Ask another person, then resume with \`routergpt deploy --env ${config.name} --resume ${journal.record.id}\`; nothing was changed.`);
      await journal.save();
    }
    if (have() >= policy.required) return finish();
  }
  await waitForApprovals(deps, item, record, policy.required, have, collect);
  return finish();
}

/** `waiting-approval`: journaled, polled, bounded by the timeout; the lock is let go meanwhile and taken again after. */
async function waitForApprovals(deps: ExecutorDeps, item: RunItem, record: ItemRecord, required: number, have: () => number, collect: () => Promise<void>): Promise<void> {
  const { config, journal, io } = deps;
  const timeoutMs = deps.approvalTimeoutMs ?? config.approvals.value.timeoutMs;
  const pollMs = deps.approvalPollMs ?? 2000;
  const until = new Date(deps.now().getTime() + timeoutMs);
  const id = journal.record.id;
  // The lock goes first, so whoever sees waiting-approval also sees the lock free.
  await deps.pauseLock?.();
  journal.record.status = 'waiting-approval';
  journal.record.waitingUntil = until.toISOString();
  record.summary = `waiting for ${plural(required - have(), 'more approval', 'more approvals')} until ${until.toISOString()}`;
  await journal.save();
  deps.emit({ type: 'note', line: `${item.id}: waiting for ${plural(required - have(), 'approval')} by someone other than ${deployersOf(deps).join(' or ')} — ask them to run \`routergpt approve ${id} --as THEIR-ID --env ${config.name}\` (waiting until ${until.toISOString()})` });
  deps.emit({ type: 'waiting-approval', record: journal.record, item: record, missing: required - have(), notBy: deployersOf(deps), until: until.toISOString() });
  try {
    for (;;) {
      await collect();
      if (have() >= required) break;
      if (io.signal?.aborted) throw new CancelledError(`Cancelled while ${id} waited for approval; nothing was changed.`, `Resume with \`routergpt deploy --env ${config.name} --resume ${id}\` (approvals given meanwhile count).`);
      if (deps.now() >= until) {
        throw new OperationError(`${item.id}: ${have()} of ${plural(required, 'approval')} within ${Math.round(timeoutMs / 1000)}s; the run stopped before changing anything.`, `Ask an approver to run \`routergpt approve ${id} --as THEIR-ID --env ${config.name}\`, then \`routergpt deploy --env ${config.name} --resume ${id}\` (approvals given meanwhile count; --approval-timeout sets the wait).`);
      }
      await sleep(Math.max(10, Math.min(pollMs, until.getTime() - deps.now().getTime())), io.signal);
      // The heartbeat other machines read (runs.ts isLive): a waiting run holds no lock.
      await journal.save();
    }
  } finally {
    journal.record.status = 'running';
    delete journal.record.waitingUntil;
  }
  deps.emit({ type: 'note', line: `${item.id}: approved by ${record.approvals?.map((a) => a.by).join(', ')}` });
  // Before the first change the run holds the lock again (exit 4 if another run took it meanwhile).
  await deps.guard?.();
  await journal.save();
}

function runItem(deps: ExecutorDeps, item: RunItem, record: ItemRecord): Promise<boolean> {
  switch (item.kind) {
    case 'check':
      return runCheckItem(deps, item, record);
    case 'step':
      return runStepItem(deps, item, record);
    case 'undo':
      return runUndoItem(deps, item, record);
    case 'manual':
      return runManualItem(deps, item, record);
    case 'approval':
      return runApprovalItem(deps, item, record);
    default:
      return runSignoffItem(deps, record);
  }
}

/**
 * The run lock's session ended (so the lock is gone: another run may start), or the item's own
 * connection did: either way "database connection lost", with the way on — resume, or the
 * rollback plan of what the run did. Never a bug report, and never a crash (db/pool.ts).
 */
function connectionLost(deps: ExecutorDeps, item: RunItem, error: unknown, lockLost: Error | undefined): DatabaseConnectionLostError {
  const { journal, config } = deps;
  const kind = journal.record.kind;
  const resume = resumeCommand(kind, config.name, journal.record.id, journal.record.cadence);
  const rollback = kind === 'deploy' ? ' (or undo what already ran: the rollback plan)' : '';
  const next = kind === 'rollback' ? 'Check the database (`routergpt db ping`), then run the rollback again for the tiers not done.' : `Check the database (\`routergpt db ping --env ${config.name}\`), then resume with \`${resume}\`${rollback}.`;
  if (lockLost && error === lockLost) {
    return new DatabaseConnectionLostError(`database connection lost before ${item.id}: the run lock's session ended (${connectionLostReason(lockLost)}), so the run stopped — another run could have started meanwhile.`, next, { cause: lockLost });
  }
  if (lockLost && !isConnectionLost(error)) {
    return new DatabaseConnectionLostError(`database connection lost during ${item.id}: the run lock's session ended (${connectionLostReason(lockLost)}), and the item failed: ${(error as Error).message ?? String(error)}`, next, { cause: error });
  }
  const message = error instanceof DatabaseConnectionLostError ? error.message : `database connection lost during ${item.id}: ${connectionLostReason(error)}.`;
  return new DatabaseConnectionLostError(message, next, { cause: error });
}

function isCancel(error: unknown): boolean {
  return error instanceof CancelledError || (error instanceof Error && error.name === 'ExitPromptError');
}

/**
 * Run items in order, journaling each state change (file first, then database) so a run killed
 * at any point can `--resume` from the first item not done. Done and skipped items are never
 * repeated; an item that was running when the process died is started again.
 */
export async function executeItems(deps: ExecutorDeps, items: RunItem[]): Promise<'succeeded' | 'failed'> {
  const { journal, io } = deps;
  let guarded = !deps.guard;
  for (const item of items) {
    // Ctrl-C: stop between items, never inside one; the journal shows where to resume.
    if (io.signal?.aborted) {
      const next = journal.record.kind === 'rollback' ? 'Run the rollback again for the tiers not done.' : `Resume with \`${resumeCommand(journal.record.kind, deps.config.name, journal.record.id, journal.record.cadence)}\`.`;
      throw new CancelledError(`Cancelled before ${item.id}; every item before it is journaled.`, next);
    }
    const record = journal.item(item.id);
    if (record.state === 'done' || record.state === 'warn' || record.state === 'skipped') {
      deps.emit({ type: 'item-resumed', item: record });
      continue;
    }
    if (runsUnlocked(item)) {
      // A long step that changes nothing (api.watch) runs after the run has let its lock go
      // (the lifecycle may have taken it before the first item): a rollback can run meanwhile.
      await deps.pauseLock?.();
      guarded = !deps.guard;
    } else if (!guarded && !item.breakGlass) {
      await deps.guard!();
      guarded = true;
    }
    record.state = 'running';
    record.attempts += 1;
    record.startedAt = deps.now().toISOString();
    delete record.finishedAt;
    await journal.save();
    deps.emit({ type: 'item-started', item: record });
    const t0 = performance.now();
    let cancel: unknown;
    try {
      // The run lock went with its session while the item before ran: that item finished and
      // keeps what it did (its outputs are what a rollback undoes), and the run stops here.
      const lostBefore = deps.lockLost?.();
      if (lostBefore) throw lostBefore;
      const ok = await runItem(deps, item, record);
      if (deps.lockLost?.()) record.details = [...(record.details ?? []), `the run lock's session ended while this ran: the run stops after it`];
      if (ok && record.state === 'running') record.state = 'done';
      if (!ok) record.state = 'failed';
    } catch (thrown) {
      const lockLost = deps.lockLost?.();
      const error = !io.forceSignal?.aborted && !isCancel(thrown) && (lockLost || isConnectionLost(thrown)) ? connectionLost(deps, item, thrown, lockLost) : thrown;
      if (error instanceof DatabaseConnectionLostError) journal.record.error = error.message;
      record.state = 'failed';
      if (error instanceof Error) record.errorKind = error.name;
      record.summary = error instanceof Error ? error.message : String(error);
      const hint = (error as { hint?: string }).hint;
      if (io.forceSignal?.aborted && !isCancel(error)) {
        // A second Ctrl-C stopped this item's child process: that is why it failed, not what the
        // item says (an exit by signal). Failed, so it runs again; the run itself is cancelled.
        const rollback = journal.record.kind === 'rollback';
        const next = rollback ? 'Run the rollback again for the tiers not done.' : `Resume with \`${resumeCommand(journal.record.kind, deps.config.name, journal.record.id, journal.record.cadence)}\`.`;
        const stopped = new CancelledError(`Cancelled during ${item.id}: its child process was stopped; the item will run again ${rollback ? 'with the rollback' : 'on --resume'}.`, next);
        record.errorKind = stopped.name;
        record.details = [...(record.details ?? []), `stopped: ${record.summary}`];
        record.summary = stopped.message;
        cancel = stopped;
      } else {
        if (hint) record.details = [...(record.details ?? []), `→ ${hint}`];
        if (isCancel(error)) cancel = error instanceof CancelledError ? error : new CancelledError('Cancelled at a prompt.');
      }
    }
    record.finishedAt = deps.now().toISOString();
    record.durationMs = Math.round(performance.now() - t0);
    // Nothing an item reports may carry a secret into the journal or the report.
    if (record.summary) record.summary = redactSecrets(record.summary);
    if (record.details) record.details = record.details.map((d) => redactSecrets(d));
    await journal.save();
    deps.emit({ type: 'item-finished', item: record });
    if (cancel) throw cancel;
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
