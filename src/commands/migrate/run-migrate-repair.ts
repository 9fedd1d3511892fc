import { withDatabase } from '../../db/connect.js';
import { repairMigration, verifyRepairTarget, type RepairResult } from '../../db/migrator/repair.js';
import { readSnapshot, staleSnapshotReason } from '../../db/schema/snapshot.js';
import { journalOneStep } from '../../runbook/one-step-run.js';
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

    return journalOneStep(
      { kind: 'repair', env: config.name, stateDir: config.stateDir.value, db: db.pool, itemId: 'migrate.repair', title: `Realign the recorded checksum of ${version}_${m.name} with its file`, command: 'migrate repair', now, onWarning: options.onWarning, notify: config.notify.value },
      async () => {
        const result = await repairMigration(deps, { version });
        return {
          value: { env: config.name, ...result },
          state: result.outcome === 'repaired' ? 'done' : 'skipped',
          summary: result.outcome === 'repaired' ? `recorded checksum of ${version} realigned with the file (${result.objectsChecked} objects checked)` : 'nothing to repair',
          outputs: { version, before: result.recordedChecksum, after: result.fileChecksum },
        };
      },
    );
  }, { poolSize: 3, applicationName: 'routergpt migrate repair', embeddedWaitMs: options.lockWaitMs });
}
