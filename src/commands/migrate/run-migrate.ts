import os from 'node:os';
import type { EnvironmentConfig } from '../../config/types.js';
import { withDatabase } from '../../db/connect.js';
import { detectUnmanaged, refuseUnmanaged, type UnmanagedSchema } from '../../db/migrator/baseline.js';
import { loadVerifiedMigrations } from '../../db/migrator/files.js';
import { getStatus, migrateDown, migrateUp, planUp, requireTarget, verifyNoEdits, type MigrateResult, type MigrationEvent, type MigrationStatus, type PlanGroup } from '../../db/migrator/migrator.js';

/** Every core checks the folder against routergpt.sum before it connects; `onWarning` hears "no sum file". */
export interface MigrateFilesOptions {
  config: EnvironmentConfig;
  onWarning?: (line: string) => void;
}

export interface MigrateCommonOptions extends MigrateFilesOptions {
  lockWaitMs: number;
  onEvent?: (event: MigrationEvent) => void;
}

const ignore = (): void => {};

export function migrationsOf({ config, onWarning }: MigrateFilesOptions) {
  return loadVerifiedMigrations(config.migrationsDir.value, onWarning ?? ignore);
}

export interface MigrateStatusResult extends MigrationStatus {
  env: string;
  database: string;
  /** Tables of the migrations exist but none is recorded: adopt it with `migrate baseline`. */
  unmanaged?: UnmanagedSchema;
}

export async function runMigrateStatus(options: MigrateFilesOptions): Promise<MigrateStatusResult> {
  const { config } = options;
  const migrations = migrationsOf(options);
  return withDatabase(config, async (db) => {
    const status = await getStatus(db.pool, migrations);
    const unmanaged = status.applied.length === 0 ? await detectUnmanaged(db.pool, migrations) : undefined;
    return { env: config.name, database: db.display, ...status, ...(unmanaged ? { unmanaged } : {}) };
  }, { poolSize: 1, applicationName: 'routergpt migrate status' });
}

export async function runMigratePlan(options: MigrateFilesOptions & { to?: string }): Promise<{ env: string; groups: PlanGroup[] }> {
  const { config, to } = options;
  const migrations = migrationsOf(options);
  requireTarget(migrations, to, 'up');
  return withDatabase(config, async (db) => {
    const status = await getStatus(db.pool, migrations);
    verifyNoEdits(status);
    return { env: config.name, groups: planUp(migrations, status, to) };
  }, { poolSize: 1, applicationName: 'routergpt migrate plan' });
}

function migratorDeps(options: MigrateCommonOptions) {
  return {
    migrations: migrationsOf(options),
    lockTimeoutMs: options.config.lockTimeoutMs.value,
    lockWaitMs: options.lockWaitMs,
    appliedBy: `${os.userInfo().username}@${os.hostname()}`,
    onEvent: options.onEvent,
  };
}

export async function runMigrateUp(options: MigrateCommonOptions & { to?: string }): Promise<MigrateResult> {
  const deps = migratorDeps(options);
  // An unmanaged schema is refused under the lock: 001 would only fail on "relation shops already exists".
  requireTarget(deps.migrations, options.to, 'up');
  const beforeApply = refuseUnmanaged(deps.migrations, options.config.name);
  // To the latest version on the embedded database: a fresh state is copied from the cached
  // pre-migrated template (its migrations claimed by this run) instead of applying every file.
  const toLatest = options.to === undefined || options.to === deps.migrations.at(-1)?.version;
  const templateVariant = toLatest && options.config.database.value.kind === 'embedded' ? (await import('../../db/embedded-premigrated.js')).premigratedTemplate(deps.migrations, { lockTimeoutMs: deps.lockTimeoutMs }) : undefined;
  return withDatabase(options.config, (db) => migrateUp({ ...deps, pool: db.pool, beforeApply }, { to: options.to }), { poolSize: 2, applicationName: 'routergpt migrate up', embeddedWaitMs: options.lockWaitMs, ...(templateVariant ? { templateVariant } : {}) });
}

export async function runMigrateDown(options: MigrateCommonOptions & { to: string }): Promise<MigrateResult> {
  const deps = migratorDeps(options);
  requireTarget(deps.migrations, options.to, 'down');
  return withDatabase(options.config, (db) => migrateDown({ ...deps, pool: db.pool }, { to: options.to }), { poolSize: 2, applicationName: 'routergpt migrate down', embeddedWaitMs: options.lockWaitMs });
}
