import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATION_VERSIONS, runCli, spawnCli, tempDir } from '../helpers/cli.js';

const ALL = MIGRATION_VERSIONS;

describe('the embedded database (local, PGlite)', () => {
  const dir = tempDir('routergpt-embedded-');

  it('migrate up on a fresh directory applies every migration; status --json shows them', async () => {
    const up = await runCli(['migrate', 'up'], { cwd: dir });
    expect(up.exitCode).toBe(0);
    expect(existsSync(path.join(dir, '.routergpt', 'local', 'pgdata'))).toBe(true);
    // The lock file is removed when the process ends.
    expect(existsSync(path.join(dir, '.routergpt', 'local', 'routergpt.lock'))).toBe(false);
    const status = await runCli(['migrate', 'status', '--json'], { cwd: dir });
    expect(status.exitCode).toBe(0);
    const json = JSON.parse(status.stdout);
    expect(json.applied.map((m: { version: string }) => m.version)).toEqual(ALL);
    expect(json.pending).toEqual([]);
  });

  it('down → up round trip', async () => {
    const down = await runCli(['migrate', 'down', '--to', '000'], { cwd: dir });
    expect(down.exitCode).toBe(0);
    expect(down.stderr).toContain(`reverted ${MIGRATION_VERSIONS.length} migration(s)`);
    const tables = await runCli(['db', 'psql', '--', '-At', '-c', "select count(*) from pg_tables where schemaname = 'public' and tablename <> 'routergpt_schema_migrations'"], { cwd: dir });
    expect(tables.stdout.trim()).toBe('0');
    const up = await runCli(['migrate', 'up'], { cwd: dir });
    expect(up.exitCode).toBe(0);
    expect(up.stderr).toContain(`applied ${MIGRATION_VERSIONS.length} migration(s)`);
  });

  it('seed --demo loads the five test shops and is idempotent', async () => {
    const first = await runCli(['db', 'seed', '--demo', '--json'], { cwd: dir });
    expect(first.exitCode).toBe(0);
    expect(JSON.parse(first.stdout).shops).toBeGreaterThanOrEqual(25);
    const count = await runCli(['db', 'psql', '--', '-At', '-c', "select count(*) from shops where slug in ('bishops-barbershop-tempe','tempe-hair-salon','phoenix-beauty-studio','scottsdale-styles','mesa-cuts')"], { cwd: dir });
    expect(count.stdout.trim()).toBe('5');
    const second = await runCli(['db', 'seed', '--demo', '--json'], { cwd: dir });
    expect(JSON.parse(second.stdout).shops).toBe(0);
  });

  it('a second process joins the running owner through its socket instead of opening the files', async () => {
    const owner = spawnCli(['db', 'psql', '--', '-c', 'select pg_sleep(6)'], { cwd: dir });
    const lockFile = path.join(dir, '.routergpt', 'local', 'routergpt.lock');
    for (let i = 0; i < 200 && !(existsSync(lockFile) && readFileSync(lockFile, 'utf8').includes('"port"')); i += 1) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
    expect(lock.pid).toBe(owner.pid);
    const status = await runCli(['migrate', 'status', '--json'], { cwd: dir });
    expect(status.exitCode).toBe(0);
    expect(JSON.parse(status.stdout).database).toContain(`served by pid ${owner.pid}`);
    expect((await owner).exitCode).toBe(0);
  });

  it('a stale lock file left by a dead process is taken over', async () => {
    const lockDir = path.join(dir, '.routergpt', 'local');
    mkdirSync(lockDir, { recursive: true });
    writeFileSync(path.join(lockDir, 'routergpt.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: '2020-01-01T00:00:00Z', command: 'crashed' }));
    const status = await runCli(['migrate', 'status', '--json'], { cwd: dir });
    expect(status.exitCode).toBe(0);
    expect(JSON.parse(status.stdout).applied).toHaveLength(MIGRATION_VERSIONS.length);
  });
});
