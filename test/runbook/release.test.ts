/**
 * Releases have an identity (DESIGN.md "Runbook": Releases): `--release` > ROUTERGPT_RELEASE >
 * `git describe`, journaled, given to the deploy commands, reported by /health as `version`,
 * and waited for by api.wait-healthy. Real git, real PostgreSQL, real servers on loopback.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import { resolveRelease } from '../../src/runbook/release.js';
import { commandFor, shellQuote } from '../../src/steps/code/run-commands.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { createWorkspace, LOOPBACK_CHECKLIST, type Workspace } from '../helpers/workspace.js';

const GIT_ENV = { GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.org', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.org', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
const git = async (cwd: string, ...args: string[]) => (await execa('git', args, { cwd, env: GIT_ENV })).stdout.trim();

function journals(ws: Workspace): RunRecord[] {
  const dir = path.join(ws.dir, '.routergpt', 'runs', 'staging');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RunRecord)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** A checklist of one deploy phase; each item is YAML (its lines after the first are indented under it). */
function writeChecklist(ws: Workspace, name: string, items: string[]): string {
  const file = path.join(ws.dir, `${name}.yaml`);
  const lines = items.flatMap((item) => item.split('\n').map((line, i) => `${i === 0 ? '      - ' : '        '}${line}`));
  writeFileSync(file, [`name: ${name}`, 'phases:', '  - id: deploy', '    title: Deployment steps', '    items:', ...lines, ''].join('\n'));
  return file;
}

describe('resolveRelease', () => {
  let repo: string;
  let sha: string;
  beforeAll(async () => {
    repo = tempDir('routergpt-release-git-');
    await git(repo, 'init', '-q');
    writeFileSync(path.join(repo, 'app.txt'), 'one\n');
    await git(repo, 'add', 'app.txt');
    await git(repo, 'commit', '-q', '-m', 'one');
    await git(repo, 'tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
    sha = await git(repo, 'rev-parse', 'HEAD');
  });

  it('takes --release first, then ROUTERGPT_RELEASE, then git describe; records the commit of a git ref', async () => {
    const env = { ROUTERGPT_RELEASE: 'registry.example.org/routergpt:2024-11-25' };
    expect(await resolveRelease({ flag: 'v1.0.0', env, cwd: repo })).toEqual({ id: 'v1.0.0', commit: sha, source: 'flag' });
    expect(await resolveRelease({ flag: 'image-42', env, cwd: repo })).toEqual({ id: 'image-42', source: 'flag' });
    expect(await resolveRelease({ env, cwd: repo })).toEqual({ id: 'registry.example.org/routergpt:2024-11-25', source: 'env' });
    expect(await resolveRelease({ env: { ROUTERGPT_RELEASE: `  ${sha.slice(0, 10)}\n` }, cwd: repo })).toEqual({ id: sha.slice(0, 10), commit: sha, source: 'env' });
    expect(await resolveRelease({ env: {}, cwd: repo })).toEqual({ id: 'v1.0.0', commit: sha, source: 'git' });
    // An empty variable is unset (a CI template that leaves it blank).
    expect(await resolveRelease({ env: { ROUTERGPT_RELEASE: '' }, cwd: repo })).toMatchObject({ id: 'v1.0.0', source: 'git' });
  });

  it('says -dirty when the working tree has changes, with the commit of HEAD', async () => {
    writeFileSync(path.join(repo, 'app.txt'), 'two\n');
    try {
      expect(await resolveRelease({ cwd: repo })).toEqual({ id: 'v1.0.0-dirty', commit: sha, source: 'git' });
    } finally {
      writeFileSync(path.join(repo, 'app.txt'), 'one\n');
    }
  });

  it('is none outside a git working tree with nothing given', async () => {
    expect(await resolveRelease({ env: {}, cwd: tempDir('routergpt-release-none-') })).toEqual({ id: null, source: 'none' });
    expect(await resolveRelease({ flag: 'v3', cwd: tempDir('routergpt-release-none-') })).toEqual({ id: 'v3', source: 'flag' });
  });

  it.each([
    ['two lines', 'v1\nv2'],
    ['a tab', 'v1\tbeta'],
    ['an escape sequence', 'v1\u001b[31m'],
    ['201 characters', 'x'.repeat(201)],
    ['nothing', '  '],
  ])('refuses a --release of %s as a usage error', async (_name, flag) => {
    const error = await resolveRelease({ flag, cwd: repo }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/^--release .* is not a release id/);
    expect((error as UsageError).hint).toContain('--release v1.4.2');
  });

  it('refuses a bad ROUTERGPT_RELEASE naming the variable, and accepts 200 characters', async () => {
    const error = await resolveRelease({ env: { ROUTERGPT_RELEASE: 'v1\r\nX-Injected: yes' }, cwd: repo }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain('ROUTERGPT_RELEASE="v1\\r\\nX-Injected: yes" (from the environment) is not a release id');
    expect((await resolveRelease({ flag: 'x'.repeat(200), cwd: repo })).id).toHaveLength(200);
  });
});

describe('release variables on hosts reached through via', () => {
  it('sets them in front of the remote command, single-quoted', () => {
    const host = { name: 'web-1', via: ['ssh', 'deploy@web-1.example.org'] };
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(commandFor(host, 'pm2 restart routergpt --update-env', { ROUTERGPT_RELEASE: "it's" })).toEqual(['ssh', 'deploy@web-1.example.org', `export ROUTERGPT_RELEASE='it'\\''s'; pm2 restart routergpt --update-env`]);
    expect(commandFor(host, 'git checkout "$ROUTERGPT_ROLLBACK_RELEASE"', { ROUTERGPT_RELEASE: 'v2', ROUTERGPT_ROLLBACK_RELEASE: 'v1' })).toEqual(['ssh', 'deploy@web-1.example.org', `export ROUTERGPT_RELEASE='v2' ROUTERGPT_ROLLBACK_RELEASE='v1'; git checkout "$ROUTERGPT_ROLLBACK_RELEASE"`]);
    expect(commandFor(host, 'uptime')).toEqual(['ssh', 'deploy@web-1.example.org', 'uptime']);
    // Locally the shell runs the command as configured; the variables go in its environment.
    expect(commandFor({ name: 'this machine', via: [] }, 'npm ci', { ROUTERGPT_RELEASE: 'v2' })).toEqual(['npm ci']);
  });

  it('reaches the remote shell intact, whatever the id holds (`sh -c` as the remote end)', async () => {
    const nasty = `it's "v1" $(touch pwned) \`id\` $HOME ; \\`;
    const [file, ...args] = commandFor({ name: 'shell', via: ['sh', '-c'] }, 'printf %s "$ROUTERGPT_RELEASE" && printf "|%s" "$ROUTERGPT_ROLLBACK_RELEASE"', { ROUTERGPT_RELEASE: nasty, ROUTERGPT_ROLLBACK_RELEASE: 'v0' });
    const cwd = tempDir();
    const { stdout } = await execa(file, args, { cwd, env: {}, extendEnv: false });
    expect(stdout).toBe(`${nasty}|v0`);
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('a deploy with --release on a real PostgreSQL and a real running server', () => {
  let ws: Workspace | undefined;
  afterEach(async () => {
    await ws?.stop();
    ws = undefined;
  });

  it('journals it, hands it to the deploy commands, waits for /health to report it, and status shows it', async () => {
    // The server is started like a deploy's restart would start it: with ROUTERGPT_RELEASE.
    ws = await createWorkspace({ deployCommand: 'echo "$ROUTERGPT_RELEASE" > release.txt', env: { ROUTERGPT_RELEASE: 'v9.9.9' } });
    const health = async () => (await (await fetch(`http://127.0.0.1:${ws!.port}/health`)).json()) as { ok: boolean; version: string };
    // Not migrated yet: unhealthy (schema_behind), and it already says which release it runs.
    expect(await health()).toMatchObject({ ok: false, version: 'v9.9.9' });

    // The deploy itself has no ROUTERGPT_RELEASE: the flag names the release.
    const env = { ...ws.env, ROUTERGPT_RELEASE: undefined };
    const result = await runCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile, '--yes', '--release', 'v9.9.9'], { cwd: ws.dir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('Plan: loopback checklist on staging');
    expect(result.stderr).toContain('release: v9.9.9 (from --release)');
    expect(result.stderr).toContain('until 200 {"ok":true,"version":"v9.9.9"}');

    const [run] = journals(ws);
    expect(run).toMatchObject({ kind: 'deploy', status: 'succeeded', release: 'v9.9.9' });
    expect(run!.releaseCommit).toBeUndefined(); // not a git working tree
    expect(await health()).toMatchObject({ ok: true, version: 'v9.9.9' });
    expect(run!.items.find((i) => i.id === 'api.wait-healthy')).toMatchObject({ state: 'done', outputs: { version: 'v9.9.9' } });
    expect(readFileSync(path.join(ws.dir, 'release.txt'), 'utf8')).toBe('v9.9.9\n');
    const [dbRun] = await ws.query<{ record: RunRecord }>('SELECT record FROM routergpt.runs WHERE id = $1', [run!.id]);
    expect(dbRun?.record.release).toBe('v9.9.9');

    const status = await runCli(['status'], { cwd: ws.dir, env });
    expect(status.exitCode, status.stderr).toBe(0);
    const [header, row] = status.stdout.split('\n').filter((l) => l.includes('release') || l.includes(run!.id));
    expect(header).toMatch(/\brelease\b/);
    expect(row).toContain('v9.9.9');
    expect(header!.indexOf('release')).toBe(row!.indexOf('v9.9.9'));
  });

  it('api.wait-healthy against a server still reporting another version fails naming both', async () => {
    ws = await createWorkspace({ withServer: false });
    const old: Server = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/health' ? { ok: true, version: 'old' } : { error: 'not found' }));
    });
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(old.address() as AddressInfo).port}`;
      const checklist = writeChecklist(ws, 'wait-only', ['step: api.wait-healthy\nparams: { timeout: 2s }']);
      const result = await runCli(['deploy', '--checklist', checklist, '--yes', '--base-url', base, '--release', 'v9.9.9'], { cwd: ws.dir, env: ws.env });
      expect(result.exitCode, result.stderr).toBe(1);
      expect(result.stderr + result.stdout).toContain(`The API at ${base} still reports version "old", not the release being deployed "v9.9.9"`);
      const [run] = journals(ws);
      expect(run).toMatchObject({ status: 'failed', release: 'v9.9.9' });
      expect(run!.items[0]).toMatchObject({ id: 'api.wait-healthy', state: 'failed' });

      // Without a release to wait for, the same healthy answer is enough (nothing to compare).
      const none = await runCli(['deploy', '--checklist', checklist, '--yes', '--base-url', base], { cwd: ws.dir, env: ws.env });
      expect(none.exitCode, none.stderr).toBe(0);
      expect(none.stderr).toContain('release: none');
    } finally {
      await new Promise((resolve) => old.close(resolve));
    }
  });

  it('rollback --tier code gives the rollback commands the release of the last deploy that succeeded before the target', async () => {
    ws = await createWorkspace({ withServer: false, deployCommand: 'echo "$ROUTERGPT_RELEASE" >> deployed.txt' });
    const config = path.join(ws.dir, 'routergpt.config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('echo rolled-back >> deploy-marker.log', JSON.stringify('echo "$ROUTERGPT_ROLLBACK_RELEASE <- $ROUTERGPT_RELEASE" > rolled-back.txt')));
    const checklist = writeChecklist(ws, 'code-only', ['step: code.deploy']);
    for (const release of ['v1.0.0', 'v1.1.0']) {
      const deployed = await runCli(['deploy', '--checklist', checklist, '--yes', '--release', release], { cwd: ws.dir, env: ws.env });
      expect(deployed.exitCode, deployed.stderr).toBe(0);
    }
    expect(readFileSync(path.join(ws.dir, 'deployed.txt'), 'utf8')).toBe('v1.0.0\nv1.1.0\n');

    const rollback = await runCli(['rollback', '--tier', 'code', '--yes', '--no-verify', '--release', 'ops-rollback'], { cwd: ws.dir, env: ws.env });
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    expect(rollback.stderr).toMatch(/code goes back to: v1\.0\.0 \(deploy \S+-deploy-\S+, the last that succeeded before the target/);
    expect(readFileSync(path.join(ws.dir, 'rolled-back.txt'), 'utf8')).toBe('v1.0.0 <- ops-rollback\n');
    const runs = journals(ws);
    expect(runs.at(-1)).toMatchObject({ kind: 'rollback', status: 'succeeded', release: 'ops-rollback', target: runs[1]!.id });
  });
});
