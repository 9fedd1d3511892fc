import path from 'node:path';
import { plural } from '../../lib/plural.js';
import type { Check } from '../../checks/define-check.js';
import type { IO } from '../../cli/io.js';
import { canPrompt, terminalPrompter, type Prompter } from '../../cli/prompter.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { openDatabase } from '../../db/connect.js';
import { loadVerifiedMigrations } from '../../db/migrator/files.js';
import { ConfigError, UsageError } from '../../errors.js';
import { runObserver } from '../../report/run-live.js';
import { itemsFor, type Cadence } from '../../runbook/checklist.js';
import type { RunObserver } from '../../runbook/events.js';
import { loadEnvChecklist } from '../../runbook/known-ids.js';
import type { PlanEntry } from '../../runbook/plan.js';
import { rollbackCommandsFor } from '../../runbook/rollback.js';
import { withJournaledRun } from '../../runbook/run.js';
import { RunRepository } from '../../runbook/runs.js';
import type { RunRecord } from '../../runbook/journal.js';
import { readSignoffFile, type SignoffFile } from '../../runbook/signoff.js';
import { runVerify } from '../../checks/run-verify.js';
import { findStep } from '../../steps/registry.js';
import { apiResolver } from '../../runbook/local-api.js';
import { describeRelease, releaseFields, resolveRelease, type Release } from '../../runbook/release.js';
import { describeIdentity, resolveIdentity, type Identity } from '../../runbook/identity.js';

export interface DeployOptions {
  config: EnvironmentConfig;
  /** deploy: the checklist's deploy phases; maintenance: its maintenance phases of `cadence` (`routergpt maintain <cadence>`). */
  kind?: 'deploy' | 'maintenance';
  cadence?: Cadence;
  io: IO;
  cwd: string;
  checklistFile?: string;
  dryRun: boolean;
  yes: boolean;
  /** true: the latest unfinished run; a string: that run. */
  resume?: string | true;
  signoffFile?: string;
  baseUrl?: string;
  /** `--release ID`: what this run ships (default: ROUTERGPT_RELEASE from io.env, else `git describe` of cwd). */
  release?: string;
  /** `--as ID`: who deploys (default: git config user.email, else the CI actor, else the OS account). */
  as?: string;
  /** An identity already resolved (tests); wins over `as`. */
  identity?: Identity;
  /** `--approval-timeout`: how long to wait for approvals without a terminal (default: approvals.timeout). */
  approvalTimeoutMs?: number;
  /** How often a waiting run polls for approvals (default 2 s). */
  approvalPollMs?: number;
  now?: () => Date;
  /** Who answers questions (default: the terminal, when there is one). */
  prompter?: Prompter;
  /** Who is told what happens (default: plain lines on stderr). */
  observer?: RunObserver;
}

export interface DeployResult {
  dryRun: boolean;
  plan: PlanEntry[];
  run?: RunRecord;
  rollbackPlan: string[];
}

/**
 * The release of a resumed run is the one it started with: its done steps shipped it. An explicit
 * different one is refused (that is a new deploy); a record from before releases gets this one.
 */
function releaseOfResumed(resumed: RunRecord, release: Release): string {
  if (!resumed.release) {
    Object.assign(resumed, releaseFields(release));
    return describeRelease(release);
  }
  if ((release.source === 'flag' || release.source === 'env') && release.id !== resumed.release) {
    const given = release.source === 'flag' ? `--release ${release.id}` : `ROUTERGPT_RELEASE=${release.id}`;
    throw new UsageError(`Run ${resumed.id} is shipping release ${resumed.release}, and ${given} names another.`, `Resume without ${release.source === 'flag' ? '--release' : 'ROUTERGPT_RELEASE'} to finish ${resumed.release}, or start a new deploy (without --resume) for ${release.id}; nothing was changed.`);
  }
  return `${resumed.release} (recorded when run ${resumed.id} started${resumed.releaseCommit ? `, commit ${resumed.releaseCommit.slice(0, 12)}` : ''})`;
}

export async function runDeploy(options: DeployOptions): Promise<DeployResult> {
  const { config, io } = options;
  const checklist = loadEnvChecklist(config, options.cwd, options.checklistFile);
  const kind = options.kind ?? 'deploy';
  const items = itemsFor(checklist, kind, options.cadence);
  if (items.length === 0) {
    if (options.cadence) throw new ConfigError(`The ${checklist.name} checklist has no ${options.cadence} maintenance items.`, `Add a phase with run: maintenance and cadence: ${options.cadence} to ${checklist.file}.`);
    throw new ConfigError(`The ${checklist.name} checklist has no ${kind} items.`, `Add phases with run: ${kind} to ${checklist.file}.`);
  }
  const manual = items.filter((i) => i.kind === 'manual');
  const hasFinal = items.some((i) => i.kind === 'signoff');
  const prompter = options.prompter ?? (canPrompt(io) ? terminalPrompter(io) : undefined);
  const needsAnswers = manual.length > 0 || (hasFinal && config.name !== 'local');

  // Everything that can refuse does so before anything is touched.
  const release = await resolveRelease({ flag: options.release, env: io.env, cwd: options.cwd });
  const identity = options.identity ?? (await resolveIdentity({ flag: options.as, env: io.env, cwd: options.cwd }));
  const approvalItems = items.filter((i) => i.kind === 'approval');
  // approvals.required on this environment: the checklist must ask for them before it changes anything.
  const firstChange = items.findIndex((i) => i.kind === 'step' && findStep(i.id)?.changesData === 'user-data');
  if (kind === 'deploy' && config.approvals.value.required > 0 && firstChange >= 0 && !items.slice(0, firstChange).some((i) => i.kind === 'approval')) {
    throw new ConfigError(`The ${checklist.name} checklist changes user data (${items[firstChange]!.id}) on ${config.name} with no approval item before it, and ${config.name} requires ${plural(config.approvals.value.required, 'approval')} (${config.approvals.origin}).`, `Add \`- approval: release\` (with a title) before ${items[firstChange]!.id} in ${checklist.file}, or set environments.${config.name}.approvals.required: 0; nothing was changed.`);
  }
  let signoff: SignoffFile | undefined;
  if (options.signoffFile) {
    signoff = readSignoffFile(path.resolve(options.cwd, options.signoffFile), { manualItems: manual, needsFinal: hasFinal, approvalItems, deployer: identity, env: config.name, allowSelfApproval: config.approvals.value.allowSelfApproval });
  }
  else if (needsAnswers && !prompter && !options.dryRun) {
    throw new UsageError(`The ${checklist.name} checklist has ${manual.length} manual item(s)${hasFinal ? ' and a final sign-off' : ''}, and there is no terminal to ask on.`, 'Pass --signoff-file FILE (docs/signoff.md); nothing was changed.');
  }
  // Steps confirm destructive actions (the purge, typed in prod): without a terminal that is
  // only possible with --yes, so refuse now rather than half-way through.
  if (!options.yes && !prompter && !options.dryRun) {
    throw new UsageError(`The ${kind === 'deploy' ? 'deploy' : 'maintenance run'} of ${config.name} asks for confirmations, and there is no terminal to ask on.`, `Re-run with --yes to confirm non-interactively${options.resume ? ' (with --resume to continue the same run)' : ''}; nothing was changed.`);
  }

  // An edited released migration is refused before any connection (migrations/routergpt.sum).
  if (items.some((i) => i.kind === 'step' && i.id === 'db.migrate')) loadVerifiedMigrations(config.migrationsDir.value, (line) => io.stderr.write(`${line}\n`));
  const db = await openDatabase(config, { applicationName: `routergpt ${kind === 'deploy' ? 'deploy' : 'maintain'}`, poolSize: 6 });
  const emit = options.observer ?? (await runObserver(io.stderr, { terminal: io.stderrIsTTY, asks: !options.yes || (!signoff && (manual.length > 0 || (hasFinal && config.name !== 'local'))) }));
  const runs = new RunRepository(config, db.pool, db.kind === 'embedded');
  let api: ReturnType<typeof apiResolver> | undefined;
  try {
    const resumed = options.resume !== undefined ? await runs.resumable(kind, options.resume) : undefined;
    const releaseLine = resumed ? releaseOfResumed(resumed, release) : describeRelease(release);
    // The in-process server (local) reports the run's release, as a deployed one started with ROUTERGPT_RELEASE does.
    api = apiResolver(config, db, path.join(runs.dir, 'api'), options.baseUrl, (line) => emit({ type: 'note', line }), { release: resumed ? resumed.release : (release.id ?? undefined) });
    const result = await withJournaledRun({
      kind,
      config,
      io,
      db,
      items,
      checklist: { name: checklist.name, file: checklist.file },
      ...(resumed ? { resume: resumed } : {}),
      dryRun: options.dryRun,
      yes: options.yes,
      prompter,
      emit,
      heading: `Plan: ${checklist.name} checklist${options.cadence ? `, ${options.cadence} maintenance,` : ''} on ${config.name} (${plural(items.length, 'item')})\n  release: ${releaseLine}\n  deployer: ${describeIdentity(identity)}`,
      confirm: `Run the ${checklist.name} checklist against ${config.name} (${db.display})${release.id && !resumed ? `, shipping release ${release.id}` : ''}?`,
      extra: { ...releaseFields(release), ...(options.cadence ? { cadence: options.cadence } : {}) },
      identity,
      ...(api.label ? { apiLabel: api.label } : {}),
      ...(options.now ? { now: options.now } : {}),
      deps: {
        cwd: options.cwd,
        ...(signoff ? { signoff } : {}),
        ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
        ...(options.approvalPollMs !== undefined ? { approvalPollMs: options.approvalPollMs } : {}),
        ensureApi: api.ensureApi,
        runChecks: async (checks: Check[], base: string | undefined) =>
          (await runVerify({ config, command: 'verify', checks, stage: 'all', db, baseUrl: base, cwd: options.cwd, concurrency: 4, timeoutMs: 30_000 })).checks,
      },
    });
    const rollbackPlan = kind === 'deploy' && result.run && result.run.status !== 'succeeded' ? rollbackCommandsFor(result.run) : [];
    return { ...result, rollbackPlan };
  } finally {
    await (emit as { flush?: () => Promise<void> }).flush?.();
    await api?.close();
    await db.close();
  }
}
