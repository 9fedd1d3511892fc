/**
 * Issue 15 (fleet): code.deploy under deploy.strategy, on real HTTP servers on loopback — one per
 * host, reporting on /health the release its "deploy" wrote to the host's version file. Hosts are
 * local commands (no via); test/fleet/ssh-fleet.test.ts runs the same through real sshd.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/resolve.js';
import { OperationError } from '../../src/errors.js';
import { codeDeployStep } from '../../src/steps/code/deploy.js';
import type { RolloutCheckpoint } from '../../src/steps/code/rolling.js';
import type { StepContext } from '../../src/steps/define-step.js';
import { tempDir } from '../helpers/cli.js';

interface FakeHost {
  name: string;
  url: string;
  server: Server;
}

/** The commands: each host's version file gets the release; the log records who ran what. */
const DEPLOY = 'printf %s "$ROUTERGPT_RELEASE" > "$FLEET_DIR/$ROUTERGPT_HOST.version" && echo "deploy $ROUTERGPT_HOST $ROUTERGPT_RELEASE $ROUTERGPT_HOST_URL" >> "$FLEET_DIR/log"';
const ROLLBACK = 'printf %s "$ROUTERGPT_ROLLBACK_RELEASE" > "$FLEET_DIR/$ROUTERGPT_HOST.version" && echo "rollback $ROUTERGPT_HOST $ROUTERGPT_ROLLBACK_RELEASE" >> "$FLEET_DIR/log"';

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

/** A host's server: /health is healthy on the version in its file, 503 when that version "does not start" on it. */
async function startHost(dir: string, name: string, crashesOn: Set<string>): Promise<FakeHost> {
  const file = path.join(dir, `${name}.version`);
  const server = createServer((req, res) => {
    const version = existsSync(file) ? readFileSync(file, 'utf8') : 'none';
    const up = !crashesOn.has(`${name}@${version}`);
    res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(up ? { ok: true, version } : { ok: false, reason: 'crashed', version }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { name, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface Fleet {
  dir: string;
  hosts: FakeHost[];
  crashesOn: Set<string>;
  log: () => string[];
  versions: () => Record<string, string>;
}

async function fleet(names = ['web-1', 'web-2', 'web-3'], from = 'v1'): Promise<Fleet> {
  const dir = tempDir('routergpt-fleet-');
  const crashesOn = new Set<string>();
  const hosts = await Promise.all(names.map((n) => startHost(dir, n, crashesOn)));
  for (const n of names) writeFileSync(path.join(dir, `${n}.version`), from);
  writeFileSync(path.join(dir, 'log'), '');
  return {
    dir,
    hosts,
    crashesOn,
    log: () => readFileSync(path.join(dir, 'log'), 'utf8').split('\n').filter(Boolean),
    versions: () => Object.fromEntries(names.map((n) => [n, readFileSync(path.join(dir, `${n}.version`), 'utf8')])),
  };
}

function context(f: Fleet, strategy: string, release: string, overrides: Partial<StepContext> = {}): StepContext & { saved: RolloutCheckpoint[]; logged: string[] } {
  writeFileSync(
    path.join(f.dir, 'routergpt.config.yaml'),
    ['version: 1', 'environments:', '  staging:', '    deploy:', '      hosts:', ...f.hosts.map((h) => `        - { name: ${h.name}, url: "${h.url}" }`), `      strategy: ${strategy}`, `      commands: [${JSON.stringify(DEPLOY)}]`, `      rollback_commands: [${JSON.stringify(ROLLBACK)}]`, ''].join('\n'),
  );
  process.env.FLEET_DIR = f.dir;
  const { config } = loadConfig({ flags: { env: 'staging' }, cwd: f.dir, env: { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' } });
  const saved: RolloutCheckpoint[] = [];
  const logged: string[] = [];
  return {
    config,
    db: undefined as never,
    runDir: f.dir,
    runId: 'run-fleet',
    outputs: {},
    params: {},
    confirm: async () => {},
    log: (l) => logged.push(l),
    now: () => new Date(),
    release,
    checkpoint: async (data) => {
      saved.push(structuredClone(data) as RolloutCheckpoint);
    },
    ...overrides,
    saved,
    logged,
  };
}

describe('rolling deploy on loopback hosts', () => {
  it('moves every host, batch by batch, each gated on its own /health reporting the new release; the plan shows the batches', async () => {
    const f = await fleet();
    // canary_bake 0s: the canary is gated, not baked (the bake is test/fleet/ssh-fleet.test.ts).
    const ctx = context(f, '{ batch: 2, canary: true, canary_bake: 0s, gate_timeout: 5s }', 'v2');
    const plan = await codeDeployStep.plan(ctx);
    expect(plan).toEqual(expect.arrayContaining(['batch 1/2 (canary): web-1', 'batch 2/2: web-2, web-3']));
    expect(plan.join('\n')).toContain('to report "v2"');
    expect(f.log()).toEqual([]); // the plan changed nothing

    const result = await codeDeployStep.run(ctx);
    expect(result.status).toBe('done');
    expect(result.summary).toBe('3 of 3 host(s) on v2');
    expect(f.versions()).toEqual({ 'web-1': 'v2', 'web-2': 'v2', 'web-3': 'v2' });
    expect(f.log()[0]).toBe(`deploy web-1 v2 ${f.hosts[0]!.url}`);
    expect(result.outputs!.hosts).toEqual(f.hosts.map((h) => ({ name: h.name, state: 'done', from: 'v1' })));
    // The canary was done and gated before the second batch started.
    const order = ctx.logged.filter((l) => /^batch|healthy, running v2/.test(l));
    expect(order.slice(0, 3)).toEqual(['batch 1/2 (canary): web-1', 'web-1: healthy, running v2', 'batch 2/2: web-2, web-3']);
  });

  it('a release that does not start on the second host: the rollout stops there, the first host is back on the old release, the third never touched', async () => {
    const f = await fleet();
    f.crashesOn.add('web-2@v2');
    const ctx = context(f, '{ batch: 1, gate_timeout: 1500ms }', 'v2');
    const error = await codeDeployStep.run(ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toMatch(/^The rollout of v2 stopped: web-2 \(web-2: http:\/\/127\.0\.0\.1:\d+\/health did not answer healthy on "v2" within 1\.5 s: HTTP 503 \(crashed\)\)\. Rolled back: web-2, web-1; not touched: web-3\.$/);
    expect(f.versions()).toEqual({ 'web-1': 'v1', 'web-2': 'v1', 'web-3': 'v1' });
    // Reverse order: web-2 (the failed one) first, then web-1; web-3 never ran a command.
    expect(f.log()).toEqual(['deploy web-1 v2 ' + f.hosts[0]!.url, 'deploy web-2 v2 ' + f.hosts[1]!.url, 'rollback web-2 v1', 'rollback web-1 v1']);
    expect(ctx.saved.at(-1)).toMatchObject({ phase: 'stopping', hosts: [{ name: 'web-1', state: 'rolled-back' }, { name: 'web-2', state: 'rolled-back' }, { name: 'web-3', state: 'pending' }] });
  });

  it('a canary that fails its gate stops the rollout whatever max_fail allows; the plan says how the canary bakes', async () => {
    const f = await fleet();
    f.crashesOn.add('web-1@v2');
    const baking = context(f, '{ batch: 1, canary: true, canary_bake: 90s, max_fail: 2, gate_timeout: 1s }', 'v2');
    expect((await codeDeployStep.plan(baking)).join('\n')).toContain('then the canary bakes for 90 s (`watch --on-fail stop` against its own url, every 1 min)');
    const error = await codeDeployStep.run(baking).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toMatch(/^The rollout of v2 stopped: web-1 \(.*HTTP 503 \(crashed\)\)\. Rolled back: web-1; not touched: web-2, web-3\.$/);
    expect(f.log()).toEqual([`deploy web-1 v2 ${f.hosts[0]!.url}`, 'rollback web-1 v1']);
  });

  it('resume after the canary baked: the bake is not run again (a finished one goes on, a failed one stops and rolls the canary back)', async () => {
    const strategy = '{ batch: 1, canary: true, canary_bake: 10m, gate_timeout: 5s }';
    const bake = (status: 'pass' | 'fail', completed: boolean) => ({ env: 'staging', apiBase: 'http://canary', release: 'v2', startedAt: new Date().toISOString(), forMs: 600_000, intervalMs: 60_000, minRequests: 20, strict: false, limits: { p95_ms: {}, error_rate: 0.01, rate_429: 0.05 }, baseline: { kind: 'concurrent', release: 'v1', requests: 90, reason: 'release v1 on the other hosts' }, windows: [], status, completed });
    // Killed after the canary's bake finished: the rest follow, no bake (there is no database here to run one on).
    const f = await fleet();
    writeFileSync(path.join(f.dir, 'web-1.version'), 'v2');
    const killedAfter = (status: 'pass' | 'fail', completed: boolean) => ({ rolling: true, phase: 'rolling-out', hosts: [{ name: 'web-1', state: 'done', from: 'v1' }, { name: 'web-2', state: 'pending', from: 'v1' }, { name: 'web-3', state: 'pending', from: 'v1' }], bake: bake(status, completed) });
    const result = await codeDeployStep.run(context(f, strategy, 'v2', { resumed: killedAfter('pass', true) }));
    expect(result.summary).toBe("3 of 3 host(s) on v2; the canary's bake: pass");
    expect(f.log().map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['deploy web-2', 'deploy web-3']);

    // Killed after the bake failed, before the rollback began: the canary is rolled back, nothing else touched.
    const g = await fleet();
    writeFileSync(path.join(g.dir, 'web-1.version'), 'v2');
    const error = await codeDeployStep.run(context(g, strategy, 'v2', { resumed: killedAfter('fail', false) })).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^The rollout of v2 stopped: web-1 \(the canary's 10 min bake failed\)\. Rolled back: web-1; not touched: web-2, web-3\.$/);
    expect(g.log()).toEqual(['rollback web-1 v1']);
    expect(g.versions()).toEqual({ 'web-1': 'v1', 'web-2': 'v1', 'web-3': 'v1' });
  });

  it('a failed host within max_fail is rolled back on its own and the rollout goes on', async () => {
    const f = await fleet();
    f.crashesOn.add('web-2@v2');
    const ctx = context(f, '{ batch: 1, max_fail: 1, gate_timeout: 1s }', 'v2');
    const result = await codeDeployStep.run(ctx);
    expect(result.status).toBe('warn');
    expect(result.summary).toBe('2 of 3 host(s) on v2; rolled back on their own (within max_fail 1): web-2');
    expect(f.versions()).toEqual({ 'web-1': 'v2', 'web-2': 'v1', 'web-3': 'v2' });
  });

  it('every host failing within max_fail fails the rollout (no host is on the release); a one-host canary says it has nothing to bake', async () => {
    const f = await fleet();
    for (const h of ['web-1', 'web-2', 'web-3']) f.crashesOn.add(`${h}@v2`);
    const ctx = context(f, '{ batch: 1, max_fail: 3, gate_timeout: 1s }', 'v2');
    const error = await codeDeployStep.run(ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toMatch(/^The rollout of v2 left no host on it: web-1 \(.*\); web-2 \(.*\); web-3 \(.*\); each was rolled back on its own \(max_fail 3\)\.$/);
    expect(f.versions()).toEqual({ 'web-1': 'v1', 'web-2': 'v1', 'web-3': 'v1' });

    const one = await fleet(['web-1']);
    expect(await codeDeployStep.plan(context(one, '{ batch: 1, canary: true }', 'v2'))).toContain('canary: one host only, so there is no canary to bake before the rest: it is gated like any host');
  });

  it('resume after an interruption mid-host: the done host is kept, the interrupted one redone, the rest follow', async () => {
    const f = await fleet();
    const first = context(f, '{ batch: 1, gate_timeout: 5s }', 'v2');
    // The "kill": the run dies right after web-2's commands were checkpointed as begun.
    const killed = new Error('killed');
    const checkpoint = first.checkpoint;
    first.checkpoint = async (data) => {
      await checkpoint(data);
      const web2 = (data as RolloutCheckpoint).hosts[1]!;
      if (web2.state === 'deploying') throw killed;
    };
    expect(await codeDeployStep.run(first).catch((e: unknown) => e)).toBe(killed);
    expect(f.versions()).toEqual({ 'web-1': 'v2', 'web-2': 'v1', 'web-3': 'v1' });
    const last = first.saved.at(-1)!;
    expect(last.hosts.map((h) => h.state)).toEqual(['done', 'deploying', 'pending']);

    appendFileSync(path.join(f.dir, 'log'), '--- resume\n');
    const second = context(f, '{ batch: 1, gate_timeout: 5s }', 'v2', { resumed: last });
    const result = await codeDeployStep.run(second);
    expect(result.summary).toBe('3 of 3 host(s) on v2');
    expect(f.log().slice(f.log().indexOf('--- resume') + 1).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['deploy web-2', 'deploy web-3']);
    // What each host ran before is still known after the resume (the rollback target).
    expect(result.outputs!.hosts).toEqual(f.hosts.map((h) => ({ name: h.name, state: 'done', from: 'v1' })));
  });

  it('an unreachable host (ssh refused) stops the deploy before any host is changed, naming the host', async () => {
    const f = await fleet();
    const ctx = context(f, '{ batch: 1 }', 'v2');
    // web-3 is reached through ssh to a loopback port nobody listens on: refused.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    ctx.config.deploy.value.hosts[2]!.via = ['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3', '-p', String(port), 'deploy@127.0.0.1'];
    const error = (await codeDeployStep.run(ctx).catch((e: unknown) => e)) as OperationError;
    expect(error).toBeInstanceOf(OperationError);
    expect(error.message).toMatch(new RegExp(`^web-3 is unreachable through \`ssh .* -p ${port} deploy@127\\.0\\.0\\.1\` \\(exit 255: .*[Cc]onnection refused.*\\); no host was changed\\.$`));
    expect(error.hint).toContain('take it out of deploy.hosts');
    expect(f.log()).toEqual([]);
    expect(f.versions()).toEqual({ 'web-1': 'v1', 'web-2': 'v1', 'web-3': 'v1' });
  });

  it('a host that does not answer through ssh (a timeout) stops the deploy before any host is changed, naming it', async () => {
    const f = await fleet();
    const ctx = context(f, '{ batch: 1 }', 'v2');
    // web-2's "sshd" accepts the connection and never says a word: ssh waits until the reach timeout.
    const sockets: Socket[] = [];
    const tcp = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const port = (tcp.address() as AddressInfo).port;
    ctx.config.deploy.value.timeoutMs = 1500;
    ctx.config.deploy.value.hosts[1]!.via = ['ssh', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-p', String(port), 'deploy@127.0.0.1'];
    try {
      const error = (await codeDeployStep.run(ctx).catch((e: unknown) => e)) as OperationError;
      expect(error).toBeInstanceOf(OperationError);
      expect(error.message).toMatch(new RegExp(`^web-2 is unreachable through \`ssh .* -p ${port} deploy@127\\.0\\.0\\.1\` \\(no answer within 2 s\\); no host was changed\\.$`));
      expect(f.log()).toEqual([]);
      expect(f.versions()).toEqual({ 'web-1': 'v1', 'web-2': 'v1', 'web-3': 'v1' });
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => tcp.close(r));
    }
  });

  it('rollback --tier code of a rolling deploy: only the hosts it moved, in reverse order, each gated on the release it ran before', async () => {
    const f = await fleet();
    const deployed = await codeDeployStep.run(context(f, '{ batch: 1, gate_timeout: 5s }', 'v2'));
    appendFileSync(path.join(f.dir, 'log'), '--- undo\n');
    const undo = codeDeployStep.undo!;
    const ctx = context(f, '{ batch: 1, gate_timeout: 5s }', 'ops-rollback');
    const source = { runId: 'run-fleet', state: 'done', outputs: deployed.outputs! };
    expect(await undo.plan(ctx, source)).toEqual([expect.stringContaining('in reverse order: web-3 → v1, web-2 → v1, web-1 → v1; each gated on its own /health')]);
    const result = await undo.run(ctx, source);
    expect(result.summary).toBe('rolled back web-3 → v1, web-2 → v1, web-1 → v1');
    expect(f.log().slice(f.log().indexOf('--- undo') + 1)).toEqual(['rollback web-3 v1', 'rollback web-2 v1', 'rollback web-1 v1']);

    // A run killed after web-1 and during web-2 (its checkpoint only): web-3 was never moved and is left alone.
    writeFileSync(path.join(f.dir, 'log'), '');
    const killed = { runId: 'run-killed', state: 'running', outputs: {}, checkpoint: { rolling: true, phase: 'rolling-out', hosts: [{ name: 'web-1', state: 'done', from: 'v0' }, { name: 'web-2', state: 'deploying', from: 'v0' }, { name: 'web-3', state: 'pending', from: 'v0' }] } };
    const partial = await undo.run(context(f, '{ batch: 1, gate_timeout: 5s }', 'ops'), killed);
    expect(partial.summary).toBe('rolled back web-2 → v0, web-1 → v0');
    expect(f.log()).toEqual(['rollback web-2 v0', 'rollback web-1 v0']);

    // A rollout that stopped and rolled back every host it moved leaves nothing to undo.
    const stopped = { runId: 'run-stopped', state: 'failed', outputs: {}, checkpoint: { rolling: true, phase: 'stopping', hosts: [{ name: 'web-1', state: 'rolled-back' }, { name: 'web-2', state: 'rolled-back' }, { name: 'web-3', state: 'pending' }] } };
    expect((await undo.run(context(f, '{ batch: 1 }', 'ops'), stopped)).status).toBe('skipped');
  });

  it('refuses without a release (nothing to gate on) before any host is changed', async () => {
    const f = await fleet();
    const ctx = context(f, '{ batch: 1 }', undefined as never);
    delete ctx.release;
    expect((await codeDeployStep.plan(ctx)).at(-1)).toContain('refused: deploy.strategy gates each host on /health reporting the release being deployed, and this run has no release');
    await expect(codeDeployStep.run(ctx)).rejects.toThrow(/Not deploying: .*no host was changed/);
    expect(f.log()).toEqual([]);
  });
});
