/**
 * Issue 14, part B — a full disk in the backup and run directories. The volumes are real tmpfs
 * mounts (root mounts them; a machine that cannot fails these tests, under CI=true above all —
 * they never skip) at the paths the workspace's routergpt.config.yaml names (`backup.dir:
 * backups`, the state directory's `runs/staging`), filled with a filler file; the databases are on
 * a throwaway cluster. Each case asserts the clear error naming the file and the free space, exit
 * 1 (docs/exit-codes.md: a step failed), the journal's final state, nothing half-written, and that
 * `deploy --resume <id>` once there is room reaches the same final state as an uninterrupted
 * deploy.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runbook/journal.js';
import { runCli } from '../helpers/cli.js';
import { withDatabaseName, type TestDatabase } from '../helpers/db.js';
import { startThrowawayCluster, type Cluster } from '../helpers/pg-cluster.js';
import { createWorkspace, WORKSPACE_DEPLOYER, type Workspace } from '../helpers/workspace.js';

let cluster: Cluster;
const workspaces: Workspace[] = [];
const mounts: string[] = [];
/** The uninterrupted deploy every resumed one is compared with; started in beforeAll, awaited where needed. */
let reference: Promise<FinalState>;
let referenceWs: Workspace;

type FinalState = Awaited<ReturnType<typeof finalState>>;

/**
 * The deploy's data-changing part (the loopback checklist without the API smoke tests, which need
 * a server and add nothing to a disk fault): a gate, the backup, the migrations, the data steps,
 * the code deploy and the sign-off — seconds, not a minute.
 */
const CHECKLIST = `name: disk-full
description: The deploy's backup, data and code steps, for the disk-full fault tests
phases:
  - id: pre-deployment
    title: Pre-deployment checks
    items:
      - check: db.reachable
      - manual: custom-gpt-configured
        title: Production Custom GPT created
  - id: database
    title: Database preparation
    items:
      - step: db.backup
      - step: db.migrate
      - step: db.seed-demo
      - check: db.migrations-applied
      - step: db.purge-test-data
  - id: deploy
    title: Deployment steps
    items:
      - step: code.deploy
  - id: post-deployment
    title: Post-deployment verification
    items:
      - signoff: final
        title: Final sign-off
`;

function deploy(ws: Workspace, extra: string[] = []) {
  const checklist = path.join(ws.dir, 'disk-full.yaml');
  if (!existsSync(checklist)) writeFileSync(checklist, CHECKLIST);
  return runCli(['deploy', '--checklist', checklist, '--signoff-file', ws.signoffFile, '--yes', '--as', WORKSPACE_DEPLOYER, ...extra], { cwd: ws.dir, env: ws.env });
}

/** A database on the throwaway cluster, in the shape the workspace helper takes. */
async function clusterDatabase(name: string): Promise<TestDatabase> {
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`).finally(() => admin.end());
  return {
    name,
    url: withDatabaseName(cluster.url, name),
    drop: async () => {
      const c = new pg.Client({ connectionString: cluster.url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => c.end());
    },
  };
}

async function workspace(name: string): Promise<Workspace> {
  const ws = await createWorkspace({ database: await clusterDatabase(name), withServer: false });
  workspaces.push(ws);
  return ws;
}

/** Mount a tmpfs of `size` on `dir`. Never a skip: a machine that cannot mount one fails here, with the reason. */
function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    const why = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim();
    throw new Error(
      `The disk-full fault tests mount a small tmpfs and could not (${why}): run them as root (or with CAP_SYS_ADMIN).${process.env.CI === 'true' ? ' Under CI=true this is a failure, not a skip.' : ''}`,
    );
  }
  mounts.push(dir);
}

/** Fill the volume holding `dir` to the last page: nothing more fits. */
function fill(dir: string): string {
  const filler = path.join(dir, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(64 * 1024 * 1024));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  return filler;
}

function runsDir(ws: Workspace): string {
  return path.join(ws.dir, '.routergpt', 'runs', 'staging');
}

function journalOf(ws: Workspace, id: string): RunRecord {
  return JSON.parse(readFileSync(path.join(runsDir(ws), `${id}.json`), 'utf8')) as RunRecord;
}

async function tableRecord(ws: Workspace, id: string): Promise<{ status: string; record: RunRecord } | undefined> {
  return (await ws.query<{ status: string; record: RunRecord }>('SELECT status, record FROM routergpt.runs WHERE id = $1', [id]))[0];
}

/** What a deploy leaves that must not depend on how it got there (timestamps excluded). */
async function finalState(ws: Workspace) {
  return {
    migrations: (await ws.query<{ version: string }>('SELECT version FROM routergpt_schema_migrations ORDER BY version')).map((r) => r.version),
    shops: await ws.query('SELECT slug, latitude, longitude, geocode_source FROM shops ORDER BY slug'),
    backups: readdirSync(path.join(ws.dir, 'backups')).filter((f) => f.endsWith('.dump')).length,
    services: (await ws.query<{ n: number }>('SELECT count(*)::int AS n FROM services'))[0]!.n,
    flags: await ws.query('SELECT key, enabled FROM feature_flags ORDER BY key'),
    deployed: readFileSync(path.join(ws.dir, 'deploy-marker.log'), 'utf8').split('\n').filter((l) => l.startsWith('deployed')).length,
  };
}

const publicTables = async (ws: Workspace) => (await ws.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map((r) => r.t);
const runIdIn = (text: string) => /\d{8}T\d{6}Z-(?:deploy|backup)-[0-9a-f]{4,12}/.exec(text)?.[0];
const noStack = (text: string) => expect(text).not.toMatch(/Internal error|\n\s+at .*\.js:\d+/);

beforeAll(async () => {
  cluster = await startThrowawayCluster();
  const ws = await workspace('reference');
  referenceWs = ws;
  reference = deploy(ws).then(async (r) => {
    if (r.exitCode !== 0) throw new Error(`the reference deploy failed (${r.exitCode}): ${r.stderr}`);
    return finalState(ws);
  });
  reference.catch(() => {}); // awaited (and reported) by the tests that compare with it
}, 120_000);

afterAll(async () => {
  for (const dir of mounts.reverse()) execFileSync('umount', ['-l', dir]);
  for (const ws of workspaces) await ws.stop().catch(() => {});
  await cluster?.stop();
});

describe.concurrent('fault: the backup directory is full', () => {
  // Regression: pg_dump 15 exits 0 with an empty archive when its last write meets a full volume;
  // the manifest's write then failed with the bare "ENOSPC: no space left on device, write".
  it('routergpt backup: exit 1, the dump and the free space named, the run failed in the file and the table, no partial; with room again backup --resume <id> writes a dump that verifies', async () => {
    const ws = await workspace('backup_cmd');
    const dir = path.join(ws.dir, 'backups');
    mountTmpfs(dir, '256k');
    const filler = fill(dir);
    const r = await runCli(['backup', '--env', 'staging'], { cwd: ws.dir, env: ws.env });
    const out = r.stdout + r.stderr;
    expect(r.exitCode, out).toBe(1);
    expect(out).toMatch(new RegExp(`No space left on the device writing the backup ${dir}/manual-\\d{8}T\\d{6}Z\\.dump \\(0\\.0 MiB free in ${dir}\\)`));
    expect(out).toContain('Nothing was changed in the database, and the unfinished file was removed.');
    expect(out).toContain('→ Free space there, or point backup.dir (ROUTERGPT_BACKUP_DIR) at a volume with room');
    noStack(out);
    expect(readdirSync(dir)).toEqual(['filler']);
    const id = readdirSync(runsDir(ws)).find((f) => /-backup-/.test(f))!.replace(/\.json$/, '');
    const run = journalOf(ws, id);
    expect(run.status).toBe('failed');
    expect(run.items).toMatchObject([{ id: 'db.backup', state: 'failed', summary: expect.stringContaining('No space left on the device writing the backup') }]);
    expect((await tableRecord(ws, id))?.status).toBe('failed');

    rmSync(filler);
    const again = await runCli(['backup', '--env', 'staging', '--resume', id], { cwd: ws.dir, env: ws.env });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(journalOf(ws, id)).toMatchObject({ status: 'succeeded', resumes: [expect.any(String)] });
    const dumps = readdirSync(dir).filter((f) => f.endsWith('.dump'));
    expect(dumps).toHaveLength(1);
    expect(readdirSync(dir).sort()).toEqual([dumps[0], `${dumps[0]}.manifest.json`]);
    // The resumed run verified it (SHA-256 against the manifest, pg_restore --list) before it said done.
    expect(journalOf(ws, id).items).toMatchObject([{ id: 'db.backup', state: 'done', attempts: 2 }]);
  });

  it("deploy's backup step: exit 1, db.backup failed and nothing after it ran, the database untouched; with room again deploy --resume <id> reaches the uninterrupted deploy's final state", async () => {
    const ws = await workspace('deploy_backup');
    const dir = path.join(ws.dir, 'backups');
    mountTmpfs(dir, '256k');
    const filler = fill(dir);
    const tablesBefore = await publicTables(ws);

    const r = await deploy(ws);
    const out = r.stdout + r.stderr;
    expect(r.exitCode, out).toBe(1);
    expect(out).toMatch(new RegExp(`No space left on the device writing the backup ${dir}/\\S+\\.dump \\(0\\.0 MiB free in ${dir}\\)`));
    noStack(out);
    const id = runIdIn(out)!;
    expect(id, out).toBeDefined();
    const run = journalOf(ws, id);
    expect(run.status).toBe('failed');
    const items = run.items.map((i) => `${i.id}:${i.state}`);
    const at = run.items.findIndex((i) => i.id === 'db.backup');
    expect(items[at]).toBe('db.backup:failed');
    expect(run.items[at]!.summary ?? run.items[at]!.details?.join('\n')).toMatch(/No space left on the device/);
    expect(run.items.slice(at + 1).map((i) => i.state)).toEqual(run.items.slice(at + 1).map(() => 'pending'));
    expect((await tableRecord(ws, id))?.status).toBe('failed');
    // Nothing half-done: no partial dump, no manifest, no migration, no code deployed.
    expect(readdirSync(dir)).toEqual(['filler']);
    expect(await publicTables(ws)).toEqual(tablesBefore);
    expect(existsSync(path.join(ws.dir, 'deploy-marker.log'))).toBe(false);

    rmSync(filler);
    const resumed = await deploy(ws, ['--resume', id]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const done = journalOf(ws, id);
    expect(done.status).toBe('succeeded');
    expect(done.resumes).toHaveLength(1);
    expect(done.items.find((i) => i.id === 'db.backup')).toMatchObject({ state: 'done', attempts: 2 });
    expect(await finalState(ws)).toEqual(await reference);
  });

  it('regression: room for the dump and its manifest, not for the verification noted in it afterwards — the backup stands, and no temp file is left beside it', async () => {
    await reference;
    const ws = referenceWs;
    const cli = (dir: string) => runCli(['backup', '--env', 'staging'], { cwd: ws.dir, env: { ...ws.env, ROUTERGPT_BACKUP_DIR: dir } });
    // The same backup taken where there is room: the sizes of its dump and manifest.
    const probe = path.join(ws.dir, 'probe');
    const probed = await cli(probe);
    expect(probed.exitCode, probed.stderr).toBe(0);
    const dump = readdirSync(probe).find((f) => f.endsWith('.dump'))!;
    const pages = (file: string) => Math.ceil(statSync(path.join(probe, file)).size / 4096);
    // A volume with room for exactly those two (the manifest is rewritten aside to note the verification: no room for that).
    const dir = path.join(ws.dir, 'tight');
    mountTmpfs(dir, String((pages(dump) + pages(`${dump}.manifest.json`)) * 4096));
    const r = await cli(dir);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[1]).toBe(`${files[0]}.manifest.json`);
    const manifest = JSON.parse(readFileSync(path.join(dir, files[1]!), 'utf8')) as { verification?: unknown; sha256: string };
    expect(manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.verification).toBeUndefined();
  });
});

describe.concurrent('fault: the run directory fills up during a deploy', () => {
  it('the journal stops fitting: exit 1, the journal file and the free space named, the table says failed, status shows nothing running; with room again deploy --resume <id> reaches the same final state', async () => {
    const ws = await workspace('deploy_runs');
    const runs = runsDir(ws);
    // Room for the first saves of the journal (written aside and renamed: two copies at once), not for the last.
    mountTmpfs(runs, '32k');
    const r = await deploy(ws);
    const out = r.stdout + r.stderr;
    expect(r.exitCode, out).toBe(1);
    expect(out).toMatch(new RegExp(`No space left on the device writing the run journal ${runs}/\\S+\\.json \\(\\d+\\.\\d MiB free in ${runs}\\)`));
    noStack(out);
    const id = runIdIn(out)!;
    expect(id, out).toBeDefined();
    // No temp file left beside the journal; the table has the run's end.
    expect(readdirSync(runs).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const table = await tableRecord(ws, id);
    expect(table?.status).toBe('failed');
    expect(table?.record.error).toMatch(/No space left on the device writing the run journal/);
    const status = await runCli(['status', '--env', 'staging', '--json'], { cwd: ws.dir, env: ws.env });
    expect(status.stdout).toContain(id);
    expect(status.stdout).not.toMatch(/"status":\s*"running"/);
    const doneBefore = table!.record.items.filter((i) => ['done', 'warn', 'skipped'].includes(i.state)).map((i) => i.id);
    console.info(`run directory full after ${doneBefore.length} of ${table!.record.items.length} items (journal ${statSync(path.join(runs, `${id}.json`)).size} bytes on disk)`);
    // Mid-run: some items done (code deployed among them, or not), not all.
    expect(doneBefore.length).toBeGreaterThan(0);
    expect(doneBefore.length).toBeLessThan(table!.record.items.length);

    execFileSync('mount', ['-o', 'remount,size=4m', runs]);
    const resumed = await deploy(ws, ['--resume', id]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const done = journalOf(ws, id);
    expect(done.status).toBe('succeeded');
    // What the table recorded as done was not run again.
    for (const item of doneBefore) expect(done.items.find((i) => i.id === item)?.attempts, item).toBe(1);
    expect(await finalState(ws)).toEqual(await reference);
  });
});
