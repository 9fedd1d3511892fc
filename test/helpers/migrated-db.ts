import path from 'node:path';
import { loadMigrations } from '../../src/db/migrator/files.js';
import { migrateUp } from '../../src/db/migrator/migrator.js';
import { createPool, withTransaction, type Pool } from '../../src/db/pool.js';
import { seedDemo } from '../../src/db/seed.js';
import { REPO_ROOT } from './cli.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface MigratedDatabase extends TestDatabase {
  pool: Pool;
  close(): Promise<void>;
}

/** A fresh database on the test server with every migration applied (and the demo data, if asked). */
export async function createMigratedDatabase(options: { seed?: boolean; prefix?: string; poolSize?: number } = {}): Promise<MigratedDatabase> {
  const db = await createTestDatabase(options.prefix ?? 'chk');
  const pool = createPool({ connectionString: db.url, max: options.poolSize ?? 10 });
  await migrateUp({ pool, migrations: loadMigrations(path.join(REPO_ROOT, 'migrations')), lockTimeoutMs: 5000, lockWaitMs: 10_000 });
  if (options.seed) await withTransaction(pool, (client) => seedDemo(client));
  return {
    ...db,
    pool,
    close: async () => {
      await pool.end().catch(() => {});
      await db.drop();
    },
  };
}
