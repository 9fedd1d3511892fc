/**
 * Which schema the server runs against, for /health: `applied` is the newest version recorded
 * in the migrations table, `expected` the newest migration this code ships (the migrations
 * folder it was started with, read once at start-up). Rolling migrations back without the code,
 * or deploying code before its migration, leaves applied < expected: the code may use a column
 * or view that is not there, so /health answers 503 `schema_behind`. applied > expected is older
 * code on a newer schema (expand/contract): fine, and reported as `ahead`.
 *
 * The table is read at most once per `ttlMs` (1 s) per server, and a burst of probes when the
 * cache expires shares one query (like the feature flag, src/server/flags.ts): /health is
 * benchmarked, and a second round trip per probe would halve it.
 */
import { loadMigrations } from '../db/migrator/files.js';
import { MIGRATIONS_TABLE } from '../db/migrator/migrator.js';
import type { Queryable } from '../db/pool.js';

/** The `schema` field of /health. */
export interface SchemaReport {
  /** Newest version in the migrations table; null when none is recorded (or there is no table). */
  applied: string | null;
  /** Newest version in the code's migrations folder; null when it ships none. */
  expected: string | null;
  /** The database is newer than the code. */
  ahead: boolean;
}

export interface SchemaStatus {
  readonly expected: string | null;
  /** The report, or undefined when the migrations table could not be read (database trouble: /health's ping says why). */
  report(): Promise<SchemaReport | undefined>;
  /** `{report}` when it was read within the TTL (no read needed), else undefined: /health takes it without a promise. */
  fresh(): { report: SchemaReport | undefined } | undefined;
}

export interface SchemaStatusOptions {
  db: Queryable;
  expected: string | null;
  ttlMs?: number;
  /** Give up on a read after this long (the database hangs: the ping reports it). */
  timeoutMs?: number;
  now?: () => number;
  onError?: (error: unknown) => void;
}

/** The newest migration the code in `migrationsDir` ships. Throws the migrator's ConfigError on a missing or broken folder. */
export function expectedSchemaVersion(migrationsDir: string): string | null {
  return loadMigrations(migrationsDir).at(-1)?.version ?? null;
}

// Versions are digit strings (NNN, at least three digits): compare them as numbers, none lowest.
function rank(version: string | null): number {
  return version === null ? -1 : Number(version);
}

export function schemaReport(applied: string | null, expected: string | null): SchemaReport {
  return { applied, expected, ahead: rank(applied) > rank(expected) };
}

/** The code needs a migration the database does not have. */
export function isSchemaBehind(report: SchemaReport): boolean {
  return rank(report.applied) < rank(report.expected);
}

/** "the running code needs migration 009, the database is at 008" */
export function describeSchemaBehind(report: SchemaReport): string {
  const at = report.applied === null ? 'the database has no migration applied' : `the database is at ${report.applied}`;
  return `the running code needs migration ${report.expected ?? 'none'}, ${at}`;
}

const UNDEFINED_TABLE = '42P01';

async function readAppliedVersion(db: Queryable): Promise<string | null> {
  try {
    // Longest first, then highest: numeric order for digit strings of any width.
    const { rows } = await db.query<{ version: string }>(`SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY length(version) DESC, version DESC LIMIT 1`);
    return rows[0]?.version ?? null;
  } catch (error) {
    // The migrator creates the table on its first run: no table, nothing applied.
    if ((error as { code?: string }).code === UNDEFINED_TABLE) return null;
    throw error;
  }
}

export function createSchemaStatus({ db, expected, ttlMs = 1000, timeoutMs = 2000, now = Date.now, onError }: SchemaStatusOptions): SchemaStatus {
  let cached: { at: number; report: SchemaReport | undefined } | undefined;
  let inflight: Promise<SchemaReport | undefined> | undefined;

  async function read(): Promise<SchemaReport | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the migrations table did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    let report: SchemaReport | undefined;
    try {
      report = schemaReport(await Promise.race([readAppliedVersion(db), timeout]), expected);
    } catch (error) {
      onError?.(error);
      // Unknown rather than a stale answer: right after a rollback the old one is wrong.
      report = undefined;
    } finally {
      clearTimeout(timer);
    }
    cached = { at: now(), report };
    return report;
  }

  const fresh = () => (cached && now() - cached.at < ttlMs ? cached : undefined);
  return {
    expected,
    fresh,
    async report() {
      const known = fresh();
      if (known) return known.report;
      inflight ??= read().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
  };
}
