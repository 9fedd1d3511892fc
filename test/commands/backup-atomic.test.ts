/**
 * Issue 14, A5 — backups were written in place: dumps and manifests were created under their final
 * names with the process umask, so an interrupted run left a complete-looking dump without a
 * manifest (0644) that retention never removed. Now a dump is written under a hidden partial name
 * at 0600, synced and renamed when complete; partials of interrupted runs are swept (and
 * reported); a full disk is an operational error naming the file and the free space. Real
 * PostgreSQL and the real pg_dump; the full disk is a real 1 MiB tmpfs (root is required: these
 * tests run as root, in CI too).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestRun, runCli, tempDir } from '../helpers/cli.js';
import { createWorkspace, type Workspace } from '../helpers/workspace.js';

let ws: Workspace;
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: ws.dir, env: { ...ws.env, ...env } });
const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

beforeAll(async () => {
  ws = await createWorkspace({ withServer: false });
  expect((await cli(['migrate', 'up', '--env', 'staging', '--yes'])).exitCode).toBe(0);
  // About 3 MB of random hex (1.5 MB compressed), so the dump cannot fit the 1 MiB tmpfs below.
  await ws.query(`INSERT INTO router_analytics (event_type, payload)
    SELECT 'search', jsonb_build_object('pad', (SELECT string_agg(md5(random()::text || g || i), '') FROM generate_series(1, 100) i)) FROM generate_series(1, 1000) g`);
}, 120_000);
afterAll(async () => {
  await ws?.stop();
});

describe('regression: backups are written aside, at 0600, and published whole', () => {
  it('the dump and its manifest are 0600 with a permissive umask, and nothing partial is left', async () => {
    // The child inherits the umask: 000 would make a file created with defaults 0666.
    const previous = process.umask(0o000);
    const r = await cli(['backup', '--env', 'staging', '--json']).finally(() => process.umask(previous));
    expect(r.exitCode, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { file: string; manifestFile?: string; manifest?: string };
    const file = path.isAbsolute(summary.file) ? summary.file : path.join(ws.dir, 'backups', summary.file);
    expect(mode(file)).toBe('600');
    expect(mode(`${file}.manifest.json`)).toBe('600');
    expect(readdirSync(path.dirname(file)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('the partials of interrupted runs (their process gone) are removed and reported; a live process\'s partial is left alone', async () => {
    const dir = path.join(ws.dir, 'backups');
    mkdirSync(dir, { recursive: true });
    // pid 2^22 + 1 is above Linux's pid_max: no such process.
    writeFileSync(path.join(dir, '.staging-20261201T000000Z.dump.partial-4194305'), 'half a dump');
    mkdirSync(path.join(dir, '.staging-20261201T000001Z.dir.partial-4194305'));
    writeFileSync(path.join(dir, `.staging-20261201T000002Z.dump.partial-${process.pid}`), 'still being written');
    const r = await cli(['backup', '--env', 'staging']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('removed 2 unfinished backup(s) left by interrupted runs: staging-20261201T000000Z.dump, staging-20261201T000001Z.dir');
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([`.staging-20261201T000002Z.dump.partial-${process.pid}`]);
  });
});

describe('regression: a full disk is an operational error naming the file and the free space', () => {
  it('backup onto a 1 MiB tmpfs: exit 1, one clear message, the run failed, nothing left on the volume', async () => {
    const full = tempDir('routergpt-full-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', full]);
    try {
      const r = await cli(['backup', '--env', 'staging'], { ROUTERGPT_BACKUP_DIR: full });
      expect(r.exitCode, r.stderr).toBe(1);
      const out = r.stdout + r.stderr;
      expect(out).toMatch(/No space left on the device writing the backup \S+\/manual-\d{8}T\d{6}Z\.dump \(\d+\.\d MiB free in /);
      expect(out).toContain('Nothing was changed in the database, and the unfinished file was removed.');
      expect(out).toContain('→ Free space there, or point backup.dir (ROUTERGPT_BACKUP_DIR) at a volume');
      expect(out).not.toMatch(/at .*\.js:\d+/);
      expect(readdirSync(full)).toEqual([]);
      const runs = path.join(ws.dir, '.routergpt', 'runs', 'staging');
      expect(newestRun(runs)?.status).toBe('failed');
    } finally {
      execFileSync('umount', [full]);
      rmdirSync(full);
    }
  });
});

describe('regression: a full run directory is an operational error naming the file, and the run is not left "running"', () => {
  it('the journal cannot be written: exit 1, the file and the free space named, no stack, no "Internal error"; status does not show it running', async () => {
    const runs = path.join(ws.dir, '.routergpt', 'runs', 'staging');
    mkdirSync(runs, { recursive: true });
    const keep = readdirSync(runs);
    const aside = tempDir('routergpt-runs-aside-');
    for (const f of keep) execFileSync('mv', [path.join(runs, f), aside]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', runs]);
    try {
      // Fill it: nothing more fits.
      try {
        writeFileSync(path.join(runs, 'filler'), Buffer.alloc(1024 * 1024));
      } catch {
        /* ENOSPC: full, as wanted */
      }
      const r = await cli(['backup', '--env', 'staging']);
      const out = r.stdout + r.stderr;
      expect(r.exitCode, out).toBe(1);
      expect(out).toMatch(/No space left on the device writing the run (lock|journal) \S+ \(\d+\.\d MiB free in /);
      expect(out).not.toContain('Internal error');
      expect(out).not.toMatch(/at .*\.js:\d+/);
      const status = await cli(['status', '--env', 'staging', '--json']);
      expect(status.stdout).not.toMatch(/"status":\s*"running"/);
    } finally {
      execFileSync('umount', [runs]);
      for (const f of keep) execFileSync('mv', [path.join(aside, f), runs]);
    }
  });
});
