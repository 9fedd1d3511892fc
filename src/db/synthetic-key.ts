/**
 * The synthetic-traffic key kept in the database (migration 010: routergpt.synthetic_key), read
 * by the server at start and by every CLI that has the target database, so all of them agree
 * with no configuration. ROUTERGPT_SYNTHETIC_KEY, when set, wins over it (config.syntheticKey).
 * The key is a secret: never print it.
 */
import { registerSecret } from '../config/mask.js';
import type { EnvironmentConfig } from '../config/types.js';
import type { Queryable } from './pool.js';

/** Undefined table or schema (before 010), or no privilege on it: no key, not an error. */
const NO_KEY_CODES = new Set(['42P01', '3F000', '42501']);

export async function readSyntheticKey(db: Queryable): Promise<string | undefined> {
  try {
    const { rows } = await db.query<{ key: string }>('SELECT key FROM routergpt.synthetic_key LIMIT 1');
    const key = rows[0]?.key;
    registerSecret(key);
    return key || undefined;
  } catch (error) {
    if (NO_KEY_CODES.has((error as { code?: string }).code ?? '')) return undefined;
    throw error;
  }
}

export interface ResolvedSyntheticKey {
  key: string | undefined;
  /** Where it came from, for messages: "ROUTERGPT_SYNTHETIC_KEY (from the environment)", "routergpt.synthetic_key". */
  origin: string | undefined;
}

/** The key a CLI signs with: the variable, else the target database's, else none. */
export async function resolveSyntheticKey(config: EnvironmentConfig, db: Queryable | undefined): Promise<ResolvedSyntheticKey> {
  if (config.syntheticKey.value) return { key: config.syntheticKey.value, origin: config.syntheticKey.origin };
  if (!db) return { key: undefined, origin: undefined };
  try {
    const key = await readSyntheticKey(db);
    return { key, origin: key ? 'routergpt.synthetic_key in the target database' : undefined };
  } catch {
    return { key: undefined, origin: undefined };
  }
}

/** The one warning when routergpt's requests cannot be marked. */
export function unmarkedWarning(hasDatabase: boolean): string {
  return hasDatabase
    ? 'warning: requests are not marked synthetic — the target database has no routergpt.synthetic_key (migration 010 not applied?) and ROUTERGPT_SYNTHETIC_KEY is not set; they will count as real traffic'
    : 'warning: requests are not marked synthetic — there is no database to read the key from; set ROUTERGPT_SYNTHETIC_KEY (the key in routergpt.synthetic_key) or they will count as real traffic';
}
