import path from 'node:path';
import { redactSecrets } from '../../config/mask.js';
import { withTrackedChild } from '../../lib/children.js';
import { backupPathOf, readManifest, writeManifest, type BackupCopy, type BackupManifest } from './manifest.js';

export { copyIsGood, type BackupCopy } from './manifest.js';

const COPY_TIMEOUT_MS = 30 * 60_000;

/**
 * Run `backup.copy_command` for a verified backup, then `backup.read_back_command` (which must
 * print the SHA-256 of the copy, e.g. `aws s3 cp s3://b/$ROUTERGPT_BACKUP_NAME - | sha256sum`),
 * and record both in the manifest. The commands get the backup through the environment —
 * ROUTERGPT_BACKUP_FILE, ROUTERGPT_BACKUP_MANIFEST, ROUTERGPT_BACKUP_NAME, ROUTERGPT_BACKUP_SHA256
 * — never by splicing paths into the shell text. Output is kept out of the result but the last
 * line of stderr (redacted), so a credential a tool prints does not reach the journal.
 */
export async function copyBackupOffHost(manifestFile: string, settings: { command: string; readBack?: string }, options: { now: () => Date; signal?: AbortSignal }): Promise<BackupCopy> {
  const manifest: BackupManifest = readManifest(manifestFile);
  const file = backupPathOf(manifestFile, manifest);
  // Added to this process's environment (the copy tool's credentials are there), as code.deploy's commands are.
  const env = { ROUTERGPT_BACKUP_FILE: file, ROUTERGPT_BACKUP_MANIFEST: manifestFile, ROUTERGPT_BACKUP_NAME: path.basename(file), ROUTERGPT_BACKUP_SHA256: manifest.sha256 };
  const { execa } = await import('execa');
  const run = (command: string) => withTrackedChild(execa(command, { shell: '/bin/sh', env, reject: false, timeout: COPY_TIMEOUT_MS, detached: true, stdin: 'ignore', ...(options.signal ? { cancelSignal: options.signal } : {}) }));
  const lastLine = (text: unknown) => redactSecrets(String(text ?? '').trim().split('\n').at(-1) ?? '').slice(0, 200);
  const copied = await run(settings.command);
  const at = options.now().toISOString();
  let copy: BackupCopy;
  if (copied.exitCode !== 0) {
    const why = copied.timedOut ? `timed out after ${COPY_TIMEOUT_MS / 60_000} min` : copied.exitCode === undefined ? 'could not start' : `exit ${copied.exitCode}`;
    copy = { at, exitCode: copied.exitCode ?? null, readBack: 'unchecked', summary: `off-host copy FAILED (${why})${lastLine(copied.stderr) ? `: ${lastLine(copied.stderr)}` : ''}` };
  } else if (!settings.readBack) {
    copy = { at, exitCode: 0, readBack: 'unchecked', summary: 'off-host copy made (exit 0; no backup.read_back_command to check it)' };
  } else {
    const read = await run(settings.readBack);
    const sha = /\b[0-9a-f]{64}\b/i.exec(String(read.stdout ?? ''))?.[0]?.toLowerCase();
    if (read.exitCode !== 0 || !sha) {
      copy = { at, exitCode: 0, readBack: 'mismatch', summary: `off-host copy made, but reading it back failed (${read.exitCode !== 0 ? `exit ${read.exitCode}` : 'no SHA-256 in its output'})${lastLine(read.stderr) ? `: ${lastLine(read.stderr)}` : ''}` };
    } else if (sha !== manifest.sha256) {
      copy = { at, exitCode: 0, readBack: 'mismatch', readBackSha256: sha, summary: `off-host copy DIFFERS: read back ${sha.slice(0, 12)}…, the backup is ${manifest.sha256.slice(0, 12)}…` };
    } else {
      copy = { at, exitCode: 0, readBack: 'match', readBackSha256: sha, summary: 'off-host copy made and read back: SHA-256 matches' };
    }
  }
  writeManifest(manifestFile, { ...readManifest(manifestFile), copy });
  return copy;
}
