import os from 'node:os';
import type { EnvironmentConfig } from '../../config/types.js';
import { withDatabase } from '../../db/connect.js';

export interface RouterFlag {
  env: string;
  enabled: boolean | null;
  previous?: boolean | null;
  updatedBy?: string | null;
  updatedAt?: string | null;
}

export async function setRouterFlag(config: EnvironmentConfig, enabled: boolean): Promise<RouterFlag & { enabled: boolean }> {
  return withDatabase(config, async (db) => {
    const { rows } = await db.pool.query<{ previous: boolean | null }>(
      `WITH prev AS (SELECT enabled FROM feature_flags WHERE key = 'router_gpt')
       INSERT INTO feature_flags (key, enabled, updated_at, updated_by) VALUES ('router_gpt', $1, now(), $2)
       ON CONFLICT (key) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now(), updated_by = EXCLUDED.updated_by
       RETURNING (SELECT enabled FROM prev) AS previous`,
      [enabled, `${os.userInfo().username} via routergpt router`],
    );
    return { env: config.name, enabled, previous: rows[0]?.previous ?? null };
  }, { poolSize: 1, applicationName: 'routergpt router' });
}

export async function readRouterFlag(config: EnvironmentConfig): Promise<RouterFlag> {
  return withDatabase(config, async (db) => {
    const { rows } = await db.pool.query<{ enabled: boolean; updated_by: string | null; updated_at: Date }>(`SELECT enabled, updated_by, updated_at FROM feature_flags WHERE key = 'router_gpt'`);
    const row = rows[0];
    return { env: config.name, enabled: row?.enabled ?? null, updatedBy: row?.updated_by ?? null, updatedAt: row?.updated_at?.toISOString() ?? null };
  }, { poolSize: 1, applicationName: 'routergpt router' });
}
