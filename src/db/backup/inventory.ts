import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { backupPathOf, readManifest, type BackupManifest } from './manifest.js';
import { listBackups } from './retention.js';
import { verifyBackup } from './verify.js';

/**
 * `routergpt backup --list`: every backup of an environment with its verification state. The
 * cheap check (always) is that the file is there with the size its manifest recorded; the full
 * one (`--verify`) is the SHA-256, the archive and the ledger (verify.ts).
 */
export interface BackupListing {
  manifestFile: string;
  file: string;
  createdAt: string;
  label: string;
  env: string | null;
  format: BackupManifest['format'];
  sizeBytes: number;
  /** ok: the file is as its manifest says (and verified, when it was); bad: missing, changed, or its verification failed. */
  state: 'verified' | 'not-verified' | 'bad';
  /** One line: "verified 2026-12-01 13:02 (db.backup, restore-tested)", "file missing", "size 1204 B, manifest says 1309 B"… */
  verification: string;
}

export async function inventoryBackups(dir: string, options: { env: string; full?: boolean }): Promise<BackupListing[]> {
  const listings: BackupListing[] = [];
  for (const entry of listBackups(dir)) {
    const manifest = readManifest(entry.manifestFile);
    // A directory shared by environments: a backup that names another one is not this one's.
    if (manifest.env && manifest.env !== options.env) continue;
    const base = { manifestFile: entry.manifestFile, file: entry.file, createdAt: entry.createdAt, label: entry.label, env: manifest.env ?? null, format: manifest.format, sizeBytes: manifest.sizeBytes };
    const cheap = cheapProblem(entry.manifestFile, manifest);
    if (cheap) {
      listings.push({ ...base, state: 'bad', verification: cheap });
      continue;
    }
    if (options.full) {
      const verified = await verifyBackup(entry.manifestFile);
      listings.push({ ...base, state: verified.ok ? 'verified' : 'bad', verification: verified.ok ? 'verified now (SHA-256, archive, ledger)' : `MISMATCH: ${verified.problem}` });
      continue;
    }
    listings.push({ ...base, ...recorded(manifest) });
  }
  return listings;
}

function recorded(manifest: BackupManifest): Pick<BackupListing, 'state' | 'verification'> {
  const v = manifest.verification;
  if (!v) return { state: 'not-verified', verification: 'not verified (run `routergpt backup --verify FILE`)' };
  const when = `${v.at.replace('T', ' ').slice(0, 16)} by ${v.by}${v.restoreTested ? ', restore-tested' : ''}`;
  return v.status === 'pass' ? { state: 'verified', verification: `verified ${when}` } : { state: 'bad', verification: `verification FAILED ${when}: ${v.summary}` };
}

/** The file is missing, or its size is not what the manifest recorded (a truncated copy, a full disk). */
export function cheapProblem(manifestFile: string, manifest: BackupManifest): string | undefined {
  const file = backupPathOf(manifestFile, manifest);
  if (!existsSync(file)) return `file missing: ${path.basename(file)}`;
  const size = manifest.format === 'directory' ? readdirSync(file).map((n) => statSync(path.join(file, n))).filter((s) => s.isFile()).reduce((sum, s) => sum + s.size, 0) : statSync(file).size;
  return size === manifest.sizeBytes ? undefined : `size ${size} B, the manifest says ${manifest.sizeBytes} B: changed or damaged`;
}
