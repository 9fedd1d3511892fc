import { fail, pass, warn, type CheckResult } from '../../checks/define-check.js';
import { ConfigError } from '../../errors.js';
import { createBackup, describeBackupCommand } from '../../db/backup/create.js';
import { restoreTest } from '../../db/backup/restore.js';
import { applyRetention } from '../../db/backup/retention.js';
import { recordVerification } from '../../db/backup/manifest.js';
import { verifyBackup } from '../../db/backup/verify.js';
import type { Database } from '../../db/connect.js';
import { defineStep, type StepContext, type StepResult } from '../define-step.js';
import { booleanParam, numberParam, stringParam } from './params.js';
import { planRestoreWithLoss, restoreKeepingWrites } from './restore.js';

const ID = 'db.backup';

/**
 * Parameters (checklist): format 'custom' (default) | 'directory'; jobs (directory format);
 * label (default "pre-deploy-<runId>"); retention (default: the environment's backup.retention);
 * restoreTest: true to restore the backup into a scratch database during verify;
 * restoreTestUrl: the server URL for that scratch database (default: the environment's own
 * database URL, whose user then needs CREATEDB); protect: manifests retention never deletes
 * (a rollback's safety backup protects the backup it restores).
 *
 * The deploy's hard gate: the runbook runs migrations only after this step's verify passed.
 */
function options(ctx: StepContext) {
  const format = stringParam(ID, ctx.params, 'format') ?? 'custom';
  if (format !== 'custom' && format !== 'directory') throw new ConfigError(`Step ${ID}: format must be "custom" or "directory" (got "${format}").`, 'Fix the step\'s parameters in the checklist.');
  const label = stringParam(ID, ctx.params, 'label') ?? `pre-deploy-${ctx.runId}`.replace(/[^A-Za-z0-9._-]/g, '-');
  const jobs = numberParam(ID, ctx.params, 'jobs');
  return {
    format: format as 'custom' | 'directory',
    label,
    ...(jobs ? { jobs } : {}),
    dir: ctx.config.backupDir.value,
    retention: numberParam(ID, ctx.params, 'retention') ?? ctx.config.backupRetention.value,
    lockWaitTimeoutMs: Math.max(ctx.config.lockTimeoutMs.value, 30_000),
  };
}

export const dbBackupStep = defineStep({
  id: ID,
  params: ['format', 'jobs', 'label', 'retention', 'restoreTest', 'restoreTestUrl', 'protect'],
  title: 'Back up the database (verified, with a checksum manifest)',
  changesData: false,
  needs: ['db'],

  async plan(ctx) {
    const o = options(ctx);
    const { command, destination } = describeBackupCommand(ctx.db, { ...o, now: ctx.now });
    const lines = [`Run: ${command}`, `Write: ${destination} and ${destination}.manifest.json (SHA-256, row counts and per-table checksums)`];
    lines.push(ctx.db.kind === 'embedded' ? 'Verify: SHA-256 against the manifest, and the dump\'s header and trailer' : 'Verify: SHA-256 against the manifest, and `pg_restore --list` reads the archive');
    if (booleanParam(ID, ctx.params, 'restoreTest')) lines.push('Restore test: restore into a scratch database, compare per-table checksums, drop it');
    lines.push(`Retention: keep the newest ${o.retention} backups in ${o.dir}, delete older ones`);
    return lines;
  },

  async run(ctx) {
    const o = options(ctx);
    const { manifestFile, file, manifest } = await createBackup({ db: ctx.db, env: ctx.config.name, dir: o.dir, label: o.label, format: o.format, ...(o.jobs ? { jobs: o.jobs } : {}), now: ctx.now, lockWaitTimeoutMs: o.lockWaitTimeoutMs, log: ctx.log, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const rows = Object.values(manifest.tables).reduce((sum, n) => sum + n, 0);
    return {
      status: 'done',
      summary: `Backed up ${Object.keys(manifest.tables).length} tables (${rows} rows, ${formatBytes(manifest.sizeBytes)}) to ${file}`,
      details: [`manifest ${manifestFile}`, `sha256 ${manifest.sha256}`],
      outputs: { manifest: manifestFile, file, sha256: manifest.sha256, format: manifest.format, sizeBytes: manifest.sizeBytes, tables: manifest.tables },
    };
  },

  async verify(ctx, result) {
    const verdict = await verifyNewBackup(ctx, result);
    // Old backups are deleted only once the new one is proven good: with retention 1 and a
    // damaged new file, the last good backup must still be there.
    // (A warning — the restore test's scratch database left behind — is still a good backup.)
    if (verdict.status !== 'fail') {
      const o = options(ctx);
      // A rollback's safety backup must not delete the backup it is about to restore.
      const protect = Array.isArray(ctx.params.protect) ? ctx.params.protect.filter((p): p is string => typeof p === 'string') : [];
      const { deleted } = applyRetention(o.dir, o.retention, protect);
      verdict.details = [...(verdict.details ?? []), ...deleted.map((d) => `retention: deleted ${d.file}`)];
      // Off the host, once proven good (backup.copy_command): a failed or differing copy warns —
      // the backup here is sound, but the one that survives losing this machine is not.
      const copySettings = ctx.config.backupCopy.value;
      const manifestFile = result.outputs?.manifest;
      if (copySettings && typeof manifestFile === 'string') {
        const { copyBackupOffHost, copyIsGood } = await import('../../db/backup/copy.js');
        const copy = await copyBackupOffHost(manifestFile, copySettings, { now: ctx.now, ...(ctx.signal ? { signal: ctx.signal } : {}) });
        ctx.log(copy.summary);
        verdict.details = [...(verdict.details ?? []), copy.summary];
        if (!copyIsGood(copy)) return { ...verdict, status: 'warn', summary: `${verdict.summary}; ${copy.summary}`, hint: 'Fix backup.copy_command (or backup.read_back_command) and take a new backup: `routergpt backup`.' };
      }
    }
    return verdict;
  },

  /** Rollback tier `restore` (the checklist's Option 2): back to the state this backup holds. */
  undo: {
    tier: 'restore',
    title: 'Restore the pre-deploy backup (replaces all data in schema public)',
    destructive: true,
    applies: (source) => (source.state === 'done' || source.state === 'warn') && typeof source.outputs.manifest === 'string',
    plan: (ctx, source) => planRestoreWithLoss(ctx, String(source.outputs.manifest)),
    run: (ctx, source) => restoreKeepingWrites(ctx, String(source.outputs.manifest)),
  },
});

async function verifyNewBackup(ctx: StepContext, result: StepResult): Promise<CheckResult> {
  const manifestFile = result.outputs?.manifest;
  if (typeof manifestFile !== 'string') return fail('The backup step recorded no manifest.', { hint: 'Run the backup step again.' });
  const verdict = await verifyBackupAsTheStepDoes({ manifestFile, db: ctx.db, params: ctx.params, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  noteVerification(manifestFile, verdict, ID, ctx.now(), booleanParam(ID, ctx.params, 'restoreTest') === true);
  return verdict;
}

export interface VerifyLikeTheStepOptions {
  manifestFile: string;
  /** The environment's database: the default server for the restore test. */
  db?: Database;
  /** The step's parameters (`restoreTest`, `restoreTestUrl`), from the checklist. */
  params: Record<string, unknown>;
  signal?: AbortSignal;
}

/**
 * The step's verification, for any backup: SHA-256 and the archive (or dump) against the manifest,
 * the write ledger against the row counts, and — when the step's parameters ask for it — a
 * restore into a scratch database compared table by table. `routergpt backup --verify` runs
 * exactly this on an existing backup.
 */
export async function verifyBackupAsTheStepDoes(options: VerifyLikeTheStepOptions): Promise<CheckResult> {
  const { manifestFile, params } = options;
  const verified = await verifyBackup(manifestFile);
  if (!verified.ok) return fail(`The backup is not usable: ${verified.problem}`, { details: verified.details, hint: 'Do not migrate. Take a new backup (`routergpt backup`, or re-run this step) and find out what damaged the file.' });
  if (!booleanParam(ID, params, 'restoreTest')) return pass(`Backup verified (${verified.manifest.format}, SHA-256 ${verified.manifest.sha256.slice(0, 12)}…)`, { details: verified.details });
  const adminUrl = stringParam(ID, params, 'restoreTestUrl') ?? (options.db?.kind === 'url' ? options.db.url : undefined);
  const test = await restoreTest({ manifestFile, ...(adminUrl ? { adminUrl } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  const details = [
    ...verified.details,
    `restore test into ${test.target} took ${test.durationMs} ms`,
    ...(test.swept ? [`dropped ${test.swept.length} scratch database(s) earlier restore tests left behind: ${test.swept.join(', ')}`] : []),
    ...test.differences,
  ];
  if (!test.ok) return fail('The backup restores, but not to the same data: per-table checksums differ.', { details, hint: 'Do not migrate. Take a new backup and compare again.' });
  if (test.leftover) {
    // A full copy of the data stays on the server: say which, and how it goes.
    return warn(`Backup verified and restore-tested (${Object.keys(test.tables).length} tables identical), but its scratch database ${test.leftover.name} could not be dropped: ${test.leftover.error}`, {
      details,
      data: { restoreTest: test },
      hint: `It holds a full copy of the data: drop it (\`DROP DATABASE ${test.leftover.name}\`), or let the next restore test or the weekly db.drop-stale-restore-tests do it.`,
    });
  }
  return pass(`Backup verified and restore-tested (${Object.keys(test.tables).length} tables identical)`, { details, data: { restoreTest: test } });
}

/** Keep the verdict in the manifest, for `routergpt backup --list` and the rollback's `--backup` (best effort). */
export function noteVerification(manifestFile: string, verdict: CheckResult, by: string, at: Date, restoreTested: boolean): void {
  try {
    recordVerification(manifestFile, { status: verdict.status === 'fail' ? 'fail' : 'pass', at: at.toISOString(), by, summary: verdict.summary, ...(restoreTested && verdict.status !== 'fail' ? { restoreTested: true } : {}) });
  } catch {
    // A manifest that cannot be read back (or written) is reported by the verification itself.
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export default dbBackupStep;
