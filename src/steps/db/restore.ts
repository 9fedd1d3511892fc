import { fail, pass } from '../../checks/define-check.js';
import { ConfigError } from '../../errors.js';
import { compareChecksums, checksumTables } from '../../db/backup/checksums.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { exportWrites, reapplyWrites } from '../../db/backup/keep-writes.js';
import { describeLoss, previewLoss, type LossPreview } from '../../db/backup/ledger.js';
import { readManifest, summariesOf } from '../../db/backup/manifest.js';
import { restoreBackup } from '../../db/backup/restore.js';
import { readRouterFlag, writeRouterFlag } from '../../db/router-flag.js';
import { defineStep, type StepContext, type StepResult } from '../define-step.js';
import { numberParam, stringParam } from './params.js';

const ID = 'db.restore';

/**
 * Restore the database from a backup manifest: rollback tier `restore`. Replaces everything in
 * schema public (tables created after the backup included), then proves the result with the
 * manifest's per-table checksums. Asks for confirmation (typed in protected environments).
 */
export async function restoreFromManifest(ctx: StepContext, manifestPath: string): Promise<StepResult> {
  const manifest = readManifest(manifestPath);
  await ctx.confirm(`Restore ${ctx.db.display} from the backup of ${manifest.createdAt} (${manifest.file})? Everything in schema public is replaced.`);
  const jobs = numberParam(ID, ctx.params, 'jobs');
  // A rollback turns the router off first (tier toggle); the backup predates that, so the
  // restore would switch it back on. Keep the flag as it is now.
  const flag = await readRouterFlag(ctx.db.pool).then((row) => row?.enabled, () => undefined);
  const result = await restoreBackup({ db: ctx.db, manifestFile: manifestPath, ...(jobs ? { jobs } : {}), log: ctx.log, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  const rows = Object.values(result.tables).reduce((sum, n) => sum + n, 0);
  let kept = '';
  const erased = result.erasures.erasures.length;
  if (erased) kept += `; re-applied ${erased} erasure(s) from the ledger (routergpt.erasure_ledger) that the backup predates`;
  if (flag === false) {
    await writeRouterFlag(ctx.db.pool, false, `routergpt ${ctx.runId} (kept off across the restore)`).then(() => (kept = '; the router stays disabled'), () => (kept = '; WARNING: could not keep the router disabled — run `routergpt router disable`'));
  }
  return {
    status: 'done',
    summary: `Restored ${Object.keys(result.tables).length} tables (${rows} rows) from ${manifest.file}; checksums match the backup${kept}`,
    ...(erased ? { details: [`erasures re-applied: ${result.erasures.erasures.join(', ')} (${Object.entries(result.erasures.changed).filter(([, n]) => n > 0).map(([t, n]) => `${t}: ${n}`).join(', ')})`] } : {}),
    outputs: { manifest: manifestPath, tables: result.tables, durationMs: result.durationMs, routerKeptOff: flag === false, erasuresReapplied: result.erasures.erasures, erasedTables: result.erasures.tables },
  };
}

export async function planRestore(ctx: StepContext, manifestPath: string): Promise<string[]> {
  const manifest = readManifest(manifestPath);
  const how = manifest.format === 'plain' ? 'replay the SQL dump in one transaction' : `pg_restore --clean --if-exists --no-owner --exit-on-error -j N -d <database> ${manifest.file}`;
  return [
    `Restore ${ctx.db.display} from ${manifestPath} (taken ${manifest.createdAt}, ${Object.keys(manifest.tables).length} tables)`,
    'Drop and recreate schema public (same owner and privileges), then ' + how,
    'Compare per-table checksums with the manifest: identical, or the step fails',
  ];
}

/** What restoring this backup would lose: the rows written since, table by table (ledger.ts). */
export async function lossOf(ctx: StepContext, manifestPath: string): Promise<LossPreview> {
  const manifest = readManifest(manifestPath);
  return previewLoss(ctx.db.pool, manifest.ledger, manifest.createdAt, manifest.tables);
}

/** The rollback's restore: plan with the loss preview, and `keepWrites` to re-apply what it can. */
export async function planRestoreWithLoss(ctx: StepContext, manifestPath: string): Promise<string[]> {
  const lines = await planRestore(ctx, manifestPath);
  const loss = await lossOf(ctx, manifestPath);
  lines.push(...describeLoss(loss));
  if (ctx.params.keepWrites === true) lines.push('keep: export the bookings and chat rows written since, and re-apply those the restored schema accepts (a booking with its slots, or not at all)');
  else if (loss.total > 0) lines.push('(--keep-writes re-applies the bookings and chat rows written since the backup)');
  return lines;
}

export async function restoreKeepingWrites(ctx: StepContext, manifestPath: string): Promise<StepResult> {
  const manifest = readManifest(manifestPath);
  const loss = await lossOf(ctx, manifestPath);
  const keep = ctx.params.keepWrites === true;
  mkdirSync(ctx.runDir, { recursive: true });
  const kept = keep ? await exportWrites(ctx.db.pool, loss, manifest.ledger, path.join(ctx.runDir, 'kept-writes.json')) : undefined;
  if (kept) ctx.log(`exported ${kept.bookings.length} booking(s), ${kept.chatSessions.length} chat session(s), ${kept.chatMessages.length} chat message(s) to ${path.join(ctx.runDir, 'kept-writes.json')}`);
  const result = await restoreFromManifest(ctx, manifestPath);
  const details = [...(result.details ?? []), ...describeLoss(loss)];
  if (!kept) return { ...result, details, outputs: { ...result.outputs, loss: summaryOf(loss) } };
  const reapplied = await reapplyWrites(ctx.db.pool, kept);
  details.push(...reapplied.kept.map((k) => `kept: ${k}`), ...reapplied.notKept.map((k) => `NOT kept: ${k}`));
  return {
    status: reapplied.notKept.length ? 'warn' : 'done',
    summary: `${result.summary}; re-applied ${reapplied.kept.length} write(s) made since the backup${reapplied.notKept.length ? `, ${reapplied.notKept.length} could not be kept (see details and ${path.join(ctx.runDir, 'kept-writes.json')})` : ''}`,
    details,
    outputs: { ...result.outputs, loss: summaryOf(loss), kept: reapplied.kept, notKept: reapplied.notKept },
  };
}

function summaryOf(loss: LossPreview): Record<string, { inserted: number; updated: number; deleted: number; newest: string | null }> {
  return Object.fromEntries(loss.tables.map((t) => [t.table, { inserted: t.inserted, updated: t.updated, deleted: t.deleted, newest: t.newest }]));
}

/** The manifest to restore: the step's `manifest` parameter, else this run's db.backup output. */
export function manifestFromContext(ctx: StepContext): string {
  const fromParams = stringParam(ID, ctx.params, 'manifest');
  const fromBackup = ctx.outputs['db.backup']?.manifest;
  const manifest = fromParams ?? (typeof fromBackup === 'string' ? fromBackup : undefined);
  if (!manifest) throw new ConfigError('There is no backup to restore: this run has no db.backup output and no manifest was given.', 'Give the step `manifest: <backup>.manifest.json`, or use `routergpt rollback --tier restore --run RUN` to restore a deploy\'s own backup.');
  return manifest;
}

export const dbRestoreStep = defineStep({
  id: ID,
  params: ['manifest', 'jobs'],
  title: 'Restore the database from a backup manifest',
  changesData: 'user-data',
  needs: ['db'],

  plan: (ctx) => planRestore(ctx, manifestFromContext(ctx)),

  run: (ctx) => restoreFromManifest(ctx, manifestFromContext(ctx)),

  async verify(ctx, result) {
    const manifestPath = result.outputs?.manifest;
    if (typeof manifestPath !== 'string') return fail('The restore step recorded no manifest.');
    const expected = summariesOf(readManifest(manifestPath));
    const actual = await checksumTables(ctx.db.pool);
    // The one row we changed on purpose after the restore (the router kept off) is not a difference.
    if (result.outputs?.routerKeptOff) {
      delete expected.feature_flags;
      delete actual.feature_flags;
    }
    // Nor are the tables the erasure ledger changed again after the restore (privacy erase).
    const erasedTables = Array.isArray(result.outputs?.erasedTables) ? result.outputs.erasedTables.filter((t): t is string => typeof t === 'string') : [];
    for (const table of erasedTables) {
      delete expected[table];
      delete actual[table];
    }
    const comparison = compareChecksums(expected, actual, { expected: 'in the backup', actual: 'now' });
    const also = erasedTables.length ? [`not compared: ${erasedTables.join(', ')} (erasures re-applied after the restore)`] : [];
    return comparison.identical ? pass('The database matches the backup table for table', also.length ? { details: also } : {}) : fail('The database no longer matches the backup', { details: [...comparison.differences, ...also] });
  },
});

export default dbRestoreStep;
