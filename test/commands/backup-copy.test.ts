/**
 * The off-host copy after every verified backup (`backup.copy_command`, `backup.read_back_command`):
 * real shell commands copying to a directory standing in for the other host, the result recorded in
 * the manifest, a failed or differing copy a warning, and `backup.age` judging the copy.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackupManifest } from '../../src/db/backup/manifest.js';
import { runCli, tempDir } from '../helpers/cli.js';

function workspace(copy: string, readBack?: string): { dir: string; offsite: string } {
  const dir = tempDir();
  const offsite = path.join(dir, 'offsite');
  mkdirSync(offsite);
  const lines = ['version: 1', 'environments:', '  local:', '    backup:', `      copy_command: ${JSON.stringify(copy)}`];
  if (readBack) lines.push(`      read_back_command: ${JSON.stringify(readBack)}`);
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), `${lines.join('\n')}\n`);
  writeFileSync(path.join(dir, 'weekly.yaml'), 'name: t\nphases:\n  - id: weekly\n    run: maintenance\n    cadence: weekly\n    items:\n      - check: backup.age\n');
  return { dir, offsite };
}

function newestManifest(dir: string): BackupManifest {
  const backups = path.join(dir, '.routergpt', 'backups', 'local');
  const file = readdirSync(backups).filter((f) => f.endsWith('.manifest.json')).sort().at(-1)!;
  return JSON.parse(readFileSync(path.join(backups, file), 'utf8')) as BackupManifest;
}

describe('backup.copy_command', () => {
  it('copies every verified backup, reads it back, records both; backup.age passes on the copy', async () => {
    const { dir, offsite } = workspace('cp "$ROUTERGPT_BACKUP_FILE" offsite/', 'sha256sum "offsite/$ROUTERGPT_BACKUP_NAME"');
    expect((await runCli(['migrate', 'up'], { cwd: dir })).exitCode).toBe(0);
    const backup = await runCli(['backup'], { cwd: dir });
    expect(backup.exitCode, backup.stderr).toBe(0);
    const manifest = newestManifest(dir);
    expect(manifest.copy).toMatchObject({ exitCode: 0, readBack: 'match', readBackSha256: manifest.sha256, summary: 'off-host copy made and read back: SHA-256 matches' });
    expect(existsSync(path.join(offsite, path.basename(manifest.file)))).toBe(true);
    expect((await runCli(['maintain', 'weekly', '--checklist', 'weekly.yaml'], { cwd: dir })).exitCode).toBe(0);
  }, 120_000);

  it('a copy that fails (its exit code recorded) or reads back different warns, and backup.age fails: no backup survives losing the host', async () => {
    const failing = workspace('echo "bucket not found" >&2; exit 3');
    expect((await runCli(['migrate', 'up'], { cwd: failing.dir })).exitCode).toBe(0);
    const backup = await runCli(['backup'], { cwd: failing.dir });
    // The backup itself is sound (exit 0); its copy is not, and the run says so.
    expect(backup.exitCode, backup.stderr).toBe(0);
    expect(backup.stderr + backup.stdout).toContain('off-host copy FAILED (exit 3): bucket not found');
    expect(newestManifest(failing.dir).copy).toMatchObject({ exitCode: 3, readBack: 'unchecked' });
    const age = await runCli(['maintain', 'weekly', '--checklist', 'weekly.yaml'], { cwd: failing.dir });
    expect(age.exitCode).toBe(1);

    const differing = workspace('cp "$ROUTERGPT_BACKUP_FILE" offsite/ && echo tampered >> "offsite/$ROUTERGPT_BACKUP_NAME"', 'sha256sum "offsite/$ROUTERGPT_BACKUP_NAME"');
    expect((await runCli(['migrate', 'up'], { cwd: differing.dir })).exitCode).toBe(0);
    expect((await runCli(['backup'], { cwd: differing.dir })).exitCode).toBe(0);
    const copy = newestManifest(differing.dir).copy!;
    expect(copy.readBack).toBe('mismatch');
    expect(copy.summary).toMatch(/^off-host copy DIFFERS: read back [0-9a-f]{12}…, the backup is [0-9a-f]{12}…$/);
  }, 180_000);

  it('read_back_command without copy_command is refused (exit 2), naming both keys', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'routergpt.config.yaml'), 'version: 1\nenvironments:\n  local:\n    backup:\n      read_back_command: "sha256sum x"\n');
    const result = await runCli(['config', 'show'], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('backup.read_back_command reads back a copy, and there is no backup.copy_command');
  });
});
