import { OperationError } from '../../errors.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { loadMigrations } from './files.js';
import { getStatus } from './migrator.js';
import type { Pool } from '../pool.js';

/** Refuse to work on a database whose schema is behind (or ahead of) the migrations folder. */
export async function verifySchemaCurrent(pool: Pool, config: EnvironmentConfig): Promise<void> {
  const migrations = loadMigrations(config.migrationsDir.value);
  const status = await getStatus(pool, migrations);
  if (status.pending.length > 0) {
    throw new OperationError(
      `The ${config.name} database has ${status.pending.length} pending migration(s) (${status.pending.map((p) => p.version).join(', ')}).`,
      `Run \`routergpt migrate up --env ${config.name}\` first.`,
    );
  }
}
