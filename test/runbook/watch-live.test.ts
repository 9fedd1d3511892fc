/**
 * The issue's "Done when" for watch: a real API server on loopback under live traffic (a bounded
 * loop of real search requests), a real PostgreSQL, the built CLI as a child process. Healthy
 * traffic passes (exit 0); with search broken (a real fault: the column the location search
 * reads is gone, so it answers 5xx) `watch --on-fail toggle` fails (exit 1) and the router is off,
 * switched by the break-glass toggle journaled as a rollback run linked from the deploy. Also:
 * the api.watch step in a deploy runs without the run lock and journals its WatchReport; bad
 * flags exit 2; no traffic is inconclusive (exit 3 under --strict).
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.js';
import { readRouterFlag, writeRouterFlag } from '../../src/db/router-flag.js';
import { runsDir, type RunRecord } from '../../src/runbook/journal.js';
import { isRunLockHeld } from '../../src/runbook/lock.js';
import type { WatchReport } from '../../src/runbook/watch/types.js';
import { PassThrough } from 'node:stream';
import { runWatch } from '../../src/commands/watch/run-watch.js';
import { loadConfig } from '../../src/config/resolve.js';
import { execa } from 'execa';
import { BIN, cleanEnv, runCli, spawnCli } from '../helpers/cli.js';
import { scriptedPrompter } from '../helpers/prompter.js';
import { freePort } from '../helpers/pg-cluster.js';
import { createWorkspace, WORKSPACE_DEPLOYER, type Workspace } from '../helpers/workspace.js';
import { buildTestApp, insertTestShop, migrateTo, NEWEST_MIGRATION, postJson, testConfig } from '../server/helpers.js';

const SEARCH = '/router/search-by-location';
const TEMPE = { latitude: 33.4255, longitude: -111.94, radius_miles: 10 };

let ws: Workspace;
let pool: Pool;
let app: FastifyInstance;
let base: string;

/** Real search requests, one after another, until stopped; the statuses they got. */
function traffic() {
  let stop = false;
  const statuses: number[] = [];
  const done = (async () => {
    for (let i = 0; i < 2000 && !stop; i += 1) {
      statuses.push((await postJson(`${base}${SEARCH}`, TEMPE)).status);
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  return {
    statuses,
    async stop() {
      stop = true;
      await done;
    },
  };
}

const watch = (args: string[]) => runCli(['watch', ...args], { cwd: ws.dir, env: ws.env });

async function runs(kind: string): Promise<RunRecord[]> {
  return (await pool.query<{ record: RunRecord }>('SELECT record FROM routergpt.runs WHERE kind = $1 ORDER BY started_at', [kind])).rows.map((r) => r.record);
}

beforeAll(async () => {
  ws = await createWorkspace({ withServer: false });
  pool = createPool({ connectionString: ws.db.url, max: 4 });
  await migrateTo(pool, NEWEST_MIGRATION);
  await insertTestShop(pool);
  // The real server, on the port the workspace's config names as public_api_base, running release v2.
  app = await buildTestApp({ pool, config: testConfig(ws.db.url), release: 'v2' });
  base = await app.listen({ host: '127.0.0.1', port: ws.port });
  // A deploy run of the environment, for the toggle's rollback run to be linked from.
  const deploy = await runCli(['deploy', '--yes', '--as', WORKSPACE_DEPLOYER, '--checklist', checklistFile('mini.yaml', MINI)], { cwd: ws.dir, env: ws.env });
  expect(deploy.exitCode, deploy.stderr).toBe(0);
}, 120_000);

const MINI = 'name: mini\nphases:\n  - id: pre\n    items:\n      - check: db.reachable\n';
function checklistFile(name: string, text: string): string {
  const file = path.join(ws.dir, name);
  writeFileSync(file, text);
  return file;
}

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await ws?.stop();
});

describe('bad input: exit 2, one message naming the problem and the fix, nothing watched', () => {
  it.each([
    [['--for', '7x'], '--for "7x" is not a duration: use a number with ms, s, m, h, d or w (e.g. 30s, 5m)'],
    [['--for', '2s', '--interval', '5s'], '--interval 5s is longer than --for 2s.'],
    [['--on-fail', 'rollback'], 'Unknown --on-fail "rollback".'],
    [['--base-url', 'localhost:8080'], '--base-url "localhost:8080" is not an http(s) URL.'],
  ])('watch %j', async (args, message) => {
    const result = await watch(args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
  });
});

describe('an API that does not answer', () => {
  it('is not a verdict: exit 1, nothing watched, the router left alone even with --on-fail toggle', async () => {
    // A loopback port nothing listens on.
    const closed = `http://127.0.0.1:${await freePort()}`;
    const result = await watch(['--for', '1s', '--interval', '1s', '--on-fail', 'toggle', '--base-url', closed]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`The API at ${closed} did not answer /health (ECONNREFUSED); nothing was watched or changed.`);
    expect((await readRouterFlag(pool))?.enabled ?? true).toBe(true);
  });
});

describe('watch under live traffic', () => {
  it('no traffic: inconclusive, not pass — exit 0, and 3 under --strict', async () => {
    const plain = await watch(['--for', '1s', '--interval', '1s', '--min-requests', '5', '--json']);
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect((JSON.parse(plain.stdout) as WatchReport).status).toBe('inconclusive');
    const strict = await watch(['--for', '1s', '--interval', '1s', '--min-requests', '5', '--strict']);
    expect(strict.exitCode).toBe(3);
    expect(strict.stdout).toContain('inconclusive after the full watch (exit 3 under --strict)');
    expect(strict.stdout).toContain('baseline: none — no baseline: no release before v2 is recorded');
  });

  it('healthy traffic passes (exit 0): every window journaled in the report, plain lines on stderr', async () => {
    const load = traffic();
    try {
      const result = await watch(['--for', '3s', '--interval', '1s', '--on-fail', 'toggle', '--min-requests', '5', '--reporter', 'json', '--reporter', 'human']);
      expect(result.exitCode, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as WatchReport;
      expect(report).toMatchObject({ status: 'pass', completed: true, release: 'v2' });
      expect(report.windows.map((w) => w.index)).toEqual([1, 2, 3]);
      const search = report.windows[2]!.routes.find((r) => r.route === 'search')!;
      expect(search.status).toBe('pass');
      expect(search.verdicts.find((v) => v.metric === 'error_rate')).toMatchObject({ status: 'pass', actual: 0 });
      expect(search.verdicts.find((v) => v.metric === 'requests')!.actual).toBeGreaterThanOrEqual(5);
      expect(result.stderr).toMatch(/✔ window 3\/3 \(3 s of 3 s\): pass — search \d+ req, 0\.00 % err/);
      expect((await readRouterFlag(pool))?.enabled ?? true).toBe(true);
    } finally {
      await load.stop();
    }
    expect(load.statuses.every((s) => s === 200)).toBe(true);
  }, 30_000);

  it('on a terminal, a frame redrawn in place per interval (a real pty: util-linux script)', async () => {
    const load = traffic();
    let raw: string;
    try {
      const quote = (x: string) => `'${x.replaceAll("'", `'\\''`)}'`;
      const command = `stty cols 120 rows 40; ${[process.execPath, BIN, 'watch', '--for', '2s', '--interval', '1s', '--min-requests', '5'].map(quote).join(' ')}`;
      // Asynchronously: the server answering it runs in this process.
      const result = await execa('script', ['-qfec', command, '/dev/null'], { cwd: ws.dir, env: cleanEnv({ ...ws.env, TERM: 'xterm' }), extendEnv: false, reject: false, timeout: 20_000 });
      expect(result.exitCode, String(result.stdout)).toBe(0);
      raw = String(result.stdout);
    } finally {
      await load.stop();
    }
    // The first frame, then the cursor moved up over it and the screen below cleared, then the second.
    // The first window ends when its interval has passed: 1 s, or 1.x s on a busy machine.
    expect(raw).toMatch(/window 1 \(1(\.\d)? s of 2 s\)/);
    // eslint-disable-next-line no-control-regex -- the escape codes are what is tested
    expect(raw).toMatch(/\x1b\[\d+A\x1b\[0J[^]*window 2 \(2 s of 2 s\)/);
    expect(raw).not.toContain('✔ window 1/2');
    expect(raw).toContain('watch passed after the full watch');
  }, 30_000);

  it('--on-fail pause: without a terminal it stops and says so (the router stays on); a person answering yes switches it off', async () => {
    const load = traffic();
    await pool.query('ALTER TABLE shops RENAME COLUMN latitude TO latitude_gone');
    try {
      const cli = await watch(['--for', '1s', '--interval', '1s', '--on-fail', 'pause', '--min-requests', '5', '--json']);
      expect(cli.exitCode, cli.stderr).toBe(1);
      expect((JSON.parse(cli.stdout) as WatchReport).action).toEqual({ onFail: 'pause', taken: 'stopped', reason: '--on-fail pause: there is no terminal to ask on, so it stopped as --on-fail stop does; the router stays on' });
      expect((await readRouterFlag(pool))?.enabled ?? true).toBe(true);
      // In process, with a person at the prompt (the injected prompter), answering yes.
      const prompter = scriptedPrompter([true]);
      const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, env: ws.env, cwd: ws.dir };
      const { config } = loadConfig({ flags: {}, cwd: ws.dir, env: ws.env });
      const report = await runWatch({ config, io, cwd: ws.dir, apiBase: base, settings: { ...config.watch.value, forMs: 1000, intervalMs: 1000, minRequests: 5 }, onFail: 'pause', strict: false, prompter });
      prompter.assertDone();
      expect(prompter.questions[0]).toMatch(/^The watch of staging failed \(search error_rate: \d+ errors \(5xx\) of \d+ requests = [\d.]+ % > limit 1\.00 % \(no baseline\)\)\. Switch the router off now \(break-glass toggle\)\?$/);
      expect(report.action).toMatchObject({ onFail: 'pause', taken: 'toggled' });
      expect((await readRouterFlag(pool))?.enabled).toBe(false);
    } finally {
      await pool.query('ALTER TABLE shops RENAME COLUMN latitude_gone TO latitude');
      await load.stop();
      await writeRouterFlag(pool, true, 'test');
    }
  }, 30_000);

  it('search broken under traffic: watch --on-fail toggle fails (exit 1) and the router is off, journaled as a rollback run of the deploy', async () => {
    const [deploy] = await runs('deploy');
    const load = traffic();
    await pool.query('ALTER TABLE shops RENAME COLUMN latitude TO latitude_gone');
    let result;
    try {
      result = await watch(['--for', '3s', '--interval', '1s', '--on-fail', 'toggle', '--min-requests', '5', '--json']);
    } finally {
      await pool.query('ALTER TABLE shops RENAME COLUMN latitude_gone TO latitude');
      await new Promise((r) => setTimeout(r, 1500));
      await load.stop();
    }
    expect(result.exitCode, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as WatchReport;
    expect(report.status).toBe('fail');
    // A fail ends the watch early.
    expect(report.completed).toBe(false);
    expect(report.windows.length).toBeLessThan(3);
    const errorRate = report.windows.at(-1)!.routes.find((r) => r.route === 'search')!.verdicts.find((v) => v.metric === 'error_rate')!;
    expect(errorRate.status).toBe('fail');
    expect(errorRate.actual).toBeGreaterThan(0.01);
    expect(errorRate.reason).toMatch(/^\d+ errors \(5xx\) of \d+ requests = [\d.]+ % > limit 1\.00 % \(no baseline\)$/);
    // The toggle: the flag is off, the server answers 503, and the rollback run is journaled against the deploy.
    expect((await readRouterFlag(pool))?.enabled).toBe(false);
    expect(load.statuses).toContain(500);
    expect(load.statuses.at(-1)).toBe(503);
    expect(report.action).toMatchObject({ onFail: 'toggle', taken: 'toggled', deployRunId: deploy!.id });
    const rollback = (await runs('rollback')).find((r) => r.id === report.action!.rollbackRunId);
    expect(rollback).toMatchObject({ target: deploy!.id, tiers: ['toggle'], status: 'succeeded' });
    expect(rollback!.items[0]).toMatchObject({ id: 'router.disable', state: 'done' });
    const status = await runCli(['status', '--json'], { cwd: ws.dir, env: ws.env });
    expect(status.stdout).toContain(rollback!.id);
    // The watch itself is journaled too: a run of kind watch, its verdicts the item's result data.
    const run = (await runs('watch')).find((r) => r.id === report.runId)!;
    expect(run.status).toBe('failed');
    expect(run.items[0]).toMatchObject({ id: 'api.watch', state: 'failed' });
    expect((run.items[0]!.outputs!.report as WatchReport).action).toEqual(report.action);
    await writeRouterFlag(pool, true, 'test');
  }, 30_000);
});

describe('the api.watch step', () => {
  it('runs in a deploy without the run lock, and journals its WatchReport as the item\'s result data', async () => {
    await pool.query('DELETE FROM router_analytics; DELETE FROM router_refusals');
    const checklist = checklistFile('watch.yaml', 'name: watch\nphases:\n  - id: post\n    items:\n      - check: db.reachable\n      - step: api.watch\n        params: { for: 2s, interval: 1s, on_fail: stop }\n');
    const load = traffic();
    const child = spawnCli(['deploy', '--yes', '--as', WORKSPACE_DEPLOYER, '--checklist', checklist], { cwd: ws.dir, env: { ...ws.env } });
    const dir = runsDir(path.join(ws.dir, '.routergpt'), 'staging');
    let lockedWhileWatching: boolean | undefined;
    try {
      for (let i = 0; i < 100 && lockedWhileWatching === undefined; i += 1) {
        await new Promise((r) => setTimeout(r, 100));
        const running = (await runs('deploy')).find((r) => r.status === 'running' && r.items.some((x) => x.id === 'api.watch' && x.state === 'running'));
        if (running) lockedWhileWatching = await isRunLockHeld({ pool, embedded: false, env: 'staging', dir });
      }
      const result = await child;
      expect(result.exitCode, String(result.stderr)).toBe(0);
    } finally {
      await load.stop();
    }
    expect(lockedWhileWatching).toBe(false);
    const run = (await runs('deploy')).at(-1)!;
    const item = run.items.find((i) => i.id === 'api.watch')!;
    expect(item.state).toBe('done');
    const report = item.outputs!.report as WatchReport;
    expect(report).toMatchObject({ status: 'pass', completed: true, release: 'v2' });
    expect(report.windows).toHaveLength(2);
    expect(item.checkpoint).toMatchObject({ report: { completed: true } });
  }, 30_000);
});
