import type { Queryable } from './pool.js';

/**
 * The runtime feature flag the API reads (src/server/flags.ts) and the CLI flips
 * (`rollback --tier toggle`, `router enable|disable`, the restore that keeps it off).
 */
export const ROUTER_FLAG_KEY = 'router_gpt';

export interface RouterFlagRow {
  enabled: boolean;
  updatedBy: string | null;
  updatedAt: Date | null;
}

/** The flag row, or undefined when there is none (then the config value alone decides). */
export async function readRouterFlag(db: Queryable): Promise<RouterFlagRow | undefined> {
  const { rows } = await db.query<{ enabled: boolean; updated_by: string | null; updated_at: Date | null }>('SELECT enabled, updated_by, updated_at FROM feature_flags WHERE key = $1', [ROUTER_FLAG_KEY]);
  const row = rows[0];
  return row ? { enabled: row.enabled, updatedBy: row.updated_by, updatedAt: row.updated_at } : undefined;
}

/** Set the flag (creating the row if needed); returns what it was before (null: no row). */
export async function writeRouterFlag(db: Queryable, enabled: boolean, by: string): Promise<boolean | null> {
  const { rows } = await db.query<{ previous: boolean | null }>(
    `WITH prev AS (SELECT enabled FROM feature_flags WHERE key = $1)
     INSERT INTO feature_flags (key, enabled, updated_at, updated_by) VALUES ($1, $2, now(), $3)
     ON CONFLICT (key) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now(), updated_by = EXCLUDED.updated_by
     RETURNING (SELECT enabled FROM prev) AS previous`,
    [ROUTER_FLAG_KEY, enabled, by],
  );
  return rows[0]?.previous ?? null;
}
