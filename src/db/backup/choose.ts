import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, UsageError } from '../../errors.js';
import type { Database } from '../connect.js';
import { backupPathOf, manifestFileOf, readManifest, type BackupManifest } from './manifest.js';
import { verifyBackup } from './verify.js';

export interface ChosenBackup {
  manifestFile: string;
  file: string;
  manifest: BackupManifest;
}

/**
 * What a user names a backup by (the dump, its folder, or its `.manifest.json`) to a routergpt
 * backup — or exit 2: the file is missing, or it has no routergpt manifest.
 */
export function resolveBackupFile(given: string, cwd: string, env: string): ChosenBackup {
  const full = path.resolve(cwd, given);
  const list = `\`routergpt backup --list --env ${env}\``;
  if (!existsSync(full)) throw new UsageError(`Backup ${given} does not exist.`, `Pass a backup listed by ${list} (the dump or its .manifest.json); nothing was changed.`);
  const manifestFile = manifestFileOf(full);
  if (!existsSync(manifestFile)) throw new ConfigError(`${given} is not a routergpt backup: there is no ${path.basename(manifestFile)} next to it.`, `Pass a backup written by routergpt (listed by ${list}); nothing was changed.`);
  const manifest = readManifest(manifestFile);
  return { manifestFile, file: backupPathOf(manifestFile, manifest), manifest };
}

/** "embedded (/x/.routergpt/local, served by pid 12)" and "embedded (/x/.routergpt/local)" are one database. */
function sameSource(a: string, b: string): boolean {
  const plain = (s: string) => s.replace(/, served by pid \d+\)$/, ')');
  return plain(a) === plain(b);
}

/**
 * `rollback --tier restore --backup FILE`, checked before anything runs (exit 2, nothing changed):
 * the backup exists, is routergpt's, was taken of this environment, can go into this database,
 * and still matches its manifest (SHA-256, archive, ledger) — and its last verification did not fail.
 */
export async function chooseBackupToRestore(given: string, options: { cwd: string; env: string; db: Pick<Database, 'kind' | 'display'> }): Promise<ChosenBackup> {
  const chosen = resolveBackupFile(given, options.cwd, options.env);
  const { manifest } = chosen;
  const list = `\`routergpt backup --list --env ${options.env}\``;
  const other = manifest.env ? manifest.env !== options.env : manifest.sourceKind !== options.db.kind || !sameSource(manifest.source, options.db.display);
  if (other) {
    throw new ConfigError(
      `Backup ${given} belongs to another environment: it was taken of ${manifest.env ? `environment ${manifest.env}` : manifest.source}, and this rollback is of ${options.env} (${options.db.display}).`,
      `Pass a backup of ${options.env} (listed by ${list}), or run the rollback with --env ${manifest.env ?? 'ENV'} of that backup; nothing was changed.`,
    );
  }
  if (manifest.format !== 'plain' && options.db.kind === 'embedded') {
    throw new ConfigError(`Backup ${given} is a pg_dump archive of a PostgreSQL server; it cannot be restored into the embedded database.`, `Pass a backup of the embedded database (listed by ${list}); nothing was changed.`);
  }
  if (manifest.verification?.status === 'fail') {
    throw new UsageError(
      `Backup ${given} is not verified: its verification failed on ${manifest.verification.at.slice(0, 19)} (${manifest.verification.summary}).`,
      `Check it again with \`routergpt backup --verify ${given}\`, or pick another backup (${list}); nothing was changed.`,
    );
  }
  const verified = await verifyBackup(chosen.manifestFile);
  if (!verified.ok) {
    throw new UsageError(`Backup ${given} is not verified: ${verified.problem}.`, `Pick another backup (${list}), or take a new one with \`routergpt backup --env ${options.env}\`; nothing was changed.`);
  }
  return chosen;
}
