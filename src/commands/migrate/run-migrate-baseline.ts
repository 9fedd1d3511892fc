import { withDatabase } from '../../db/connect.js';
import { baselineMigrations, verifyBaselineTarget, type BaselineResult } from '../../db/migrator/baseline.js';
import { journalOneStep } from '../../runbook/one-step-run.js';
import { migrationsOf, type MigrateCommonOptions } from './run-migrate.js';

export interface MigrateBaselineOptions extends MigrateCommonOptions {
  to: string;
  dryRun: boolean;
  /** Asked once the objects are checked and there is something to record; throws to refuse (CancelledError). */
  confirm?: (message: string) => Promise<void>;
  now?: () => Date;
}

export interface MigrateBaselineResult extends BaselineResult {
  env: string;
  /** The journaled run (not for a dry run, nor when there was nothing to do). */
  runId?: string;
  journalFile?: string;
}

const range = (recorded: BaselineResult['recorded']) => (recorded.length === 1 ? recorded[0]!.version : `${recorded[0]!.version}…${recorded[recorded.length - 1]!.version}`);

/**
 * `migrate baseline`: check (read-only), ask, then record under the lock — journaled as a run
 * of kind `baseline` with one item, so `routergpt status` shows who adopted the database when.
 * Nothing to do and refusals (a missing table or column) happen before the journal: nothing ran.
 */
export async function runMigrateBaseline(options: MigrateBaselineOptions): Promise<MigrateBaselineResult> {
  const { config, to } = options;
  const migrations = migrationsOf(options);
  verifyBaselineTarget(migrations, to);
  const now = options.now ?? (() => new Date());
  return withDatabase(config, async (db) => {
    const deps = { pool: db.pool, migrations, lockWaitMs: options.lockWaitMs, onEvent: options.onEvent };
    const preview = await baselineMigrations(deps, { to, dryRun: true });
    if (options.dryRun || preview.recorded.length === 0) return { env: config.name, ...preview, dryRun: options.dryRun };
    await options.confirm?.(`Record ${range(preview.recorded)} as applied on ${config.name} without running them?`);

    return journalOneStep(
      { kind: 'baseline', env: config.name, stateDir: config.stateDir.value, db: db.pool, itemId: 'migrate.baseline', title: `Record migrations up to ${to} as applied without running them`, command: 'migrate baseline', now, onWarning: options.onWarning, notify: config.notify.value },
      async (runId) => {
        const result = await baselineMigrations({ ...deps, appliedBy: `routergpt baseline ${runId}` }, { to });
        return {
          value: { env: config.name, ...result },
          state: result.recorded.length > 0 ? 'done' : 'skipped',
          summary: result.recorded.length > 0 ? `recorded ${range(result.recorded)} as applied (objects checked)` : `already at ${result.before}`,
          outputs: { to, before: result.before ?? '000', recorded: result.recorded.map((r) => `${r.version}_${r.name}`) },
        };
      },
    );
  }, { poolSize: 2, applicationName: 'routergpt migrate baseline', embeddedWaitMs: options.lockWaitMs });
}
