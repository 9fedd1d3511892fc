import os from 'node:os';
import type { EnvironmentConfig } from '../../config/types.js';
import { withDatabase } from '../../db/connect.js';
import { readRouterFlag, writeRouterFlag } from '../../db/router-flag.js';

export interface RouterFlag {
  env: string;
  enabled: boolean | null;
  previous?: boolean | null;
  updatedBy?: string | null;
  updatedAt?: string | null;
}

export async function setRouterFlag(config: EnvironmentConfig, enabled: boolean): Promise<RouterFlag & { enabled: boolean }> {
  return withDatabase(config, async (db) => ({ env: config.name, enabled, previous: await writeRouterFlag(db.pool, enabled, `${os.userInfo().username} via routergpt router`) }), { poolSize: 1, applicationName: 'routergpt router' });
}

export async function readRouterFlagOf(config: EnvironmentConfig): Promise<RouterFlag> {
  return withDatabase(config, async (db) => {
    const row = await readRouterFlag(db.pool);
    return { env: config.name, enabled: row?.enabled ?? null, updatedBy: row?.updatedBy ?? null, updatedAt: row?.updatedAt?.toISOString() ?? null };
  }, { poolSize: 1, applicationName: 'routergpt router' });
}
