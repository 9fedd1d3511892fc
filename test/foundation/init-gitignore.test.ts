/**
 * Nothing sensitive lands in git or in world-readable files: `routergpt init` (the built CLI) in
 * real temp git repositories git-ignores every path routergpt writes under the project, appends
 * to an existing .gitignore and adds nothing the second time; journals and the local API's log
 * are owner-only.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/resolve.js';
import type { Database } from '../../src/db/connect.js';
import { Journal, newRunId, runsDir, type RunRecord } from '../../src/runbook/journal.js';
import { startLocalApi } from '../../src/runbook/local-api.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { createMigratedDatabase } from '../helpers/migrated-db.js';

function gitRepo(prefix: string): string {
  const dir = tempDir(prefix);
  execFileSync('git', ['init', '-q', dir]);
  return dir;
}

function isIgnored(repo: string, file: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '-q', '--', path.relative(repo, file)], { cwd: repo });
    return true;
  } catch {
    return false;
  }
}

function touch(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, 'dummy\n');
  return file;
}

/** A dummy file in every place routergpt writes for each environment of the config in `dir`. */
function filesRoutergptWrites(dir: string): string[] {
  const files = [touch(path.join(dir, '.env'))];
  for (const env of ['local', 'staging', 'prod']) {
    const { config } = loadConfig({ flags: { env }, cwd: dir, env: {}, requireDatabase: false });
    const runs = runsDir(config.stateDir.value, env);
    const runDir = path.join(runs, '20261125T184500Z-deploy-ab12');
    files.push(
      touch(path.join(runs, '20261125T184500Z-deploy-ab12.json')),
      touch(path.join(runDir, 'purge-20261125T184501Z.json')),
      touch(path.join(runDir, 'kept-writes.json')),
      touch(path.join(runDir, 'server.log')),
      touch(path.join(config.stateDir.value, 'run.lock')),
      touch(path.join(config.backupDir.value, 'routergpt-20261125T184500Z.dump')),
      touch(path.join(config.backupDir.value, 'routergpt-20261125T184500Z.manifest.json')),
    );
    if (config.database.value.kind === 'embedded') files.push(touch(path.join(config.database.value.dataDir, 'pgdata', 'PG_VERSION')));
  }
  return files;
}

async function initJson(cwd: string): Promise<{ gitignore: string; ignored: string[] }> {
  const result = await runCli(['init', '--json'], { cwd });
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { gitignore: string; ignored: string[] };
}

describe('routergpt init git-ignores what routergpt writes', () => {
  it('fresh-git-repo: every state, journal, backup and .env path is ignored; the config file is not', async () => {
    const repo = gitRepo('routergpt-init-fresh-');
    expect(await initJson(repo)).toMatchObject({ gitignore: 'created', ignored: ['.env', '.routergpt/'] });
    const files = filesRoutergptWrites(repo);
    expect(files.filter((f) => !isIgnored(repo, f)), 'written by routergpt but not git-ignored').toEqual([]);
    const status = execFileSync('git', ['status', '--porcelain', '--ignored'], { cwd: repo, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(status).toContain('!! .env');
    expect(status).toContain('!! .routergpt/');
    // What init writes for the repository is committed, not hidden.
    expect(status.filter((l) => l.startsWith('??')).sort()).toEqual(['?? .env.example', '?? .gitignore', '?? routergpt.config.yaml']);
  }, 60_000);

  it('the prod template puts backups under the git-ignored state dir', async () => {
    const repo = gitRepo('routergpt-init-template-');
    await initJson(repo);
    const { config } = loadConfig({ flags: { env: 'prod' }, cwd: repo, env: {}, requireDatabase: false });
    expect(config.backupDir).toMatchObject({ source: 'file', value: path.join(repo, '.routergpt', 'backups', 'prod') });
  });

  it('second-run: a second init leaves .gitignore byte for byte unchanged', async () => {
    const repo = gitRepo('routergpt-init-twice-');
    await initJson(repo);
    const first = readFileSync(path.join(repo, '.gitignore'), 'utf8');
    expect(await initJson(repo)).toMatchObject({ gitignore: 'unchanged', ignored: [] });
    expect(readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe(first);
  });

  it('existing-gitignore: keeps its lines and appends only what is missing', async () => {
    const repo = gitRepo('routergpt-init-existing-');
    const original = 'node_modules/\n# ours\n/.env\n*.log';
    writeFileSync(path.join(repo, '.gitignore'), original);
    expect(await initJson(repo)).toMatchObject({ gitignore: 'updated', ignored: ['.routergpt/'] });
    const text = readFileSync(path.join(repo, '.gitignore'), 'utf8');
    expect(text.startsWith(`${original}\n`)).toBe(true);
    expect(text.match(/\.env$/gm)).toHaveLength(1);
    expect(text).toMatch(/^\.routergpt\/$/m);
  });

  it('equivalent-lines: `/.routergpt` and `.env` already there → nothing added', async () => {
    const repo = gitRepo('routergpt-init-equivalent-');
    writeFileSync(path.join(repo, '.gitignore'), '.env\n/.routergpt\n');
    expect(await initJson(repo)).toMatchObject({ gitignore: 'unchanged', ignored: [] });
    expect(readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe('.env\n/.routergpt\n');
  });

  it('old-template-backup-dir: an explicit `backup.dir: backups/prod` keeps working and is git-ignored', async () => {
    const repo = gitRepo('routergpt-init-oldcfg-');
    writeFileSync(path.join(repo, 'routergpt.config.yaml'), 'version: 1\nenvironments:\n  prod:\n    database:\n      url_env: DATABASE_URL\n    backup:\n      dir: backups/prod\n');
    expect(await initJson(repo)).toMatchObject({ gitignore: 'created', ignored: ['.env', '.routergpt/', '/backups/prod/'] });
    const { config } = loadConfig({ flags: { env: 'prod' }, cwd: repo, env: {}, requireDatabase: false });
    expect(config.backupDir.value).toBe(path.join(repo, 'backups', 'prod'));
    expect(isIgnored(repo, touch(path.join(repo, 'backups', 'prod', 'routergpt-20261125T184500Z.dump')))).toBe(true);
    expect(await initJson(repo)).toMatchObject({ gitignore: 'unchanged' });
  });
});

describe('run records are owner-only', () => {
  it('Journal.save writes the record 0600 in a 0700 runs directory', async () => {
    const stateDir = path.join(tempDir('routergpt-journal-mode-'), '.routergpt');
    const id = newRunId('deploy', new Date());
    const record: RunRecord = { schema: 'routergpt.run/v1', id, kind: 'deploy', env: 'prod', checklist: { name: 'production', file: 'checklists/production.yaml' }, status: 'running', startedAt: new Date().toISOString(), startedBy: 'test', host: 'test', pid: process.pid, resumes: [], items: [] };
    const journal = new Journal(runsDir(stateDir, 'prod'), record, undefined);
    await journal.save();
    expect(statSync(journal.file).mode & 0o777).toBe(0o600);
    expect(statSync(journal.dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(stateDir, 'runs')).mode & 0o777).toBe(0o700);
    record.status = 'succeeded';
    await journal.save(); // the rename replaces the file: still 0600
    expect(statSync(journal.file).mode & 0o777).toBe(0o600);
  });

  it('the local API started for a run logs to a 0600 server.log', async () => {
    const migrated = await createMigratedDatabase({ prefix: 'logmode' });
    try {
      const cwd = tempDir('routergpt-log-mode-');
      const { config } = loadConfig({ flags: { env: 'local' }, cwd, env: {} });
      const runDir = path.join(runsDir(config.stateDir.value, 'local'), newRunId('deploy', new Date()));
      const db = { pool: migrated.pool, url: migrated.url, display: 'test', kind: 'url', close: async () => {} } satisfies Database;
      const api = await startLocalApi(config, db, runDir);
      try {
        expect((await fetch(`${api.url}/health`)).status).toBeLessThan(500);
      } finally {
        await api.close();
      }
      expect(statSync(path.join(runDir, 'server.log')).mode & 0o777).toBe(0o600);
      expect(statSync(runDir).mode & 0o777).toBe(0o700);
    } finally {
      await migrated.close();
    }
  }, 60_000);
});
