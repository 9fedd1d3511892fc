/**
 * Rollback read from the journal, on a real PostgreSQL with the real CLI: the target is the
 * newest deploy that changed something, a tier with nothing to undo is a failure that changes
 * nothing, the toggle is break-glass (it works while a deploy holds the run lock), a SIGKILLed
 * run reads as interrupted, and `--reporter junit=FILE` writes a valid JUnit file.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runbook/journal.js';
import { LATEST_MIGRATION, REPO_ROOT, runCli, spawnCli } from '../helpers/cli.js';
import { createWorkspace, LOOPBACK_CHECKLIST, type Workspace } from '../helpers/workspace.js';

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.stop();
  ws = undefined;
});

function runs(w: Workspace): RunRecord[] {
  const dir = path.join(w.dir, '.routergpt', 'runs', 'staging');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RunRecord)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const schemaVersion = async (w: Workspace) => (await w.query<{ v: string | null }>('SELECT max(version) AS v FROM routergpt_schema_migrations'))[0]!.v;

describe('rollback reads its target from the journal', () => {
  it('a deploy that changed nothing is never the target; its rollback undoes the deploy that did', async () => {
    ws = await createWorkspace();
    expect((await ws.deploy()).exitCode).toBe(0);
    const first = runs(ws)[0]!;
    // A second deploy stops at its first manual item: it changed nothing.
    const refused = path.join(ws.dir, 'refused.yaml');
    writeFileSync(refused, 'signed_by: Test Operator\nitems:\n  custom-gpt-configured: false\n');
    const noop = await runCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', refused, '--yes'], { cwd: ws.dir, env: ws.env });
    expect(noop.exitCode).toBe(1);
    expect(runs(ws)).toHaveLength(2);

    const plan = await runCli(['rollback', '--tier', 'restore', '--dry-run'], { cwd: ws.dir, env: ws.env });
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stderr).toContain(`target: deploy ${first.id}`);
    // …and the backup it would restore is the one taken before the first deploy's migrations.
    expect(plan.stderr).toContain(String(first.items.find((i) => i.id === 'db.backup')!.outputs!.manifest));

    // The migrations tier previews the tables its down files drop, with their rows.
    const migrationsPlan = await runCli(['rollback', '--tier', 'migrations', '--dry-run'], { cwd: ws.dir, env: ws.env });
    expect(migrationsPlan.stderr).toMatch(/lose: router_analytics: \d+ row\(s\), dropped by 009_router_analytics\.down\.sql/);
    const undo = await runCli(['rollback', '--tier', 'migrations', '--yes', '--no-verify'], { cwd: ws.dir, env: ws.env });
    expect(undo.exitCode, undo.stderr).toBe(0);
    expect(await schemaVersion(ws)).toBeNull();
    const rollback = runs(ws).at(-1)!;
    expect(rollback).toMatchObject({ kind: 'rollback', target: first.id, tiers: ['migrations'], status: 'succeeded' });
    // A safety backup of the state being dropped was taken first.
    expect(rollback.items.map((i) => i.id)).toEqual(['db.backup', 'undo.db.migrate']);

    // status: the deploy reads as rolled back, the rollback row names its tier.
    const status = await runCli(['status'], { cwd: ws.dir, env: ws.env });
    expect(status.stdout).toContain(`rolled back by ${rollback.id}`);
    expect(status.stdout).toContain(`rollback migrations of ${first.id}`);
  }, 120_000);

  it('asking for a tier the target deploy has nothing to undo for exits 1 with the tiers it has, changing nothing', async () => {
    ws = await createWorkspace();
    expect((await ws.deploy()).exitCode).toBe(0);
    // The second deploy finds the schema in place: it applies no migration (the demo seed puts
    // the test shops back, so it purges them again, and it runs the code deploy commands).
    expect((await ws.deploy()).exitCode).toBe(0);
    const second = runs(ws).at(-1)!;
    const before = runs(ws).length;
    const result = await runCli(['rollback', '--tier', 'migrations', '--yes'], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`Deploy ${second.id} has nothing to undo for tier migrations; nothing was changed.`);
    expect(result.stderr).toContain('--tier toggle,code,purge,restore');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(runs(ws)).toHaveLength(before);
    expect(await schemaVersion(ws)).toBe(LATEST_MIGRATION);
  }, 120_000);
});

describe('the break-glass toggle', () => {
  it('works while a deploy holds the run lock, journals itself as interrupting it; other tiers wait for the lock (exit 4)', async () => {
    ws = await createWorkspace({ deployCommand: 'sleep 8' });
    const deploy = spawnCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile, '--yes'], { cwd: ws.dir, env: ws.env });
    const running = await waitFor('code.deploy to start', () => {
      const run = runs(ws!).find((r) => r.kind === 'deploy');
      return run?.items.find((i) => i.id === 'code.deploy')?.state === 'running' ? run : undefined;
    });
    const search = () => fetch(`http://127.0.0.1:${ws!.port}/router/search-by-location`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latitude: 33.4255, longitude: -111.94 }) });
    expect((await search()).status).toBe(200);

    const restore = await runCli(['rollback', '--tier', 'restore', '--yes'], { cwd: ws.dir, env: ws.env });
    expect(restore.exitCode, restore.stderr).toBe(4);
    expect(restore.stderr).toContain(`run ${running.id}`);

    const started = Date.now();
    const toggle = await runCli(['rollback', '--tier', 'toggle', '--no-verify'], { cwd: ws.dir, env: ws.env });
    expect(toggle.exitCode, toggle.stderr).toBe(0);
    expect(toggle.stderr).toContain(`Deploy ${running.id} is still running`);
    const status = await waitFor('a 503 from the router', async () => ((await search()).status === 503 ? 503 : undefined), 2000 + 2000);
    expect(status).toBe(503);
    expect(Date.now() - started).toBeLessThan(15_000);
    const rollback = runs(ws).filter((r) => r.kind === 'rollback').at(-1)!;
    expect(rollback).toMatchObject({ status: 'succeeded', tiers: ['toggle'], interrupts: running.id });
    expect(deploy.exitCode).toBeNull(); // the deploy was never blocked or stopped by it
    await deploy.catch(() => {});
  }, 120_000);
});

describe('runs tell the truth', () => {
  it('a SIGKILLed deploy shows as interrupted at the item it stopped at, with --resume as the hint', async () => {
    ws = await createWorkspace();
    const child = spawnCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile, '--yes'], { cwd: ws.dir, env: ws.env });
    await waitFor('the backup to finish', () => (runs(ws!)[0]?.items.find((i) => i.id === 'db.backup')?.state === 'done' ? true : undefined));
    child.kill('SIGKILL');
    await child.catch(() => {});
    const run = runs(ws)[0]!;
    expect(run.status).toBe('running'); // what the file says: nobody was left to record the end
    const json = JSON.parse((await runCli(['status', '--json'], { cwd: ws.dir, env: ws.env })).stdout) as { runs: Array<RunRecord & { state: string; stoppedAt?: string }> };
    expect(json.runs[0]).toMatchObject({ id: run.id, state: 'interrupted' });
    expect(json.runs[0]!.stoppedAt).toMatch(/^(db|checks|api|code|signoff)/);
    const human = await runCli(['status'], { cwd: ws.dir, env: ws.env });
    expect(human.stdout).toContain('interrupted at');
    expect(human.stderr).toContain(`routergpt deploy --env staging --resume ${run.id}`);
    // --resume picks it up (it is not "still running").
    const resumed = await ws.deploy(['--resume']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
  }, 120_000);
});

describe('deploy reports like verify', () => {
  it('--reporter junit=FILE writes a JUnit file valid against the schema, one suite per phase', async () => {
    ws = await createWorkspace();
    const result = await ws.deploy(['--reporter', 'junit=reports/deploy.xml', '--reporter', 'json=reports/deploy.json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const xml = readFileSync(path.join(ws.dir, 'reports', 'deploy.xml'), 'utf8');
    const xsd = readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'junit.xsd'), 'utf8');
    const validation = await validateXML({ xml: [{ fileName: 'deploy.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
    expect(validation.errors.map((e) => e.rawMessage ?? e.message), validation.rawOutput).toEqual([]);
    for (const phase of ['pre-deployment', 'database', 'deploy', 'post-deployment']) expect(xml).toContain(`name="${phase}"`);
    expect(xml).not.toContain('<failure');
    const report = JSON.parse(readFileSync(path.join(ws.dir, 'reports', 'deploy.json'), 'utf8')) as { schema: string; status: string };
    expect(report).toMatchObject({ schema: 'routergpt.run-report/v1', status: 'succeeded' });
  }, 120_000);

  it('a misspelt reporter is refused before anything runs (exit 2)', async () => {
    ws = await createWorkspace({ withServer: false });
    const result = await ws.deploy(['--reporter', 'jnuit=x.xml']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('did you mean "junit"');
    expect(await ws.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).toEqual([]);
  });
});

describe('bad run ids and journals: one message, exit 2, nothing changed', () => {
  it('a run of another environment, and a journal file that is not valid JSON', async () => {
    ws = await createWorkspace();
    expect((await ws.deploy()).exitCode).toBe(0);
    const deploy = runs(ws)[0]!;
    // A second environment on the same database (the journal table is shared).
    writeFileSync(path.join(ws.dir, 'routergpt.config.yaml'), `${readFileSync(path.join(ws.dir, 'routergpt.config.yaml'), 'utf8')}  qa:\n    database: { url_env: DATABASE_URL }\n`);
    const other = await runCli(['rollback', '--env', 'qa', '--run', deploy.id, '--tier', 'restore', '--yes'], { cwd: ws.dir, env: ws.env });
    expect(other.exitCode, other.stderr).toBe(2);
    expect(other.stderr).toContain(`Run ${deploy.id} belongs to staging, not qa.`);
    expect(other.stderr).toContain('--env staging');

    const file = path.join(ws.dir, '.routergpt', 'runs', 'staging', `${deploy.id}.json`);
    writeFileSync(file, '{"schema": "routergpt.run/v1", "id": ');
    const damaged = await runCli(['rollback', '--run', deploy.id, '--tier', 'restore', '--yes'], { cwd: ws.dir, env: ws.env });
    expect(damaged.exitCode).toBe(2);
    expect(damaged.stderr).toContain(`The journal file ${file} is not a valid run record`);
    expect(damaged.stderr).not.toMatch(/\n\s+at /);
    expect(await schemaVersion(ws)).toBe(LATEST_MIGRATION);
  }, 120_000);
});
