import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import type { TableSummary } from './checksums.js';
import type { Ledger } from './ledger.js';

/**
 * `<backup>.manifest.json`, written next to every backup: what was dumped, from which server,
 * with which tool, the backup's checksum and the per-table content checksums a restore is
 * compared with.
 */
export type BackupFormat = 'custom' | 'directory' | 'plain';

export interface BackupManifest {
  manifestVersion: 1;
  /** The backup, relative to the manifest's directory (file, or folder for `directory`). */
  file: string;
  format: BackupFormat;
  /** What was backed up: "embedded" or the masked URL. */
  source: string;
  sourceKind: 'embedded' | 'url';
  label: string;
  sizeBytes: number;
  /** SHA-256 of the file; for `directory`, of the sorted "name sha256" lines in `files`. */
  sha256: string;
  /** Per-file SHA-256 (directory format only). */
  files?: Record<string, string>;
  serverVersion: string;
  serverVersionNum: number;
  /** "15.20", or "pglite-tools 0.4.8 (pg_dump 18)" for the embedded database. */
  pgDumpVersion: string;
  pgDumpMajor: number;
  /** Row count per table. */
  tables: Record<string, number>;
  /** md5 of each table's ordered rows (see checksums.ts). */
  perTableChecksums: Record<string, string>;
  /** What was in the tables people write to, row by row (ledger.ts): a restore's loss preview. */
  ledger?: Ledger;
  createdAt: string;
  durationMs: number;
  /** The environment it was taken of (`--env`); older manifests have none (then `source` tells). */
  env?: string;
  /** The last verification of this backup: by the backup step, or `routergpt backup --verify`. */
  verification?: BackupVerification;
  /** The off-host copy (`backup.copy_command`), when one is configured (copy.ts). */
  copy?: BackupCopy;
}

export interface BackupVerification {
  status: 'pass' | 'fail';
  at: string;
  /** What verified it: `db.backup` (the step's verify) or `routergpt backup --verify`. */
  by: string;
  summary: string;
  restoreTested?: boolean;
}

/** What the off-host copy of a backup did (recorded in its manifest, read by `backup.age`). */
export interface BackupCopy {
  at: string;
  /** The copy command's exit code (null: it did not end — timed out, or could not start). */
  exitCode: number | null;
  /** match: the read-back SHA-256 is the manifest's; mismatch; unchecked: no read_back_command (or the copy failed). */
  readBack: 'match' | 'mismatch' | 'unchecked';
  /** The SHA-256 the read-back command printed. */
  readBackSha256?: string;
  /** One line: what happened, for the step's details and `backup --list`. */
  summary: string;
}

export const copyIsGood = (c: BackupCopy | undefined) => c !== undefined && c.exitCode === 0 && c.readBack !== 'mismatch';

export const MANIFEST_SUFFIX = '.manifest.json';

export function manifestPathFor(backupPath: string): string {
  return `${backupPath}${MANIFEST_SUFFIX}`;
}

/** The backup's absolute path from its manifest's location. */
export function backupPathOf(manifestFile: string, manifest: BackupManifest): string {
  return path.resolve(path.dirname(manifestFile), manifest.file);
}

export function summariesOf(manifest: BackupManifest): Record<string, TableSummary> {
  const out: Record<string, TableSummary> = {};
  for (const [name, md5] of Object.entries(manifest.perTableChecksums)) out[name] = { rows: manifest.tables[name] ?? 0, md5 };
  return out;
}

/**
 * What a user names a backup by — the dump, its folder (directory format) or its manifest — to
 * the manifest path. Whether that exists is for the caller to say.
 */
export function manifestFileOf(given: string): string {
  return given.endsWith(MANIFEST_SUFFIX) ? given : manifestPathFor(given.replace(/[/\\]+$/, ''));
}

/** Record the latest verification in the manifest (the backup's checksum does not cover the manifest). */
export function recordVerification(manifestFile: string, verification: BackupVerification): void {
  const manifest = readManifest(manifestFile);
  writeManifest(manifestFile, { ...manifest, verification });
}

export function writeManifest(manifestFile: string, manifest: BackupManifest): void {
  // Written aside and renamed: a process killed mid-write (a verification recorded after the fact)
  // never leaves a half manifest, which would make a good backup unusable.
  // 0600 like the dump it describes (its table names and row counts are the owner's business).
  const aside = `${manifestFile}.${process.pid}.tmp`;
  try {
    const fd = openSync(aside, 'w', 0o600);
    try {
      // writeFileSync loops until every byte is written (writeSync may take only part on a full volume).
      writeFileSync(fd, `${JSON.stringify(manifest, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(aside, manifestFile);
  } catch (error) {
    // A full volume leaves no half manifest beside the backup.
    rmSync(aside, { force: true });
    throw error;
  }
}

export function readManifest(manifestFile: string): BackupManifest {
  if (!existsSync(manifestFile)) {
    throw new ConfigError(`Backup manifest not found: ${manifestFile}`, 'Pass the `.manifest.json` written next to the backup (see `ls` of the backup directory).');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch (error) {
    throw new ConfigError(`Backup manifest ${manifestFile} is not valid JSON: ${(error as Error).message}`, 'The manifest was damaged; take a new backup with `routergpt backup --env ENV`.');
  }
  const m = parsed as Partial<BackupManifest>;
  const missing = (['file', 'format', 'sha256', 'perTableChecksums', 'tables'] as const).filter((k) => m[k] === undefined);
  if (m.manifestVersion !== 1 || missing.length > 0) {
    throw new ConfigError(`Backup manifest ${manifestFile} is not a routergpt manifest (missing: ${missing.join(', ') || 'manifestVersion'}).`, 'Pass a manifest written by routergpt.');
  }
  return m as BackupManifest;
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Per-file hashes of a directory-format dump, and one hash over them. */
export async function sha256Directory(dir: string): Promise<{ sha256: string; files: Record<string, string>; sizeBytes: number }> {
  const files: Record<string, string> = {};
  let sizeBytes = 0;
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const stat = statSync(full);
    if (!stat.isFile()) continue;
    sizeBytes += stat.size;
    files[name] = await sha256File(full);
  }
  const sha256 = createHash('sha256')
    .update(Object.entries(files).map(([name, sha]) => `${name} ${sha}\n`).join(''))
    .digest('hex');
  return { sha256, files, sizeBytes };
}
