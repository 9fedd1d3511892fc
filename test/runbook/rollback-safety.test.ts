import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runbook/journal.js';
import { MIGRATION_VERSIONS, NEXT_MIGRATION, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { createWorkspace, LOOPBACK_CHECKLIST, type Workspace } from '../helpers/workspace.js';

function runs(ws: Workspace): RunRecord[] {
  const dir = path.join(ws.dir, '.routergpt', 'runs', 'staging');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RunRecord);
}

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.stop();
  ws = undefined;
});

describe('rollback safety (regressions from review)', () => {
  it('rollback --tier toggle,restore leaves the router OFF (the backup predates the toggle)', async () => {
    ws = await createWorkspace();
    // The pre-deploy state: an older schema (with feature_flags, router enabled).
    expect((await runCli(['migrate', 'up', '--to', '005', '--yes'], { cwd: ws.dir, env: ws.env })).exitCode).toBe(0);
    expect((await ws.deploy()).exitCode).toBe(0);
    const result = await runCli(['rollback', '--tier', 'toggle,restore', '--yes', '--no-verify'], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await ws.query(`SELECT enabled FROM feature_flags WHERE key = 'router_gpt'`)).toEqual([{ enabled: false }]);
    // Said as the item finishes (progress on stderr); the final table cuts long summaries to one line.
    expect(result.stderr).toContain('the router stays disabled');
    // …and the restored schema is the pre-deploy one.
    expect((await ws.query<{ n: number }>('SELECT count(*)::int AS n FROM routergpt_schema_migrations'))[0]!.n).toBe(5);
  });

  it('rollback --tier migrations undoes what a deploy applied even when its db.migrate failed half-way', async () => {
    const dir = tempDir();
    cpSync(path.join(REPO_ROOT, 'migrations'), path.join(dir, 'migrations'), { recursive: true });
    writeFileSync(path.join(dir, 'migrations', `${NEXT_MIGRATION}_broken.sql`), 'SELECT * FROM no_such_table;\n');
    writeFileSync(path.join(dir, 'migrations', `${NEXT_MIGRATION}_broken.down.sql`), 'SELECT 1;\n');
    // A folder of one's own, not pinned: without routergpt.sum deploy and rollback only warn.
    rmSync(path.join(dir, 'migrations', 'routergpt.sum'));
    ws = await createWorkspace({ withServer: false, env: { ROUTERGPT_MIGRATIONS_DIR: path.join(dir, 'migrations') } });
    const deploy = await ws.deploy();
    expect(deploy.exitCode).toBe(1);
    expect(deploy.stderr).toContain(`${NEXT_MIGRATION}_broken.sql failed`);
    expect((await ws.query<{ n: number }>('SELECT count(*)::int AS n FROM routergpt_schema_migrations'))[0]!.n).toBe(MIGRATION_VERSIONS.length);
    const rollback = await runCli(['rollback', '--tier', 'migrations', '--yes', '--no-verify'], { cwd: ws.dir, env: ws.env });
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    expect(await ws.query('SELECT version FROM routergpt_schema_migrations')).toEqual([]);
    expect(await ws.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'routergpt_schema_migrations'`)).toEqual([]);
  });

  it('a database password never reaches output, journal or report — even decoded by a deploy command', async () => {
    const password = 'S3cr3t@Pw#9';
    ws = await createWorkspace({ password, deployCommand: `node -e "console.log('connecting to', decodeURIComponent(process.env.DATABASE_URL))"` });
    const result = await ws.deploy();
    expect(result.exitCode, result.stderr).toBe(0);
    const journal = JSON.stringify(runs(ws));
    expect(journal).toContain('connecting to postgres');
    for (const text of [result.stdout, result.stderr, journal]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(encodeURIComponent(password));
    }
  });

  it('no terminal and no --yes: refused before anything changes (exit 2), even on an unprotected environment', async () => {
    ws = await createWorkspace({ withServer: false });
    const result = await runCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--yes');
    expect(await ws.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).toEqual([]);
  });

  it('db seed --demo refuses a protected environment', async () => {
    ws = await createWorkspace({ withServer: false });
    const result = await runCli(['db', 'seed', '--demo', '--env', 'prod'], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('protected');
  });
});

describe('exit codes from inside a run', () => {
  it('a migration lock held by someone else stops the deploy with exit 4, naming the holder', async () => {
    ws = await createWorkspace({ withServer: false });
    const checklist = path.join(ws.dir, 'lockwait.yaml');
    writeFileSync(checklist, readFileSync(LOOPBACK_CHECKLIST, 'utf8').replace('      - step: db.migrate\n', '      - step: db.migrate\n        params: { lock_wait: 1s }\n'));
    const pg = await import('pg');
    const holder = new pg.default.Client({ connectionString: ws.db.url, application_name: 'another-migrator' });
    await holder.connect();
    try {
      const { MIGRATION_LOCK_KEY } = await import('../../src/db/migrator/migrator.js');
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY.toString()]);
      const result = await runCli(['deploy', '--checklist', checklist, '--signoff-file', ws.signoffFile, '--yes'], { cwd: ws.dir, env: ws.env });
      expect(result.exitCode).toBe(4);
      expect(result.stderr).toContain('another-migrator');
      const run = runs(ws).at(-1)!;
      expect(run.items.find((i) => i.id === 'db.migrate')).toMatchObject({ state: 'failed', errorKind: 'LockHeldError' });
    } finally {
      await holder.end();
    }
  });
});
