import os from 'node:os';
import { UsageError } from '../../errors.js';
import type { IO } from '../../cli/io.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { openDatabase } from '../../db/connect.js';
import type { ChecklistItem } from '../../runbook/checklist.js';
import { defaultOperator, executeItems, outputsOf, stepContext, type ExecutorDeps } from '../../runbook/executor.js';
import { ensureJournalTable, Journal, listRunFiles, listRunsFromDb, newRunId, readRunFile, runsDir, type RunRecord } from '../../runbook/journal.js';
import { acquireRunLock } from '../../runbook/lock.js';
import { findStep } from '../../steps/registry.js';

/** Rollback tiers, fastest first (the checklist's options 3, 2 and 1, plus data and schema). */
export const TIERS = ['toggle', 'code', 'purge', 'migrations', 'restore'] as const;
export type Tier = (typeof TIERS)[number];

const TIER_STEP: Record<Tier, string> = {
  toggle: 'router.disable',
  code: 'code.rollback',
  purge: 'db.purge-undo',
  migrations: 'db.migrations-down',
  restore: 'db.restore',
};

export interface RollbackOptions {
  config: EnvironmentConfig;
  io: IO;
  cwd: string;
  tiers: Tier[];
  run?: string;
  dryRun: boolean;
  yes: boolean;
  now?: () => Date;
}

export interface RollbackResult {
  dryRun: boolean;
  target: string | null;
  plan: Array<{ tier: Tier; step: string; lines: string[] }>;
  run?: RunRecord;
}

export function parseTiers(values: string[] | undefined): Tier[] {
  const raw = (values && values.length ? values : ['toggle']).flatMap((v) => v.split(',')).map((v) => v.trim());
  const bad = raw.filter((t) => !TIERS.includes(t as Tier));
  if (bad.length) throw new UsageError(`Unknown rollback tier "${bad.join(', ')}".`, `Use --tier ${TIERS.join('|')} (fastest first: toggle).`);
  // Always in the safe order: stop traffic first, restore last.
  return TIERS.filter((t) => raw.includes(t));
}

async function findDeployRun(config: EnvironmentConfig, db: { pool: Parameters<typeof listRunsFromDb>[0] }, id: string | undefined): Promise<RunRecord | undefined> {
  const dir = runsDir(config.stateDir.value, config.name);
  if (id) {
    const local = readRunFile(dir, id) ?? (await listRunsFromDb(db.pool, config.name, 200).catch(() => [])).find((r) => r.id === id);
    if (!local) throw new UsageError(`Unknown run id "${id}" for ${config.name}.`, `See \`routergpt status --env ${config.name}\` for run ids.`);
    if (local.kind !== 'deploy') throw new UsageError(`Run ${id} is a ${local.kind}, not a deploy.`, 'Pass the id of the deploy to roll back.');
    return local;
  }
  const runs = [...listRunFiles(dir), ...(await listRunsFromDb(db.pool, config.name, 20).catch(() => []))];
  return runs.filter((r) => r.kind === 'deploy').sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
}

export async function runRollback(options: RollbackOptions): Promise<RollbackResult> {
  const { config, io } = options;
  const now = options.now ?? (() => new Date());
  const interactive = io.stdinIsTTY && io.stderrIsTTY;
  const destructive = options.tiers.some((t) => t !== 'toggle');
  if (!options.dryRun && !options.yes && !interactive && (config.protected.value || destructive)) {
    throw new UsageError(`Rolling back ${config.name} (${options.tiers.join(', ')}) needs confirmation, and there is no terminal to ask on.`, 'Re-run with --yes to confirm non-interactively.');
  }
  const db = await openDatabase(config, { applicationName: 'routergpt rollback', poolSize: 4 });
  try {
    const target = await findDeployRun(config, db, options.run);
    const needsRun = options.tiers.filter((t) => t === 'migrations' || t === 'restore' || t === 'purge');
    if (!target && needsRun.length) throw new UsageError(`Tier ${needsRun.join(', ')} needs a deploy run to undo, and ${config.name} has none recorded.`, 'Pass --run RUN, or use --tier toggle / code.');
    const dir = runsDir(config.stateDir.value, config.name);
    const id = newRunId('rollback', now());
    const items: Array<ChecklistItem & { kind: 'step' }> = options.tiers.map((tier) => ({ kind: 'step', id: TIER_STEP[tier], params: tier === 'migrations' && target ? { deployRun: target.id } : {}, phase: `rollback (${tier})` }));
    const record: RunRecord = {
      schema: 'routergpt.run/v1',
      id,
      kind: 'rollback',
      env: config.name,
      checklist: { name: 'rollback', file: '(built in)' },
      status: 'running',
      startedAt: now().toISOString(),
      startedBy: defaultOperator(),
      host: os.hostname(),
      pid: process.pid,
      target: target?.id,
      tiers: options.tiers,
      resumes: [],
      items: items.map((i) => ({ id: i.id, kind: 'step', phase: i.phase, title: stepFor(i.id).title, state: 'pending', attempts: 0 })),
    };
    const journal = new Journal(dir, record, options.dryRun ? undefined : db.pool, (m) => io.stderr.write(`${m}\n`));
    // The rollback's steps read the deploy run's outputs (backup manifest, migration versions, purge record).
    const deployOutputs = target ? outputsOf(target.items) : {};
    const deps: ExecutorDeps = {
      config,
      db,
      io,
      journal,
      interactive,
      yes: options.yes,
      startedBy: record.startedBy,
      now,
      cwd: options.cwd,
      ensureApi: async () => config.publicApiBase.value,
      runChecks: async () => [],
      baseOutputs: deployOutputs,
    };
    const plan: RollbackResult['plan'] = [];
    for (const [index, item] of items.entries()) {
      const ctx = stepContext(deps, item, undefined);
      let lines: string[];
      try {
        lines = await stepFor(item.id).plan(ctx);
      } catch (error) {
        lines = [`(cannot plan: ${(error as Error).message.split('\n')[0]})`];
      }
      plan.push({ tier: options.tiers[index]!, step: item.id, lines });
    }
    io.stderr.write(`${options.dryRun ? 'Dry run — nothing will be changed.\n' : ''}Rollback of ${config.name}${target ? ` (deploy ${target.id}, ${target.status})` : ''}: ${options.tiers.join(' → ')}\n`);
    for (const p of plan) {
      io.stderr.write(`  • ${p.tier}: ${p.step}\n`);
      for (const line of p.lines) io.stderr.write(`      ${line}\n`);
    }
    if (options.dryRun) return { dryRun: true, target: target?.id ?? null, plan };
    if (config.protected.value && !options.yes) {
      const { confirmOrThrow } = await import('../../cli/confirm.js');
      await confirmOrThrow({ io, yes: false, typed: config.name, message: `Roll back ${config.name} (${options.tiers.join(', ')})?` });
    }
    const lock = await acquireRunLock({ pool: db.pool, embedded: db.kind === 'embedded', env: config.name, dir, runId: id, by: record.startedBy });
    try {
      await ensureJournalTable(db.pool);
      await journal.save();
      let outcome: 'succeeded' | 'failed' = 'failed';
      try {
        outcome = await executeItems(deps, items);
      } finally {
        record.status = outcome;
        record.finishedAt = now().toISOString();
        await journal.save();
      }
      return { dryRun: false, target: target?.id ?? null, plan, run: record };
    } finally {
      await lock.release();
    }
  } finally {
    await db.close();
  }
}

function stepFor(id: string) {
  const step = findStep(id);
  if (!step) throw new Error(`unknown step ${id}`);
  return step;
}
