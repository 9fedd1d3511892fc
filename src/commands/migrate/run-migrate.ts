import os from 'node:os';
import type { EnvironmentConfig } from '../../config/types.js';
import { withDatabase } from '../../db/connect.js';
import { loadMigrations } from '../../db/migrator/files.js';
import { getStatus, migrateDown, migrateUp, planUp, verifyNoEdits, type MigrateResult, type MigrationEvent, type MigrationStatus, type PlanGroup } from '../../db/migrator/migrator.js';

export interface MigrateCommonOptions {
  config: EnvironmentConfig;
  lockWaitMs: number;
  onEvent?: (event: MigrationEvent) => void;
}

export async function runMigrateStatus({ config }: { config: EnvironmentConfig }): Promise<MigrationStatus & { env: string; database: string }> {
  const migrations = loadMigrations(config.migrationsDir.value);
  return withDatabase(config, async (db) => ({ env: config.name, database: db.display, ...(await getStatus(db.pool, migrations)) }), { poolSize: 1, applicationName: 'routergpt migrate status' });
}

export async function runMigratePlan({ config, to }: { config: EnvironmentConfig; to?: string }): Promise<{ env: string; groups: PlanGroup[] }> {
  const migrations = loadMigrations(config.migrationsDir.value);
  return withDatabase(config, async (db) => {
    const status = await getStatus(db.pool, migrations);
    verifyNoEdits(status);
    return { env: config.name, groups: planUp(migrations, status, to) };
  }, { poolSize: 1, applicationName: 'routergpt migrate plan' });
}

function migratorDeps(options: MigrateCommonOptions) {
  return {
    migrations: loadMigrations(options.config.migrationsDir.value),
    lockTimeoutMs: options.config.lockTimeoutMs.value,
    lockWaitMs: options.lockWaitMs,
    appliedBy: `${os.userInfo().username}@${os.hostname()}`,
    onEvent: options.onEvent,
  };
}

export async function runMigrateUp(options: MigrateCommonOptions & { to?: string }): Promise<MigrateResult> {
  const deps = migratorDeps(options);
  return withDatabase(options.config, (db) => migrateUp({ ...deps, pool: db.pool }, { to: options.to }), { poolSize: 2, applicationName: 'routergpt migrate up' });
}

export async function runMigrateDown(options: MigrateCommonOptions & { to: string }): Promise<MigrateResult> {
  const deps = migratorDeps(options);
  return withDatabase(options.config, (db) => migrateDown({ ...deps, pool: db.pool }, { to: options.to }), { poolSize: 2, applicationName: 'routergpt migrate down' });
}
