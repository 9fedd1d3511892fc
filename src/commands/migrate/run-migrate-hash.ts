import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadMigrations } from '../../db/migrator/files.js';
import { computeSum, formatSum, readSum, SUM_FILE, verifySum, type SumProblem } from '../../db/migrator/sum.js';

export { SUM_MISMATCH_HINT } from '../../db/migrator/sum.js';

export interface MigrateHashOptions {
  migrationsDir: string;
  /** Only verify: write nothing, report the problems. */
  check: boolean;
}

export interface SumChange {
  file: string;
  change: 'added' | 'updated' | 'removed';
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
  /** Check mode: every way the folder differs from the sum file (empty: it matches). */
  problems: SumProblem[];
}

/**
 * `migrate hash`: pin the folder's files in routergpt.sum (only a valid folder: loadMigrations
 * refuses gaps, duplicates and strays first), or with `check` verify it, changing nothing.
 */
export function runMigrateHash({ migrationsDir, check }: MigrateHashOptions): MigrateHashResult {
  const sumFile = path.join(migrationsDir, SUM_FILE);
  if (check) {
    const problems = verifySum(migrationsDir);
    return { sumFile, files: readSum(migrationsDir)?.files.length ?? 0, changes: [], written: false, problems };
  }
  loadMigrations(migrationsDir);
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
  if (!upToDate) writeFileSync(sumFile, text);
  return { sumFile, files: sum.files.length, changes, written: !upToDate, problems: [] };
}
