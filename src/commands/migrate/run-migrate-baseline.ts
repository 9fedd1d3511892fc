import os from 'node:os';
import { withDatabase } from '../../db/connect.js';
import { baselineMigrations, verifyBaselineTarget, type BaselineResult } from '../../db/migrator/baseline.js';
import { CancelledError } from '../../errors.js';
import { defaultOperator } from '../../runbook/executor.js';
import { ensureJournalTable, Journal, newRunId, runsDir, type ItemRecord, type RunRecord } from '../../runbook/journal.js';
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

    const startedAt = now().toISOString();
    const item: ItemRecord = { id: 'migrate.baseline', kind: 'step', phase: 'database', title: `Record migrations up to ${to} as applied without running them`, state: 'running', attempts: 1, startedAt };
    const record: RunRecord = {
      schema: 'routergpt.run/v1',
      id: newRunId('baseline', now()),
      kind: 'baseline',
      env: config.name,
      checklist: { name: 'migrate baseline', file: '(none: routergpt migrate baseline)' },
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
      const result = await baselineMigrations({ ...deps, appliedBy: `routergpt baseline ${record.id}` }, { to });
      Object.assign(item, {
        state: result.recorded.length > 0 ? 'done' : 'skipped',
        summary: result.recorded.length > 0 ? `recorded ${range(result.recorded)} as applied (objects checked)` : `already at ${result.before}`,
        outputs: { to, before: result.before ?? '000', recorded: result.recorded.map((r) => `${r.version}_${r.name}`) },
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
  }, { poolSize: 2, applicationName: 'routergpt migrate baseline' });
}
