import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import { backupPathOf, MANIFEST_SUFFIX, readManifest } from './manifest.js';

export interface BackupEntry {
  manifestFile: string;
  file: string;
  createdAt: string;
  label: string;
}

/** The backups in a directory (those with a routergpt manifest), newest first. */
export function listBackups(dir: string): BackupEntry[] {
  if (!existsSync(dir)) return [];
  const entries: BackupEntry[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(MANIFEST_SUFFIX)) continue;
    const manifestFile = path.join(dir, name);
    try {
      const manifest = readManifest(manifestFile);
      entries.push({ manifestFile, file: backupPathOf(manifestFile, manifest), createdAt: manifest.createdAt ?? statSync(manifestFile).mtime.toISOString(), label: manifest.label });
    } catch {
      // Not ours, or damaged: retention never deletes what it cannot identify.
    }
  }
  return entries.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.manifestFile.localeCompare(a.manifestFile));
}

export interface RetentionResult {
  kept: BackupEntry[];
  deleted: BackupEntry[];
}

/**
 * Keep the newest `keep` backups in `dir` and delete the older ones (backup and manifest).
 * Only files that have a routergpt manifest are considered; anything else is left alone, and so
 * is every manifest in `protect` (the backup a rollback is about to restore).
 */
export function applyRetention(dir: string, keep: number, protect: readonly string[] = []): RetentionResult {
  if (!Number.isInteger(keep) || keep < 1) {
    throw new ConfigError(`Backup retention must be a whole number of at least 1 (got ${keep}).`, 'Set backup.retention in routergpt.config.yaml.');
  }
  const kept = new Set(protect.map((p) => path.resolve(p)));
  const all = listBackups(dir).filter((e) => !kept.has(path.resolve(e.manifestFile)));
  const deleted = all.slice(keep);
  for (const entry of deleted) {
    rmSync(entry.file, { recursive: true, force: true });
    rmSync(entry.manifestFile, { force: true });
  }
  return { kept: all.slice(0, keep), deleted };
}
