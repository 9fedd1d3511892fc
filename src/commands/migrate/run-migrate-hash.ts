import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadMigrations } from '../../db/migrator/files.js';
import { computeSum, formatSum, readSum, SUM_FILE, verifySum, type SumProblem } from '../../db/migrator/sum.js';
import { buildSnapshot, formatSnapshot, readSnapshot, REGENERATE_HINT, SNAPSHOT_FILE, staleSnapshotReason } from '../../db/schema/snapshot.js';
import { ConfigError, UsageError } from '../../errors.js';

export { SUM_MISMATCH_HINT } from '../../db/migrator/sum.js';
export { REGENERATE_HINT } from '../../db/schema/snapshot.js';

export interface MigrateHashOptions {
  migrationsDir: string;
  /** Only verify: write nothing, report the problems. */
  check: boolean;
  /** A throwaway PostgreSQL server to build migrations/routergpt.schema.json on (a scratch database, dropped after). */
  schemaFrom?: string;
  onProgress?: (line: string) => void;
}

export interface SumChange {
  file: string;
  change: 'added' | 'updated' | 'removed';
}

export interface SchemaProblem {
  kind: 'schema-missing' | 'schema-stale' | 'schema-malformed';
  message: string;
}

export interface MigrateHashResult {
  /** The sum file's path. */
  sumFile: string;
  /** How many migration files the sum pins. */
  files: number;
  /** Hash mode: the lines that changed (empty when the file was up to date). */
  changes: SumChange[];
  /** Hash mode: whether the sum file was (re)written. */
  written: boolean;
  /** The schema snapshot's path. */
  schemaFile: string;
  /** Hash mode with --schema-from: whether the snapshot was (re)written, and how many objects it holds. */
  schemaWritten?: boolean;
  schemaObjects?: number;
  /** Hash mode without --schema-from: why the committed snapshot no longer fits the files (a warning, exit 0). */
  schemaWarning?: string;
  /** Check mode: every way the folder differs from the sum file or the snapshot (empty: both match). */
  problems: Array<SumProblem | SchemaProblem>;
}

/** What is wrong with the committed snapshot for the folder as it is now (none: it fits). */
function schemaProblems(migrationsDir: string): SchemaProblem[] {
  try {
    const snapshot = readSnapshot(migrationsDir);
    if (!snapshot) return [{ kind: 'schema-missing', message: `${migrationsDir} has no ${SNAPSHOT_FILE}` }];
    const stale = staleSnapshotReason(migrationsDir, snapshot);
    return stale ? [{ kind: 'schema-stale', message: stale }] : [];
  } catch (error) {
    if (error instanceof ConfigError) return [{ kind: 'schema-malformed', message: error.message }];
    throw error;
  }
}

export function verifySchemaFromUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !/^postgres(ql)?:$/.test(url.protocol)) {
    throw new UsageError(`--schema-from expects the URL of a throwaway PostgreSQL server, postgres://user@host:port/db (got "${value.trim() === '' ? value : '(not a postgres:// URL)'}").`, 'Pass a test server, e.g. `--schema-from "$TEST_DATABASE_URL"`: a scratch database is created there, migrated, read and dropped.');
  }
  return value;
}

/**
 * `migrate hash`: pin the folder's files in routergpt.sum (only a valid folder: loadMigrations
 * refuses gaps, duplicates and strays first) and, with `schemaFrom`, rebuild the schema
 * snapshot on that throwaway server; with `check`, verify both, changing nothing.
 */
export async function runMigrateHash({ migrationsDir, check, schemaFrom, onProgress }: MigrateHashOptions): Promise<MigrateHashResult> {
  const sumFile = path.join(migrationsDir, SUM_FILE);
  const schemaFile = path.join(migrationsDir, SNAPSHOT_FILE);
  if (check && schemaFrom !== undefined) throw new UsageError('--check and --schema-from do not go together: --check only verifies, --schema-from rewrites the schema snapshot.', 'Run `routergpt migrate hash --schema-from URL` to rewrite, then `routergpt migrate hash --check`.');
  if (check) {
    const sumProblems = verifySum(migrationsDir);
    // Without a sum there is no set hash to hold the snapshot to.
    const problems = sumProblems.some((p) => p.kind === 'sum-missing') ? sumProblems : [...sumProblems, ...schemaProblems(migrationsDir)];
    return { sumFile, files: readSum(migrationsDir)?.files.length ?? 0, changes: [], written: false, schemaFile, problems };
  }
  const migrations = loadMigrations(migrationsDir);
  const sum = computeSum(migrationsDir);
  const before = readSum(migrationsDir);
  const old = new Map(before?.files.map((f) => [f.file, f.hash]));
  const now = new Set(sum.files.map((f) => f.file));
  const changes: SumChange[] = [
    ...sum.files.filter((f) => old.get(f.file) !== f.hash).map((f) => ({ file: f.file, change: old.has(f.file) ? ('updated' as const) : ('added' as const) })),
    ...[...old.keys()].filter((f) => !now.has(f)).map((file) => ({ file, change: 'removed' as const })),
  ].sort((a, b) => a.file.localeCompare(b.file));
  const text = formatSum(sum);
  // A hand-edited or malformed sum file is rewritten even when no file line changed.
  const upToDate = before !== undefined && before.malformed.length === 0 && formatSum(before) === text;
  // Built before anything is written: a migration that fails leaves both files as they were.
  const snapshot = schemaFrom !== undefined ? await buildSnapshot({ serverUrl: schemaFrom, migrations, migrationsDir, onProgress }) : undefined;
  if (!upToDate) writeFileSync(sumFile, text);
  if (snapshot) {
    const schemaText = formatSnapshot(snapshot);
    const same = existsSync(schemaFile) && readFileSync(schemaFile, 'utf8') === schemaText;
    if (!same) writeFileSync(schemaFile, schemaText);
    return { sumFile, files: sum.files.length, changes, written: !upToDate, schemaFile, schemaWritten: !same, schemaObjects: Object.keys(snapshot.objects).length, problems: [] };
  }
  const warning = schemaProblems(migrationsDir)[0];
  return { sumFile, files: sum.files.length, changes, written: !upToDate, schemaFile, ...(warning ? { schemaWarning: `${warning.message}: ${REGENERATE_HINT}` } : {}), problems: [] };
}
