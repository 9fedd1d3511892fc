/**
 * security.backups-not-in-repo on real git repositories in temp directories: a backup directory
 * inside a work tree and not ignored fails (named, with the fix), ignored or outside any
 * repository passes, tracked dumps fail even when ignored, no git skips. Then the same through
 * the built CLI (`verify --only`), before and after `routergpt init`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import check from '../../src/checks/security/backups-not-in-repo.js';
import { findCheck } from '../../src/checks/registry.js';
import { loadConfig } from '../../src/config/resolve.js';
import type { EnvironmentConfig } from '../../src/config/types.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { depsFor, runCheck } from './helpers.js';

function gitRepo(prefix: string): string {
  const dir = tempDir(prefix);
  execFileSync('git', ['init', '-q', dir]);
  return dir;
}

/** staging resolved in `dir` (no config file): state dir `dir/.routergpt`, backups where `backupDir` says. */
function configIn(dir: string, backupDir?: string): EnvironmentConfig {
  return loadConfig({ flags: { env: 'staging' }, cwd: dir, env: { DATABASE_URL: 'postgres://unused@127.0.0.1/unused', ...(backupDir ? { ROUTERGPT_BACKUP_DIR: backupDir } : {}) } }).config;
}

describe('security.backups-not-in-repo', () => {
  it('is registered, read-only and needs nothing but git', () => {
    expect(findCheck('security.backups-not-in-repo')).toBe(check);
    expect(check.needs).toEqual([]);
    expect(check.stages).toEqual(['pre']);
  });

  it('backup-dir-inside-repo-not-ignored: fails naming the directory and the fix', async () => {
    const repo = gitRepo('routergpt-bk-exposed-');
    writeFileSync(path.join(repo, '.gitignore'), '.routergpt/\n');
    const config = configIn(repo, 'backups/staging');
    const result = await runCheck(check, depsFor(config));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain(path.join(repo, 'backups', 'staging'));
    expect(result.summary).not.toContain('.routergpt');
    expect(result.details?.join('\n')).toMatch(/backup directory .*backups\/staging .*ROUTERGPT_BACKUP_DIR.* not git-ignored/);
    expect(result.hint).toContain('add "/backups/staging/" to');
    expect(result.hint).toContain('backup.dir');
  });

  it('backup-dir-inside-repo-ignored: passes once .gitignore lists it (the directory need not exist yet)', async () => {
    const repo = gitRepo('routergpt-bk-ignored-');
    writeFileSync(path.join(repo, '.gitignore'), '.routergpt/\nbackups/\n');
    const result = await runCheck(check, depsFor(configIn(repo, 'backups/staging')));
    expect(result.status, result.details?.join('\n')).toBe('pass');
    expect(result.details?.join('\n')).toMatch(/backup directory .* git-ignored in/);
  });

  it('state-dir-not-ignored: fails for the state directory too (the default backups live in it)', async () => {
    const repo = gitRepo('routergpt-bk-state-');
    const result = await runCheck(check, depsFor(configIn(repo)));
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/2 directories/);
    expect(result.summary).toContain(path.join(repo, '.routergpt'));
    expect(result.details?.join('\n')).toMatch(/state directory/);
    // One line covers both: the default backup directory is inside the state dir.
    expect(result.hint).toContain(`add "/.routergpt/" to ${path.join(repo, '.gitignore')}`);
    expect(result.hint).not.toContain('/.routergpt/backups/');
  });

  it('backup-dir-tracked: a dump already committed fails even when ignored, with the untrack command', async () => {
    const repo = gitRepo('routergpt-bk-tracked-');
    mkdirSync(path.join(repo, 'backups', 'staging'), { recursive: true });
    writeFileSync(path.join(repo, 'backups', 'staging', 'dump.sql'), '-- rows\n');
    execFileSync('git', ['add', 'backups/staging/dump.sql'], { cwd: repo });
    writeFileSync(path.join(repo, '.gitignore'), '.routergpt/\nbackups/\n');
    const result = await runCheck(check, depsFor(configIn(repo, 'backups/staging')));
    expect(result.status).toBe('fail');
    expect(result.details?.join('\n')).toMatch(/1 file\(s\) under it are tracked/);
    expect(result.hint).toContain('rm -r --cached -- backups/staging');
    expect(result.hint, 'already ignored: only the untracking is left').not.toContain('add "/backups');
  });

  it('outside-any-repo: passes', async () => {
    const dir = tempDir('routergpt-bk-nogit-');
    const result = await runCheck(check, depsFor(configIn(dir, path.join(tempDir('routergpt-bk-elsewhere-'), 'staging'))));
    expect(result.status, result.details?.join('\n')).toBe('pass');
    expect(result.details?.join('\n')).toMatch(/outside any git repository/);
  });

  describe('without git on the PATH', () => {
    const savedPath = process.env.PATH;
    afterEach(() => {
      process.env.PATH = savedPath;
    });
    it('skips with the reason', async () => {
      const config = configIn(gitRepo('routergpt-bk-no-git-'));
      process.env.PATH = tempDir('routergpt-empty-path-');
      const result = await runCheck(check, depsFor(config));
      expect(result).toMatchObject({ status: 'skip' });
      expect(result.summary).toMatch(/git is not installed/);
    });
  });
});

describe('verify --only security.backups-not-in-repo (built CLI)', () => {
  it('fails in a fresh git repository, and passes after routergpt init', async () => {
    const repo = gitRepo('routergpt-bk-cli-');
    const before = await runCli(['verify', '--env', 'local', '--only', 'security.backups-not-in-repo', '--reporter', 'json'], { cwd: repo });
    expect(before.exitCode, before.stderr).toBe(1);
    const [failed] = (JSON.parse(before.stdout) as { checks: Array<{ id: string; status: string; summary: string }> }).checks;
    expect(failed).toMatchObject({ id: 'security.backups-not-in-repo', status: 'fail' });
    expect(failed!.summary).toContain('.routergpt');

    expect((await runCli(['init'], { cwd: repo })).exitCode).toBe(0);
    const after = await runCli(['verify', '--env', 'local', '--only', 'security.backups-not-in-repo', '--reporter', 'json'], { cwd: repo });
    expect(after.exitCode, after.stdout + after.stderr).toBe(0);
    expect(JSON.parse(after.stdout).checks[0]).toMatchObject({ id: 'security.backups-not-in-repo', status: 'pass' });
  }, 60_000);
});
