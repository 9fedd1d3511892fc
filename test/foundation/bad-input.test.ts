import { mkdirSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_MIGRATION, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { freePort, startThrowawayCluster, type Cluster } from '../helpers/pg-cluster.js';

/** Every bad input: one short message naming the problem and the fix, the documented exit code, no stack trace. */
function expectCleanError(result: { exitCode: number; stderr: string; stdout: string }, code: number, ...mentions: string[]) {
  expect(result.exitCode).toBe(code);
  for (const m of mentions) expect(result.stderr).toContain(m);
  expect(result.stderr).toContain('→'); // the next action
  expect(result.stderr).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/); // no stack trace
  expect(result.stderr.split('\n').length).toBeLessThan(12);
}

describe('bad configuration is refused with a clear message and exit 2', () => {
  it('unknown environment names the known ones', async () => {
    const result = await runCli(['migrate', 'status', '--env', 'prdo']);
    expectCleanError(result, 2, 'Unknown environment "prdo"', 'local, staging, prod');
  });

  it('malformed YAML', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'routergpt.config.yaml'), 'environments:\n  prod: [unclosed\n');
    expectCleanError(await runCli(['config', 'show'], { cwd: dir }), 2, 'not valid YAML');
  });

  it('invalid config reports every problem at once', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'routergpt.config.yaml'), 'version: 1\nenvironments:\n  prod:\n    databse: embedded\n    rate_limits: { search_per_minute: -3 }\n    server: { port: "eighty" }\n');
    const result = await runCli(['config', 'show', '--env', 'prod'], { cwd: dir });
    expectCleanError(result, 2, '3 problems', "databse", 'search_per_minute', 'server.port');
  });

  it('DATABASE_URL missing', async () => {
    const result = await runCli(['migrate', 'status', '--env', 'prod']);
    expectCleanError(result, 2, 'DATABASE_URL is not set', '--env local');
  });

  it('DATABASE_URL unreachable', async () => {
    const port = await freePort();
    const result = await runCli(['migrate', 'status', '--env', 'prod'], { env: { DATABASE_URL: `postgres://app:s3cretpw@127.0.0.1:${port}/db` } }); // routergpt:allow-secret (a test fixture, not a credential)
    expectCleanError(result, 2, 'connection refused', 'DATABASE_URL (from the environment)');
    expect(result.stderr).not.toContain('s3cretpw');
  });

  it('--json errors are machine-readable on stdout', async () => {
    const result = await runCli(['migrate', 'status', '--env', 'nope', '--json']);
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { kind: 'config', exitCode: 2 } });
  });

  it('--verbose adds the stack trace', async () => {
    const port = await freePort();
    const result = await runCli(['migrate', 'status', '--env', 'prod', '--verbose'], { env: { DATABASE_URL: `postgres://app@127.0.0.1:${port}/db` } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('unknown flags are usage errors (exit 2)', async () => {
    const result = await runCli(['migrate', 'up', '--frobnicate']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown option '--frobnicate'");
  });
});

describe('documented exit codes (docs/exit-codes.md): flag values and unreachable parts are usage errors, exit 2', () => {
  const cases: Array<{ args: string[]; mentions: string[]; env?: 'unreachable' }> = [
    { args: ['migrate', 'up', '--to', '999'], mentions: ['There is no migration 999', '001'] },
    { args: ['migrate', 'down', '--to', '998', '--yes'], mentions: ['There is no migration 998', '000'] },
    { args: ['smoke', '--base-url', 'not-a-url'], mentions: ['--base-url must be an http(s) URL', '"not-a-url"'] },
    { args: ['verify', '--base-url', 'ftp://example.com'], mentions: ['--base-url must be an http(s) URL'] },
    { args: ['status', '--limit', 'abc'], mentions: ['--limit expects a whole number', '"abc"'] },
    { args: ['status', '--limit', '0'], mentions: ['--limit expects a whole number'] },
    { args: ['verify', '--concurrency', '2.5'], mentions: ['--concurrency expects a whole number'] },
    // Before any check runs: nothing but the error is printed.
    { args: ['verify', '--env', 'staging'], mentions: ['connection refused'], env: 'unreachable' },
  ];
  for (const { args, mentions, env } of cases) {
    it(`routergpt ${args.join(' ')}${env ? ' (database unreachable)' : ''}`, async () => {
      const dir = tempDir();
      const extra = env ? { DATABASE_URL: `postgres://app@127.0.0.1:${await freePort()}/db` } : {};
      const result = await runCli(args, { cwd: dir, env: extra });
      expectCleanError(result, 2, ...mentions);
      expect(result.stdout).not.toMatch(/pass|fail|skip/);
    });
  }

  it('a closed pipe ends the output quietly: `routergpt --help | head -1` exits 0 without EPIPE', async () => {
    const { execa } = await import('execa');
    const result = await execa('bash', ['-o', 'pipefail', '-c', `node ${JSON.stringify(path.join(REPO_ROOT, 'bin', 'routergpt.js'))} --help | head -c 10`], { reject: false });
    expect(result.stderr).not.toContain('EPIPE');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('Usage: rou');
  });
});

describe('wrong password', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startThrowawayCluster({ password: 'right-password' });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('is reported as rejected credentials, never echoing the password', async () => {
    const url = new URL(cluster.url);
    url.password = 'wrong-password';
    const result = await runCli(['migrate', 'status', '--env', 'staging'], { env: { DATABASE_URL: url.toString() } });
    expectCleanError(result, 2, 'rejected the credentials');
    expect(result.stderr + result.stdout).not.toContain('wrong-password');
  });

  it('the right password works', async () => {
    const result = await runCli(['db', 'ping', '--env', 'staging'], { env: { DATABASE_URL: cluster.url } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('postgres:*****@');
    expect(result.stdout).not.toContain('right-password');
  });
});

describe('a broken migrations folder', () => {
  /** The number `k` places after the latest migration. */
  const next = (k: number) => String(Number(LATEST_MIGRATION) + k).padStart(3, '0');
  function folderWith(mutate: (dir: string) => void): string {
    const dir = tempDir();
    const migrations = path.join(dir, 'migrations');
    mkdirSync(migrations);
    for (const f of readdirSync(path.join(REPO_ROOT, 'migrations'))) copyFileSync(path.join(REPO_ROOT, 'migrations', f), path.join(migrations, f));
    mutate(migrations);
    return migrations;
  }

  it('a gap in the numbers is named', async () => {
    const dir = folderWith((m) => writeFileSync(path.join(m, `${next(2)}_later.sql`), 'SELECT 1;'));
    const result = await runCli(['migrate', 'status'], { env: { ROUTERGPT_MIGRATIONS_DIR: dir } });
    expectCleanError(result, 2, 'gap in migration numbers', `${LATEST_MIGRATION} is followed by ${next(2)}`);
  });

  it('a duplicate number is named', async () => {
    const dir = folderWith((m) => writeFileSync(path.join(m, '004_other.sql'), 'SELECT 1;'));
    const result = await runCli(['migrate', 'status'], { env: { ROUTERGPT_MIGRATIONS_DIR: dir } });
    expectCleanError(result, 2, 'duplicate migration number 004', '004_bookings.sql', '004_other.sql');
  });
});
