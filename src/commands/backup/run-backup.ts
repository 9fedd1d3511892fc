import { existsSync } from 'node:fs';
import type { IO } from '../../cli/io.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { inventoryBackups, type BackupListing } from '../../db/backup/inventory.js';
import { resolveBackupFile } from '../../db/backup/choose.js';
import { backupPathOf, readManifest, type BackupManifest } from '../../db/backup/manifest.js';
import { openDatabase } from '../../db/connect.js';
import { UsageError } from '../../errors.js';
import { runObserver } from '../../report/run-live.js';
import { itemsFor } from '../../runbook/checklist.js';
import type { RunObserver } from '../../runbook/events.js';
import type { RunRecord } from '../../runbook/journal.js';
import { loadEnvChecklist } from '../../runbook/known-ids.js';
import { withJournaledRun } from '../../runbook/run.js';
import { RunRepository } from '../../runbook/runs.js';
import { noteVerification, verifyBackupAsTheStepDoes } from '../../steps/db/backup.js';
import type { CheckResult } from '../../checks/define-check.js';

export interface BackupOptions {
  config: EnvironmentConfig;
  io: IO;
  cwd: string;
  /** Part of the file name (default: `manual-<run id>`). */
  label?: string;
  /** The checklist whose db.backup parameters apply (format, jobs, retention, restoreTest). */
  checklistFile?: string;
  /** true: the latest unfinished backup run; a string: that run. */
  resume?: string | true;
  dryRun?: boolean;
  now?: () => Date;
  observer?: RunObserver;
}

/** What `routergpt backup` prints (and `--json` is): the run and the manifest's summary. */
export interface BackupSummary {
  run: string;
  status: RunRecord['status'];
  file?: string;
  manifest?: string;
  label?: string;
  format?: string;
  sizeBytes?: number;
  sha256?: string;
  createdAt?: string;
  tables?: Record<string, number>;
  verification?: { status: string; summary: string };
}

export interface BackupResult {
  dryRun: boolean;
  run?: RunRecord;
  summary?: BackupSummary;
  plan?: unknown;
}

/** The db.backup parameters of the environment's checklist (its deploy phases), so a backup on its own is the deploy's. */
function stepParams(config: EnvironmentConfig, cwd: string, checklistFile: string | undefined): Record<string, unknown> {
  const checklist = loadEnvChecklist(config, cwd, checklistFile);
  const item = itemsFor(checklist, 'deploy').find((i) => i.kind === 'step' && i.id === 'db.backup');
  return item?.kind === 'step' ? { ...item.params } : {};
}

/**
 * `routergpt backup`: the deploy's `db.backup` step on its own — the same item a rollback's
 * safety backup is — journaled as a run of kind `backup`, verified as the step verifies.
 */
export async function runBackup(options: BackupOptions): Promise<BackupResult> {
  const { config, io } = options;
  const now = options.now ?? (() => new Date());
  const params = stepParams(config, options.cwd, options.checklistFile);
  delete params.label;
  if (options.label !== undefined) {
    if (!/^[A-Za-z0-9._-]+$/.test(options.label)) throw new UsageError(`--label "${options.label}" may only contain letters, digits, ".", "_" and "-".`, 'Choose a simpler label, e.g. --label before-reindex; nothing was changed.');
    params.label = options.label;
  }
  const db = await openDatabase(config, { applicationName: 'routergpt backup', poolSize: 2 });
  const emit = options.observer ?? (await runObserver(io.stderr, { terminal: io.stderrIsTTY, asks: false }));
  const runs = new RunRepository(config, db.pool, db.kind === 'embedded');
  try {
    const resumed = options.resume !== undefined ? await runs.resumable('backup', options.resume) : undefined;
    // The deploy's backup is `pre-deploy-<run>-<time>`, the rollback's `safety-<run>-<time>`; this one `manual-<time>`.
    const item = { kind: 'step' as const, id: 'db.backup', params: { ...params, label: params.label ?? 'manual' }, phase: 'backup', title: 'Back up the database (verified, with a checksum manifest)' };
    const result = await withJournaledRun({
      kind: 'backup',
      config,
      io,
      db,
      items: [item],
      checklist: { name: 'backup', file: '(the db.backup step of the environment\'s checklist)' },
      ...(resumed ? { resume: resumed } : {}),
      dryRun: Boolean(options.dryRun),
      // A backup changes no data: nothing to confirm (retention is in the plan).
      yes: true,
      prompter: undefined,
      emit,
      heading: `Backup of ${config.name} (${db.display}) into ${config.backupDir.value}`,
      confirm: `Back up ${config.name}?`,
      now,
      deps: { cwd: options.cwd, ensureApi: async () => undefined, runChecks: async () => [] },
    });
    if (!result.run) return { dryRun: true, plan: result.plan };
    return { dryRun: false, run: result.run, summary: summaryOf(result.run) };
  } finally {
    await (emit as { flush?: () => Promise<void> }).flush?.();
    await db.close();
  }
}

function summaryOf(run: RunRecord): BackupSummary {
  const item = run.items.find((i) => i.id === 'db.backup');
  const outputs = item?.outputs ?? {};
  const manifestFile = typeof outputs.manifest === 'string' ? outputs.manifest : undefined;
  const manifest = manifestFile && existsSync(manifestFile) ? readManifest(manifestFile) : undefined;
  const verify = item?.details?.find((d) => d.startsWith('verify: '));
  const verification = verify ? { status: verify.slice('verify: '.length).split(' — ')[0]!, summary: verify.split(' — ').slice(1).join(' — ') } : undefined;
  return {
    run: run.id,
    status: run.status,
    ...(manifest && manifestFile
      ? { file: backupPathOf(manifestFile, manifest), manifest: manifestFile, label: manifest.label, format: manifest.format, sizeBytes: manifest.sizeBytes, sha256: manifest.sha256, createdAt: manifest.createdAt, tables: manifest.tables }
      : {}),
    ...(verification ? { verification } : {}),
  };
}

/** `routergpt backup --list`: the environment's backups, newest first. */
export async function listEnvBackups(config: EnvironmentConfig, full: boolean): Promise<{ dir: string; backups: BackupListing[] }> {
  const dir = config.backupDir.value;
  return { dir, backups: await inventoryBackups(dir, { env: config.name, full }) };
}

export interface VerifyFileResult {
  manifestFile: string;
  file: string;
  manifest: BackupManifest;
  verdict: CheckResult;
}

/** `routergpt backup --verify FILE`: the step's verification of an existing backup, recorded in its manifest. */
export async function verifyBackupFile(options: { config: EnvironmentConfig; cwd: string; file: string; checklistFile?: string; restoreTest?: boolean; now?: () => Date }): Promise<VerifyFileResult> {
  const { config } = options;
  const resolved = resolveBackupFile(options.file, options.cwd, config.name);
  const params = stepParams(config, options.cwd, options.checklistFile);
  if (options.restoreTest !== undefined) params.restoreTest = options.restoreTest;
  // The restore test needs a server to create its scratch database on: the environment's own.
  const needsDb = params.restoreTest === true && typeof params.restoreTestUrl !== 'string' && config.database.value.kind === 'url';
  const db = needsDb ? await openDatabase(config, { applicationName: 'routergpt backup --verify', poolSize: 1 }) : undefined;
  try {
    const verdict = await verifyBackupAsTheStepDoes({ manifestFile: resolved.manifestFile, params, ...(db ? { db } : {}) });
    noteVerification(resolved.manifestFile, verdict, 'routergpt backup --verify', (options.now ?? (() => new Date()))(), params.restoreTest === true);
    return { ...resolved, verdict };
  } finally {
    await db?.close();
  }
}
