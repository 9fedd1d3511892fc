import os from 'node:os';
import { withDatabase } from '../../db/connect.js';
import { repairMigration, verifyRepairTarget, type RepairResult } from '../../db/migrator/repair.js';
import { readSnapshot, staleSnapshotReason } from '../../db/schema/snapshot.js';
import { CancelledError } from '../../errors.js';
import { defaultOperator } from '../../runbook/executor.js';
import { ensureJournalTable, Journal, newRunId, runsDir, type ItemRecord, type RunRecord } from '../../runbook/journal.js';
import { migrationsOf, type MigrateCommonOptions } from './run-migrate.js';

export interface MigrateRepairOptions extends MigrateCommonOptions {
  version: string;
  dryRun: boolean;
  /** Asked once the objects are checked and there is something to repair; throws to refuse (CancelledError). */
  confirm?: (message: string) => Promise<void>;
  now?: () => Date;
}

export interface MigrateRepairResult extends RepairResult {
  env: string;
  /** The journaled run (not for a dry run, nor when there was nothing to repair). */
  runId?: string;
  journalFile?: string;
}

/**
 * `migrate repair`: check (read-only), ask, then realign the checksum under the lock —
 * journaled as a run of kind `repair` with one item (old and new checksum in its outputs), so
 * `routergpt status` shows who repaired what when. Refusals and "nothing to repair" happen
 * before the journal: nothing ran.
 */
export async function runMigrateRepair(options: MigrateRepairOptions): Promise<MigrateRepairResult> {
  const { config, version } = options;
  const migrations = migrationsOf(options);
  const m = verifyRepairTarget(migrations, version);
  const dir = config.migrationsDir.value;
  const committed = readSnapshot(dir);
  const snapshot = committed && !staleSnapshotReason(dir, committed) ? committed : undefined;
  const now = options.now ?? (() => new Date());
  return withDatabase(config, async (db) => {
    const deps = { pool: db.pool, migrations, lockWaitMs: options.lockWaitMs, onEvent: options.onEvent, snapshot };
    const preview = await repairMigration(deps, { version, dryRun: true });
    if (options.dryRun || preview.outcome === 'nothing-to-repair') return { env: config.name, ...preview, dryRun: options.dryRun };
    await options.confirm?.(`Record ${version}_${m.name}'s current checksum on ${config.name} (its objects match the file)?`);

    const startedAt = now().toISOString();
    const item: ItemRecord = { id: 'migrate.repair', kind: 'step', phase: 'database', title: `Realign the recorded checksum of ${version}_${m.name} with its file`, state: 'running', attempts: 1, startedAt };
    const record: RunRecord = {
      schema: 'routergpt.run/v1',
      id: newRunId('repair', now()),
      kind: 'repair',
      env: config.name,
      checklist: { name: 'migrate repair', file: '(none: routergpt migrate repair)' },
      status: 'running',
      startedAt,
      startedBy: defaultOperator(),
      host: os.hostname(),
      pid: process.pid,
      resumes: [],
      items: [item],
    };
    await ensureJournalTable(db.pool);
    const journal = new Journal(runsDir(config.stateDir.value, config.name), record, db.pool, options.onWarning);
    await journal.save();
    try {
      const result = await repairMigration(deps, { version });
      Object.assign(item, {
        state: result.outcome === 'repaired' ? 'done' : 'skipped',
        summary: result.outcome === 'repaired' ? `recorded checksum of ${version} realigned with the file (${result.objectsChecked} objects checked)` : 'nothing to repair',
        outputs: { version, before: result.recordedChecksum, after: result.fileChecksum },
      });
      record.status = 'succeeded';
      return { env: config.name, ...result, runId: record.id, journalFile: journal.file };
    } catch (error) {
      Object.assign(item, { state: 'failed', summary: (error as Error).message.split('\n')[0], errorKind: (error as Error).name });
      record.status = error instanceof CancelledError ? 'cancelled' : 'failed';
      record.error = (error as Error).message;
      throw error;
    } finally {
      const finishedAt = now();
      item.finishedAt = record.finishedAt = finishedAt.toISOString();
      item.durationMs = finishedAt.getTime() - Date.parse(startedAt);
      await journal.save();
    }
  }, { poolSize: 3, applicationName: 'routergpt migrate repair' });
}
