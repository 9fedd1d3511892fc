import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IO } from '../../src/cli/io.js';
import { failureExitCode } from '../../src/cli/render/run-result.js';
import { runDeploy } from '../../src/commands/deploy/run-deploy.js';
import { loadConfig } from '../../src/config/resolve.js';
import { UsageError } from '../../src/errors.js';
import { resolveIdentity, sameIdentity } from '../../src/runbook/identity.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import { runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { scriptedPrompter } from '../helpers/prompter.js';

/**
 * Approvals before the change (issue 9 part 7): identities, not OS accounts; an approval item
 * answered at the prompt, in the sign-off file, or by `routergpt approve` from another process
 * while a deploy without a terminal waits; the deployer never approves their own run on prod.
 */

const DEPLOYER = 'Jane@Example.com';
const DEPLOYER_ID = 'jane@example.com';

/** An approval before a data-changing step: db.migrate must never start when the approval is refused. */
const GUARDED = ['name: guarded', 'phases:', '  - id: pre-deployment', '    title: Gate', '    items:', '      - check: db.reachable', '      - approval: release', '        title: Release approved', '  - id: database', '    title: Database', '    items:', '      - step: db.migrate', ''].join('\n');
/** Nothing that changes anything: the approval, then a check (fast to run to the end). */
const APPROVAL_ONLY = ['name: approval-only', 'phases:', '  - id: pre-deployment', '    title: Gate', '    items:', '      - check: db.reachable', '      - approval: release', '        title: Release approved', '  - id: after', '    title: After', '    items:', '      - check: openapi.valid', ''].join('\n');
/** A manual item about what the deploy phase does, answered in a sign-off file written before it. */
const PRE_ANSWERED = ['name: pre-answered', 'phases:', '  - id: pre-deployment', '    title: Gate', '    items:', '      - check: db.reachable', '  - id: deploy', '    title: Deploy', '    items:', '      - check: openapi.valid', '  - id: post-deployment', '    title: Post', '    items:', '      - manual: custom-gpt-tested', '        after: deploy', '        title: Custom GPT tested end-to-end on production', ''].join('\n');

interface Workspace {
  dir: string;
  db: TestDatabase;
  env: Record<string, string>;
  file(name: string, text: string): string;
  journals(env: string): RunRecord[];
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
}

async function createWorkspace(approvals = ''): Promise<Workspace> {
  const dir = tempDir('routergpt-approvals-');
  const db = await createTestDatabase('approve');
  writeFileSync(
    path.join(dir, 'routergpt.config.yaml'),
    ['version: 1', 'environments:', '  staging:', '    database: { url_env: DATABASE_URL }', '    public_api_base: http://127.0.0.1:9', '  prod:', '    database: { url_env: DATABASE_URL }', '    protected: true', '    public_api_base: http://127.0.0.1:9', approvals, ''].join('\n'),
  );
  const runsDir = (env: string) => path.join(dir, '.routergpt', 'runs', env);
  return {
    dir,
    db,
    // No HOME: git finds no global user.email, so `--as` (or the variables a test sets) decide who acts.
    env: { DATABASE_URL: db.url, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: path.join(dir, 'no-gitconfig') },
    file(name, text) {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    journals(env) {
      const d = runsDir(env);
      if (!existsSync(d)) return [];
      return readdirSync(d).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(path.join(d, f), 'utf8')) as RunRecord);
    },
    async query(sql, values) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query(sql, values)).rows;
      } finally {
        await client.end();
      }
    },
  };
}

function memoryIO(cwd: string, env: NodeJS.ProcessEnv): IO {
  return { stdout: new PassThrough(), stderr: new PassThrough(), stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, env, cwd };
}

function inProcess(ws: Workspace, env: 'staging' | 'prod', checklist: string, options: { prompter?: ReturnType<typeof scriptedPrompter>; signoffFile?: string; as?: string } = {}) {
  const { config } = loadConfig({ flags: { env }, cwd: ws.dir, env: ws.env });
  return runDeploy({ config, io: memoryIO(ws.dir, ws.env), cwd: ws.dir, checklistFile: ws.file(`${env}-checklist.yaml`, checklist), dryRun: false, yes: true, as: options.as ?? DEPLOYER, ...(options.prompter ? { prompter: options.prompter } : {}), ...(options.signoffFile ? { signoffFile: options.signoffFile } : {}), observer: () => {} });
}

const item = (run: RunRecord | undefined, id: string) => run?.items.find((i) => i.id === id);

/** Nothing changed: no table in public, no migration history. */
async function publicTables(ws: Workspace): Promise<string[]> {
  return (await ws.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).map((r) => r.tablename);
}

let ws: Workspace | undefined;
afterEach(async () => {
  if (!ws) return;
  await ws.db.drop();
  rmSync(ws.dir, { recursive: true, force: true });
  ws = undefined;
});

describe('identity: --as > git config user.email > the CI actor > the OS account', () => {
  let repo: string;
  beforeEach(() => {
    repo = tempDir('routergpt-identity-');
    execFileSync('git', ['init', '-q', repo]);
    execFileSync('git', ['-C', repo, 'config', 'user.email', 'Git.User@Example.com']);
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));
  const isolated = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? '', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', ...extra });

  it('--as wins over git and the CI actor, normalised to lower case', async () => {
    expect(await resolveIdentity({ flag: '  Sam.Lee@Example.COM ', env: isolated({ GITHUB_ACTOR: 'octocat' }), cwd: repo })).toEqual({ id: 'sam.lee@example.com', source: 'flag', origin: '--as' });
  });

  it('without --as, git config user.email wins over the CI actor', async () => {
    expect(await resolveIdentity({ env: isolated({ GITHUB_ACTOR: 'octocat' }), cwd: repo })).toMatchObject({ id: 'git.user@example.com', source: 'git' });
  });

  it('outside a git identity, the CI actor (GITHUB_ACTOR, GITLAB_USER_LOGIN, …)', async () => {
    const bare = tempDir('routergpt-nogit-');
    expect(await resolveIdentity({ env: isolated({ GITHUB_ACTOR: 'OctoCat' }), cwd: bare })).toEqual({ id: 'octocat', source: 'ci', origin: 'GITHUB_ACTOR (CI)' });
    expect(await resolveIdentity({ env: isolated({ GITLAB_USER_LOGIN: 'gl-user' }), cwd: bare })).toMatchObject({ id: 'gl-user', source: 'ci' });
    // The last resort says what it is.
    expect(await resolveIdentity({ env: isolated(), cwd: bare })).toMatchObject({ source: 'os', origin: expect.stringContaining('OS account') });
    rmSync(bare, { recursive: true, force: true });
  });

  it('identities compare case-insensitively; an empty or multi-line --as is a usage error', async () => {
    expect(sameIdentity('Jane@Example.com', ' jane@EXAMPLE.com')).toBe(true);
    expect(sameIdentity('jane@example.com', 'sam@example.com')).toBe(false);
    await expect(resolveIdentity({ flag: '  ', env: isolated(), cwd: repo })).rejects.toBeInstanceOf(UsageError);
    await expect(resolveIdentity({ flag: 'jane\nsam', env: isolated(), cwd: repo })).rejects.toThrow(/--as "jane\\nsam" is not an identity: it contains a control character/);
  });

  it('the CLI refuses a bad --as with exit 2 before touching anything', async () => {
    ws = await createWorkspace();
    const result = await runCli(['deploy', '--env', 'prod', '--as', 'jane\tdoe', '--yes', '--checklist', ws.file('c.yaml', APPROVAL_ONLY)], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('is not an identity');
    expect(ws.journals('prod')).toEqual([]);
    expect(await ws.query(`SELECT nspname FROM pg_namespace WHERE nspname = 'routergpt'`)).toEqual([]);
    // Every command checks it, even one that records nothing.
    const status = await runCli(['status', '--env', 'prod', '--as', ' '], { cwd: ws.dir, env: ws.env });
    expect(status.exitCode).toBe(2);
    expect(status.stderr).toContain('--as " " is not an identity: it is empty.');
  });
});

describe('an approval at the prompt', () => {
  it('the deployer approving their own run on prod is refused (exit 2): the data-changing step never starts', async () => {
    ws = await createWorkspace();
    // Another case and blanks: still the deployer.
    const prompter = scriptedPrompter([' JANE@example.COM ']);
    const result = await inProcess(ws, 'prod', GUARDED, { prompter });
    prompter.assertDone();
    expect(prompter.questions[0]).toMatch(/^Release approved — approver's identity \(1 of 1; not jane@example.com; empty: wait for `routergpt approve`\):$/);
    expect(result.run?.status).toBe('failed');
    expect(failureExitCode(result.run!.items)).toBe(2);
    expect(item(result.run, 'approval.release')).toMatchObject({ state: 'failed', errorKind: 'UsageError', summary: 'jane@example.com is deploying this run and cannot approve it on prod (approvals.allow_self_approval is false).' });
    expect(item(result.run, 'db.migrate')?.state).toBe('pending');
    expect(await publicTables(ws)).toEqual([]);
  });

  it('another person approves: their identity is recorded, the run goes on', async () => {
    ws = await createWorkspace();
    const prompter = scriptedPrompter(['Sam@Example.com']);
    const result = await inProcess(ws, 'prod', APPROVAL_ONLY, { prompter });
    prompter.assertDone();
    expect(result.run?.status).toBe('succeeded');
    const approval = item(result.run, 'approval.release');
    expect(approval?.state).toBe('done');
    expect(approval?.approvals).toEqual([{ by: 'sam@example.com', at: expect.any(String), source: 'prompt', item: 'approval.release' }]);
    expect(result.run?.startedBy).toBe(DEPLOYER_ID);
  });

  it('allow_self_approval lets the deployer approve; approvals.required: 0 skips the item', async () => {
    ws = await createWorkspace('    approvals: { required: 1, allow_self_approval: true }');
    const prompter = scriptedPrompter([DEPLOYER]);
    const result = await inProcess(ws, 'prod', APPROVAL_ONLY, { prompter });
    prompter.assertDone();
    expect(result.run?.status).toBe('succeeded');
    expect(item(result.run, 'approval.release')?.approvals?.map((a) => a.by)).toEqual([DEPLOYER_ID]);
    // staging is unprotected: no approval required, nothing asked.
    const quiet = scriptedPrompter([]);
    const staging = await inProcess(ws, 'staging', APPROVAL_ONLY, { prompter: quiet });
    quiet.assertDone();
    expect(item(staging.run, 'approval.release')).toMatchObject({ state: 'skipped', summary: expect.stringContaining('no approval required on staging') });
  });

  it('a prod checklist that changes data with no approval before it is refused up front (exit 2)', async () => {
    ws = await createWorkspace();
    const unguarded = GUARDED.replace('      - approval: release\n        title: Release approved\n', '');
    await expect(inProcess(ws, 'prod', unguarded, { prompter: scriptedPrompter([]) })).rejects.toThrow(/changes user data \(db\.migrate\) on prod with no approval item before it/);
    expect(ws.journals('prod')).toEqual([]);
  });
});

describe('approvals in the sign-off file', () => {
  it('an approval by the deployer is refused up front (exit 2), nothing run — whatever its case', async () => {
    ws = await createWorkspace();
    const signoff = ws.file('signoff.yaml', 'approvals:\n  - by: JANE@example.com\n');
    const attempt = inProcess(ws, 'prod', GUARDED, { signoffFile: signoff });
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(/approvals\[0\]\.by: jane@example\.com is the deployer \(--as\); on prod the deployer cannot approve their own deploy/);
    expect(ws.journals('prod')).toEqual([]);
    expect(await ws.query(`SELECT nspname FROM pg_namespace WHERE nspname = 'routergpt'`)).toEqual([]);
    // The same through the CLI: exit 2.
    const cli = await runCli(['deploy', '--env', 'prod', '--as', DEPLOYER, '--yes', '--signoff-file', signoff, '--checklist', ws.file('c.yaml', GUARDED)], { cwd: ws.dir, env: ws.env });
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toContain('is the deployer');
    expect(await publicTables(ws)).toEqual([]);
  });

  it('an approval by someone else answers the item; signoff.approver is refused, saying what to use', async () => {
    ws = await createWorkspace();
    const ok = await inProcess(ws, 'prod', APPROVAL_ONLY, { signoffFile: ws.file('ok.yaml', 'approvals:\n  - by: Sam@Example.com\n') });
    expect(ok.run?.status).toBe('succeeded');
    expect(item(ok.run, 'approval.release')?.approvals).toEqual([{ by: 'sam@example.com', at: expect.any(String), source: 'signoff-file', item: 'approval.release' }]);
    const old = ws.file('old.yaml', 'signoff:\n  approver: Sam Lee\n');
    await expect(inProcess(ws, 'prod', APPROVAL_ONLY, { signoffFile: old })).rejects.toThrow(/signoff\.approver: no longer accepted — an approval is given before the change, by an approval item: write `approvals: \[\{ by: ID \}\]`/);
  });
});

describe('manual items about production, answered up front', () => {
  it('are recorded as pre-answered: a warning (exit 0), exit 3 under --strict', async () => {
    ws = await createWorkspace();
    const checklist = ws.file('pre.yaml', PRE_ANSWERED);
    const signoff = ws.file('signoff.yaml', 'items:\n  custom-gpt-tested: true\n');
    const args = ['deploy', '--env', 'staging', '--as', DEPLOYER, '--yes', '--signoff-file', signoff, '--checklist', checklist];
    const plain = await runCli(args, { cwd: ws.dir, env: ws.env });
    expect(plain.exitCode, plain.stderr).toBe(0);
    const [run] = ws.journals('staging');
    expect(item(run, 'manual.custom-gpt-tested')).toMatchObject({ state: 'warn', signedBy: DEPLOYER_ID, summary: expect.stringMatching(/^pre-answered: confirmed by jane@example.com in .*signoff\.yaml, read before deploy ran$/) });
    expect(plain.stdout).toContain('Pre-answered in the sign-off file before they ran — confirm them now: manual.custom-gpt-tested');
    const strict = await runCli([...args, '--strict'], { cwd: ws.dir, env: ws.env });
    expect(strict.exitCode, strict.stderr).toBe(3);
    expect(strict.stderr).toContain('--strict makes that exit 3');
  });
});

// --- asynchronously: `routergpt approve` from a second process -----------------------------

async function waitForStatus(ws: Workspace, env: string, status: string): Promise<RunRecord> {
  for (let i = 0; i < 600; i += 1) {
    const run = ws.journals(env).at(-1);
    if (run?.status === status) return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no run of ${env} reached ${status}: ${JSON.stringify(ws.journals(env).map((r) => [r.id, r.status]))}`);
}

describe('routergpt approve: a deploy without a terminal waits, and continues when approved', () => {
  it('refuses the deployer and unknown runs, records distinct approvers once each, and the waiting deploy goes on', async () => {
    const w = (ws = await createWorkspace('    approvals: { required: 2 }'));
    const checklist = w.file('c.yaml', APPROVAL_ONLY);
    const deploy = spawnCli(['deploy', '--env', 'prod', '--as', DEPLOYER, '--yes', '--checklist', checklist], { cwd: w.dir, env: w.env });
    const waiting = await waitForStatus(w, 'prod', 'waiting-approval');
    const approve = (as: string, run = waiting.id) => runCli(['approve', run, '--env', 'prod', '--as', as], { cwd: w.dir, env: w.env });

    // status shows it, from the table and the file.
    const status = await runCli(['status', '--env', 'prod', '--json'], { cwd: ws.dir, env: ws.env });
    const shown = (JSON.parse(status.stdout) as { runs: Array<{ id: string; state: string }> }).runs.find((r) => r.id === waiting.id);
    expect(shown?.state).toBe('waiting-approval');
    const [row] = await ws.query<{ status: string }>('SELECT status FROM routergpt.runs WHERE id = $1', [waiting.id]);
    expect(row?.status).toBe('waiting-approval');
    // Nothing has changed yet, so the waiting run holds no run lock: a rollback (or another run) is never blocked by it.
    const locks = await w.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = hashtext('routergpt.run')::oid AND objid = hashtext('prod')::oid`);
    expect(locks).toEqual([{ n: 0 }]);
    expect(existsSync(path.join(w.dir, '.routergpt', 'runs', 'prod', 'run.lock'))).toBe(false);

    const self = await approve('jane@EXAMPLE.com');
    expect(self.exitCode).toBe(2);
    expect(self.stderr).toContain(`jane@example.com (--as) started run ${waiting.id} and cannot approve it on prod`);
    const unknown = await approve('sam@example.com', '20261201T000000Z-deploy-0000');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('Unknown run id');

    const first = await approve('Sam@Example.com');
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).toContain('1 of 2 approvals');
    const again = await approve('SAM@example.com');
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain('sam@example.com had already approved approval.release');
    const second = await approve('lee@example.com');
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toContain('2 of 2 approvals');

    const done = await deploy;
    expect(done.exitCode, String(done.stderr)).toBe(0);
    const [run] = ws.journals('prod');
    expect(run?.status).toBe('succeeded');
    expect(item(run, 'approval.release')?.approvals?.map((a) => [a.by, a.source])).toEqual([
      ['sam@example.com', 'approve'],
      ['lee@example.com', 'approve'],
    ]);
    // A finished run is approved no more.
    const late = await approve('max@example.com');
    expect(late.exitCode).toBe(2);
    expect(late.stderr).toContain('is succeeded; only a run waiting for approval');
  });

  it('no approval within --approval-timeout: the run fails before changing anything (exit 1), resumable', async () => {
    ws = await createWorkspace();
    const result = await runCli(['deploy', '--env', 'prod', '--as', DEPLOYER, '--yes', '--approval-timeout', '1s', '--checklist', ws.file('c.yaml', GUARDED)], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode, result.stderr).toBe(1);
    const [run] = ws.journals('prod');
    expect(run?.status).toBe('failed');
    expect(item(run, 'approval.release')).toMatchObject({ state: 'failed', summary: 'approval.release: 0 of 1 approval within 1s; the run stopped before changing anything.' });
    expect(item(run, 'db.migrate')?.state).toBe('pending');
    expect(await publicTables(ws)).toEqual([]);
    expect(result.stderr).toContain(`routergpt approve ${run!.id}`);
  });
});
