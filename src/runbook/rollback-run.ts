import path from 'node:path';
import type { IO } from '../cli/io.js';
import { apiResolver } from './local-api.js';
import { canPrompt, terminalPrompter, type Prompter } from '../cli/prompter.js';
import type { Check } from '../checks/define-check.js';
import { runVerify } from '../checks/run-verify.js';
import type { EnvironmentConfig } from '../config/types.js';
import { openDatabase } from '../db/connect.js';
import { UsageError } from '../errors.js';
import { runObserver } from '../report/run-live.js';
import type { RunObserver } from './events.js';
import { newRunId, type RunRecord } from './journal.js';
import type { PlanEntry } from './plan.js';
import { chooseBackupToRestore } from '../db/backup/choose.js';
import { chooseTarget, rollbackItems, type Tier } from './rollback.js';
import { withJournaledRun } from './run.js';
import { RunRepository } from './runs.js';
import { outputsOf } from './executor.js';
import { describeRelease, releaseFields, resolveRelease } from './release.js';

export { parseTiers, TIERS, type Tier } from './rollback.js';

export interface RollbackOptions {
  config: EnvironmentConfig;
  io: IO;
  cwd: string;
  tiers: Tier[];
  run?: string;
  dryRun: boolean;
  yes: boolean;
  /** Check health, schema and smoke after the rollback (default true; `--no-verify`). */
  verify?: boolean;
  /** Re-apply the bookings and chat rows written since the backup (`--keep-writes`, tier restore). */
  keepWrites?: boolean;
  /** `--backup FILE`: tier restore restores this backup (the dump or its manifest) instead of the deploy's own. */
  backup?: string;
  /** `--release ID`: recorded in the rollback run (default: ROUTERGPT_RELEASE from io.env, else `git describe` of cwd). */
  release?: string;
  /** `--as ID`: who rolls back (default: git config user.email, else the CI actor, else the OS account). */
  as?: string;
  now?: () => Date;
  prompter?: Prompter;
  observer?: RunObserver;
}

export interface RollbackResult {
  dryRun: boolean;
  target: string | null;
  plan: PlanEntry[];
  run?: RunRecord;
}

function describeTarget(run: RunRecord): string {
  const changed = run.items.filter((i) => i.kind === 'step' && (i.state === 'done' || i.state === 'warn' || i.state === 'failed')).map((i) => `${i.id} ${i.state}`);
  return `deploy ${run.id} (${run.status}, started ${run.startedAt.replace('T', ' ').slice(0, 19)} by ${run.startedBy}${run.release ? `, release ${run.release}` : ''}): ${changed.join(', ') || 'no step ran'}`;
}

/**
 * The deploy whose code ran before the target: the newest one started before it that succeeded
 * and whose code no rollback undid since (its release is what tier code goes back to).
 */
export function lastGoodDeployBefore(runs: RunRecord[], target: RunRecord): RunRecord | undefined {
  const undone = new Set(runs.filter((r) => r.kind === 'rollback' && r.status === 'succeeded' && r.tiers?.includes('code') && r.target).map((r) => r.target));
  return runs
    .filter((r) => r.kind === 'deploy' && r.status === 'succeeded' && r.id !== target.id && r.startedAt < target.startedAt && !undone.has(r.id))
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
}

/** The heading's line for tier code: the release it goes back to, or why none is known. */
function describeCodeTarget(before: RunRecord | undefined): string {
  if (!before) return 'unknown — no deploy that succeeded before the target is recorded (ROUTERGPT_ROLLBACK_RELEASE is not set)';
  if (!before.release) return `unknown — deploy ${before.id}, the last that succeeded before the target, recorded no release (ROUTERGPT_ROLLBACK_RELEASE is not set)`;
  return `${before.release} (deploy ${before.id}, the last that succeeded before the target; ROUTERGPT_ROLLBACK_RELEASE)`;
}

/**
 * `routergpt rollback`: the break-glass toggle first (no run lock, so it works while a deploy
 * holds it), then the undos of the target deploy's steps, read from its journal.
 */
export async function runRollback(options: RollbackOptions): Promise<RollbackResult> {
  const { config, io } = options;
  const now = options.now ?? (() => new Date());
  const prompter = options.prompter ?? (canPrompt(io) ? terminalPrompter(io) : undefined);
  const destructive = options.tiers.some((t) => t !== 'toggle');
  if (!options.dryRun && !options.yes && !prompter && (config.protected.value || destructive)) {
    throw new UsageError(`Rolling back ${config.name} (${options.tiers.join(', ')}) needs confirmation, and there is no terminal to ask on.`, 'Re-run with --yes to confirm non-interactively.');
  }
  const release = await resolveRelease({ flag: options.release, env: io.env, cwd: options.cwd });
  const db = await openDatabase(config, { applicationName: 'routergpt rollback', poolSize: 4 });
  const emit = options.observer ?? (await runObserver(io.stderr, { terminal: io.stderrIsTTY, asks: !options.yes }));
  const runs = new RunRepository(config, db.pool, db.kind === 'embedded');
  const api = apiResolver(config, db, path.join(runs.dir, 'api'), undefined, (line) => emit({ type: 'note', line }), { release: release.id ?? undefined });
  try {
    // --backup is checked before anything runs: missing, another environment's, or not verified → exit 2.
    const chosen = options.backup ? await chooseBackupToRestore(options.backup, { cwd: options.cwd, env: config.name, db }) : undefined;
    const all = await runs.list();
    // With --backup and no other tier that undoes a deploy, no deploy is the target (unless --run names one).
    const needsTarget = Boolean(options.run) || options.tiers.some((t) => t !== 'toggle' && !(t === 'restore' && chosen));
    const target = options.run ? await runs.get(options.run, 'deploy') : needsTarget ? chooseTarget(all) : undefined;
    // A deploy still at work (or paused at a prompt): the toggle interrupts it, and says so.
    const live = await Promise.all(all.filter((r) => r.kind === 'deploy' && (r.status === 'running' || r.status === 'waiting-approval')).map(async (r) => ((await runs.isLive(r)) ? r : undefined)));
    const interrupted = live.find(Boolean);
    // Tier code goes back to what ran before the target: its commands get ROUTERGPT_ROLLBACK_RELEASE.
    const before = target && options.tiers.includes('code') ? lastGoodDeployBefore(all, target) : undefined;
    const rollbackRelease = before?.release;
    const items = rollbackItems({ tiers: options.tiers, target, rollbackId: newRunId('rollback', now()), verify: options.verify ?? true, keepWrites: Boolean(options.keepWrites), ...(rollbackRelease ? { rollbackRelease } : {}), ...(chosen ? { backup: chosen.manifestFile } : {}) });
    if (interrupted && options.tiers.includes('toggle')) emit({ type: 'note', line: `Deploy ${interrupted.id} is still running (pid ${interrupted.pid} on ${interrupted.host}): the toggle does not wait for its lock.` });
    const result = await withJournaledRun({
      kind: 'rollback',
      ...(options.as !== undefined ? { as: options.as } : {}),
      config,
      io,
      db,
      items,
      checklist: { name: 'rollback', file: '(from the journal of the target deploy)' },
      dryRun: options.dryRun,
      yes: options.yes,
      prompter,
      emit,
      heading: [
        `Rollback of ${config.name}: ${options.tiers.join(' → ')}`,
        ...(target ? [`  target: ${describeTarget(target)}`] : []),
        ...(target && options.tiers.includes('code') ? [`  code goes back to: ${describeCodeTarget(before)}`] : []),
        ...(chosen ? [`  backup to restore (--backup): ${chosen.file} (taken ${chosen.manifest.createdAt.replace('T', ' ').slice(0, 19)}, label ${chosen.manifest.label}${chosen.manifest.env ? `, of ${chosen.manifest.env}` : ''})`] : []),
        `  release: ${describeRelease(release)}`,
      ].join('\n'),
      // The typed confirmation repeats what will be lost (the loss preview of the plan).
      confirm: (plan) => {
        const loss = plan.flatMap((p) => p.lines.filter((l) => l.startsWith('lose: ') || l.startsWith('re-apply: erasure ')));
        return `Roll back ${config.name} (${options.tiers.join(', ')})${target && destructive ? ` — undoing deploy ${target.id}` : ''}?${loss.length ? `\n  ${loss.join('\n  ')}` : ''}`;
      },
      extra: { tiers: options.tiers, ...(target ? { target: target.id } : {}), ...(interrupted ? { interrupts: interrupted.id } : {}), ...releaseFields(release) },
      now,
      ...(api.label ? { apiLabel: api.label } : {}),
      deps: {
        cwd: options.cwd,
        // The undos read the deploy's outputs (backup manifest, purge record, migration versions).
        baseOutputs: target ? outputsOf(target.items) : {},
        ensureApi: api.ensureApi,
        runChecks: async (checks: Check[], base: string | undefined) =>
          (await runVerify({ config, command: 'verify', checks, stage: 'all', db, baseUrl: base, cwd: options.cwd, concurrency: 4, timeoutMs: 30_000 })).checks,
      },
    });
    return { ...result, target: target?.id ?? null };
  } finally {
    await (emit as { flush?: () => Promise<void> }).flush?.();
    await api.close();
    await db.close();
  }
}
