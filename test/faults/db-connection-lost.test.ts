import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runbook/journal.js';
import { NEXT_MIGRATION, newestRun, REPO_ROOT, spawnCli, tempDir, type CliResult } from '../helpers/cli.js';
import { bySize } from '../helpers/fuzz-profile.js';
import { startThrowawayCluster, type Cluster } from '../helpers/pg-cluster.js';

/*
 * Issue 14 A4 and its fault injection: the database connection cut (pg_terminate_backend) around
 * each data-changing step of a deploy, on a throwaway cluster of our own — never the shared
 * server other tests use. "During a step" is hit through real seams, not hooks in the product:
 *   backup  — this test holds an ACCESS EXCLUSIVE lock on a table pg_dump must read, so pg_dump
 *             (application_name routergpt-backup) waits inside the step until we cut it;
 *   migrate — a scratch migration (ROUTERGPT_MIGRATIONS_DIR, a real option) creates a table and
 *             then waits on an advisory lock this test holds;
 *   others  — (long profile) the cut lands as soon as the journal shows the step running.
 * What is cut: the run lock's session alone, every session of the deploy (pg_dump's too), or —
 * long profile — the whole server, restarted (pg_ctl restart -m fast). Also: an
 * idle_session_timeout on the database never ends the run lock's session.
 */

const CHECKLIST = path.join(REPO_ROOT, 'test', 'fixtures', 'checklists', 'db-faults.yaml');
const SEAM_KEY = 7405_1414;
const SEAM_MIGRATION = `${NEXT_MIGRATION}_fault_seam`;

type Step = 'db.backup' | 'db.migrate' | 'db.seed-demo' | 'db.geocode-shops' | 'db.purge-test-data';
type Cut = 'lock session' | 'every session' | 'server restart';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startThrowawayCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

interface FaultWorkspace {
  /** The database's name on the throwaway cluster. */
  name: string;
  dir: string;
  env: Record<string, string>;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
  deploy(extra?: string[]): ReturnType<typeof spawnCli>;
  journal(): RunRecord | undefined;
}

function databaseUrl(name: string): string {
  const u = new URL(cluster.url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function adminQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string, values?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'fault-test' });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** A staging environment on a fresh database of the throwaway cluster, with the seams in place. */
async function faultWorkspace(): Promise<FaultWorkspace> {
  const name = `fault_${randomBytes(4).toString('hex')}`;
  await adminQuery(cluster.url, `CREATE DATABASE ${name}`);
  const url = databaseUrl(name);
  // pg_dump dumps this schema, the backup's checksums (schema public) never read it: a lock on
  // it holds pg_dump alone.
  await adminQuery(url, 'CREATE SCHEMA fault_seam; CREATE TABLE fault_seam.blocker (id int)');
  const dir = tempDir('routergpt-fault-');
  const migrations = path.join(dir, 'migrations');
  cpSync(path.join(REPO_ROOT, 'migrations'), migrations, { recursive: true });
  // A folder of one's own, not pinned: without routergpt.sum the migrator only warns.
  rmSync(path.join(migrations, 'routergpt.sum'), { force: true });
  writeFileSync(path.join(migrations, `${SEAM_MIGRATION}.sql`), `CREATE TABLE fault_seam_marker (id int);\nSELECT pg_advisory_xact_lock(${SEAM_KEY});\n`);
  writeFileSync(path.join(migrations, `${SEAM_MIGRATION}.down.sql`), 'DROP TABLE IF EXISTS fault_seam_marker;\n');
  writeFileSync(
    path.join(dir, 'routergpt.config.yaml'),
    ['version: 1', 'environments:', '  staging:', '    database: { url_env: DATABASE_URL }', '    public_api_base: http://127.0.0.1:9', '    allow_test_bookings: false', '    backup: { dir: backups, retention: 5 }', ''].join('\n'),
  );
  const signoff = path.join(dir, 'signoff.yaml');
  writeFileSync(signoff, 'signed_by: Test Operator\n');
  // A lock wait long enough for the seams to hold a step as long as the test needs.
  const env = { DATABASE_URL: url, ROUTERGPT_ENV: 'staging', ROUTERGPT_MIGRATIONS_DIR: migrations, ROUTERGPT_LOCK_TIMEOUT: '60s' };
  const runs = path.join(dir, '.routergpt', 'runs', 'staging');
  return {
    name,
    dir,
    env,
    query: (sql, values) => adminQuery(url, sql, values),
    deploy: (extra = []) => spawnCli(['deploy', '--checklist', CHECKLIST, '--signoff-file', signoff, '--yes', '--as', 'ops@example.com', ...extra], { cwd: dir, env }),
    journal: () => newestRun(runs),
  };
}

async function result(child: ReturnType<typeof spawnCli>): Promise<CliResult> {
  const r = await child;
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** What a deploy leaves that must not depend on how it got there. */
async function finalState(ws: FaultWorkspace) {
  return {
    migrations: (await ws.query<{ version: string }>('SELECT version FROM routergpt_schema_migrations ORDER BY version')).map((r) => r.version),
    marker: (await ws.query<{ t: string | null }>(`SELECT to_regclass('fault_seam_marker')::text AS t`))[0]!.t,
    shops: await ws.query('SELECT slug, latitude, longitude, geocode_source FROM shops ORDER BY slug'),
    services: (await ws.query<{ n: number }>('SELECT count(*)::int AS n FROM services'))[0]!.n,
    flags: await ws.query('SELECT key, enabled FROM feature_flags ORDER BY key'),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, child: ReturnType<typeof spawnCli>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    if (child.exitCode !== null) throw new Error(`the deploy exited (${child.exitCode}) before ${what}:\n${String((await child).stderr)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A session of this test that holds a step inside its seam until `release`. */
async function holdSeam(ws: FaultWorkspace, step: Step): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl(ws.name), application_name: 'fault-test-seam' });
  client.on('error', () => {});
  await client.connect();
  // The seam's own session must outlast an idle_session_timeout a case sets on the database.
  await client.query('SET idle_session_timeout = 0');
  if (step === 'db.backup') {
    await client.query('BEGIN');
    await client.query('LOCK TABLE fault_seam.blocker IN ACCESS EXCLUSIVE MODE');
  } else if (step === 'db.migrate') {
    await client.query(`SELECT pg_advisory_lock(${SEAM_KEY})`);
  }
  return { release: () => client.end().catch(() => {}) };
}

/** The step is inside its seam: pg_dump waiting on the table lock, the scratch migration on the advisory lock. */
function inSeam(ws: FaultWorkspace, step: Step) {
  const sql =
    step === 'db.backup'
      ? `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'routergpt-backup' AND wait_event_type = 'Lock'`
      : `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'routergpt%' AND wait_event_type = 'Lock' AND query LIKE '%pg_advisory_xact_lock(${SEAM_KEY})%'`;
  return async () => ((await ws.query(sql)).length > 0 ? true : undefined);
}

async function cut(ws: FaultWorkspace, what: Cut): Promise<number> {
  if (what === 'server restart') {
    // pg_ctl restart -m fast: every session ends (57P01), connections are refused until it is back.
    await cluster.restart();
    return 1;
  }
  const sql =
    what === 'lock session'
      ? `SELECT pg_terminate_backend(l.pid) AS ok FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid = hashtext('routergpt.run')::oid`
      : `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'routergpt%' AND pid <> pg_backend_pid()`;
  return (await ws.query<{ ok: boolean }>(sql)).filter((r) => r.ok).length;
}

/** Processes still running with this workspace in their command line (a pg_dump writing into backups/). */
function strays(ws: FaultWorkspace): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(ws.dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      /* gone */
    }
  }
  return found;
}

interface Case {
  step: Step;
  cut: Cut;
}

/** Cut the connection while `step` runs, then check the failure, the journal, what was left, and the resume. */
async function cutDuring(c: Case, expected: Awaited<ReturnType<typeof finalState>>): Promise<void> {
  const ws = await faultWorkspace();
  const seamed = c.step === 'db.backup' || c.step === 'db.migrate';
  const seam = seamed ? await holdSeam(ws, c.step) : undefined;
  const child = ws.deploy();
  let failed: CliResult;
  try {
    if (seam) await until(`${c.step} waits in its seam`, inSeam(ws, c.step), child);
    else await until(`${c.step} running`, () => (ws.journal()?.items.find((i) => i.id === c.step)?.state === 'running' ? true : undefined), child);
    expect(await cut(ws, c.cut), `sessions cut during ${c.step}`).toBeGreaterThan(0);
    // A lock session cut alone leaves the step to finish (released from its seam): the run stops after it.
    if (c.cut === 'lock session') await seam?.release();
    failed = await result(child);
  } finally {
    await seam?.release();
  }
  const label = `${c.cut} cut during ${c.step}`;
  // A clear error and the documented exit code: 1, a step failed — never a crash.
  expect(failed.exitCode, `${label}: ${failed.stderr}`).toBe(1);
  const output = failed.stdout + failed.stderr;
  expect(output, label).toContain('database connection lost');
  expect(output, label).not.toMatch(/Internal error|Unhandled 'error' event|at .*\.js:\d+/);
  expect(output, label).toContain(`--resume`);
  // The journal: the run failed, one item failed for the lost connection, every item before it done.
  const run = ws.journal()!;
  expect(run.status, label).toBe('failed');
  expect(run.error, label).toContain('database connection lost');
  const failedItems = run.items.filter((i) => i.state === 'failed');
  expect(failedItems.map((i) => i.errorKind), label).toEqual(['DatabaseConnectionLostError']);
  const at = run.items.indexOf(failedItems[0]!);
  const stepAt = run.items.findIndex((i) => i.id === c.step);
  expect(at, `${label}: failed at ${failedItems[0]!.id}`).toBeGreaterThanOrEqual(stepAt);
  // The step's own connection cut: the step fails. The lock's session alone: the step finishes
  // and keeps what it did (its outputs are what a rollback undoes); the next item is not started.
  if (seamed) expect(failedItems[0]!.id, label).toBe(c.cut === 'lock session' ? run.items[stepAt + 1]!.id : c.step);
  const doneBefore = run.items.slice(0, at).map((i) => i.id);
  expect(run.items.slice(0, at).every((i) => ['done', 'warn', 'skipped'].includes(i.state)), label).toBe(true);
  expect(run.items.slice(at + 1).every((i) => i.state === 'pending'), label).toBe(true);
  expect(failedItems[0]!.summary, label).toContain('database connection lost');
  // The database copy of the journal says so too (the pool reconnects) — unless the server was
  // still down when the run ended, which the run says (the file is the journal of record).
  const [row] = await ws.query<{ status: string }>('SELECT status FROM routergpt.runs WHERE id = $1', [run.id]);
  if (c.cut !== 'server restart' || row?.status === 'failed') expect(row?.status, label).toBe('failed');
  else expect(output, label).toContain('journal: could not write to the database');
  // No child left running, no unfinished dump left (a complete one always has its manifest).
  expect(strays(ws), label).toEqual([]);
  const backups = path.join(ws.dir, 'backups');
  const files = existsSync(backups) ? readdirSync(backups) : [];
  expect(files.filter((f) => f.includes('.partial-')), label).toEqual([]);
  for (const dump of files.filter((f) => f.endsWith('.dump'))) expect(files, label).toContain(`${dump}.manifest.json`);
  // Nothing half-changed: the scratch migration is applied with its table, or neither.
  const state = await ws.query<{ table: boolean; marker: boolean }>(`SELECT to_regclass('routergpt_schema_migrations') IS NOT NULL AS table, to_regclass('fault_seam_marker') IS NOT NULL AS marker`);
  const seamApplied = state[0]!.table ? (await ws.query(`SELECT 1 FROM routergpt_schema_migrations WHERE version = $1`, [NEXT_MIGRATION])).length > 0 : false;
  expect(state[0]!.marker, `${label}: the marker table exists exactly when its migration is recorded`).toBe(seamApplied);
  if (c.step === 'db.backup') expect(seamApplied, label).toBe(false);
  if (c.step === 'db.migrate' && c.cut !== 'lock session') expect(seamApplied, label).toBe(false);
  // --resume reaches the state of an uninterrupted run.
  const resumed = await result(ws.deploy(['--resume']));
  expect(resumed.exitCode, `${label}, then --resume: ${resumed.stderr}`).toBe(0);
  const after = ws.journal()!;
  expect(after.id).toBe(run.id);
  expect(after.status).toBe('succeeded');
  expect(after.resumes).toHaveLength(1);
  // No item done before the cut runs twice.
  for (const id of doneBefore) expect(after.items.find((i) => i.id === id)!.attempts, `${label}: ${id}`).toBe(1);
  expect(await finalState(ws), label).toEqual(expected);
  await dropWorkspace(ws);
}

async function dropWorkspace(ws: FaultWorkspace): Promise<void> {
  await adminQuery(cluster.url, `DROP DATABASE IF EXISTS ${ws.name} WITH (FORCE)`);
  rmSync(ws.dir, { recursive: true, force: true });
}

const QUICK: Case[] = [
  { step: 'db.backup', cut: 'every session' },
  { step: 'db.migrate', cut: 'every session' },
  { step: 'db.migrate', cut: 'lock session' },
];
const STEPS: Step[] = ['db.backup', 'db.migrate', 'db.seed-demo', 'db.geocode-shops', 'db.purge-test-data'];
const CASES: Case[] = bySize(
  QUICK,
  STEPS.flatMap((step) => (['lock session', 'every session', 'server restart'] as Cut[]).map((c) => ({ step, cut: c }))),
);

describe('A4: a dropped database connection during a deploy', () => {
  let expected: Awaited<ReturnType<typeof finalState>>;

  beforeAll(async () => {
    const ws = await faultWorkspace();
    const reference = await result(ws.deploy());
    expect(reference.exitCode, reference.stderr).toBe(0);
    expected = await finalState(ws);
    expect(expected.migrations).toContain(NEXT_MIGRATION);
    await dropWorkspace(ws);
  }, 120_000);

  it('idle_session_timeout on the database does not end the run lock session, idle by design for the whole run; whatever else it ends is "database connection lost"', async () => {
    const ws = await faultWorkspace();
    await ws.query(`ALTER DATABASE ${ws.name} SET idle_session_timeout = '500ms'`);
    const seam = await holdSeam(ws, 'db.migrate');
    const child = ws.deploy();
    try {
      await until('db.migrate waits in its seam', inSeam(ws, 'db.migrate'), child);
      // Idle sessions of the deploy's pool end meanwhile (the pool replaces them); the lock's must not.
      await new Promise((r) => setTimeout(r, 1500));
      const held = await ws.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = hashtext('routergpt.run')::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
      expect(held, 'the run lock is still held after 1.5 s of idle_session_timeout = 500ms').toHaveLength(1);
    } finally {
      await seam.release();
    }
    const done = await result(child);
    // A client a step holds idle past the timeout (the geocoder's request slot) may still be
    // ended: that is the documented failure, never a crash — and --resume finishes the run.
    if (done.exitCode !== 0) {
      expect(done.exitCode, done.stderr).toBe(1);
      expect(done.stdout + done.stderr).toContain('database connection lost');
      expect(done.stdout + done.stderr).toContain('idle-session timeout');
      expect(ws.journal()?.status).toBe('failed');
      await ws.query(`ALTER DATABASE ${ws.name} RESET idle_session_timeout`);
      const resumed = await result(ws.deploy(['--resume']));
      expect(resumed.exitCode, resumed.stderr).toBe(0);
    }
    expect(ws.journal()?.status).toBe('succeeded');
    expect(await finalState(ws)).toEqual(expected);
    await dropWorkspace(ws);
  }, 120_000);

  for (const c of CASES) {
    it(`${c.cut} cut during ${c.step}: exit 1 "database connection lost", the run journaled failed, nothing half-done, --resume ends where an uninterrupted run does`, async () => {
      await cutDuring(c, expected);
    }, 180_000);
  }
});
