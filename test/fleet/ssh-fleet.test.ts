/**
 * Issue 15 (fleet) on real parts: three hosts on 127.0.1.1–3, each with its own sshd and a real
 * `routergpt serve`, behind haproxy; `routergpt deploy` rolls a release through `via: [ssh, …]`
 * while a client sends steady traffic through the load balancer. Each host start is a real
 * `routergpt serve` start-up (about a second on an idle machine, several under load), so the
 * tests allow minutes, and a quiet run takes well under one.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runbook/journal.js';
import type { WatchReport } from '../../src/runbook/watch/types.js';
import { runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { createMigratedDatabase, type MigratedDatabase } from '../helpers/migrated-db.js';
import { startFleet, steadyTraffic, waitForVersion, type TestFleet } from './test-fleet.js';

let db: MigratedDatabase;
let fleet: TestFleet;
let control: string;
const env = () => ({ DATABASE_URL: db.url, ROUTERGPT_ENV: 'staging' });

async function health(url: string): Promise<{ ok?: boolean; version?: string }> {
  return (await (await fetch(`${url}/health`)).json()) as { ok?: boolean; version?: string };
}

beforeAll(async () => {
  db = await createMigratedDatabase({ prefix: 'fleet', seed: true });
  fleet = await startFleet({ databaseUrl: db.url });
  for (const release of ['v1', 'v2', 'v3', 'v4', 'v5', 'v6']) fleet.addRelease(release);
  await Promise.all(fleet.hosts.map((h) => fleet.boot(h.name, 'v1')));
  // The load balancer sees every host up (rise 2) before traffic starts.
  await new Promise((r) => setTimeout(r, 1500));

  // The operator's side: a config whose hosts are reached through ssh, and a checklist of the deploy step.
  control = writeControl('{ batch: 1, gate_timeout: 30s }');
}, 120_000);

/** An operator's directory: a config whose hosts are reached through ssh under `strategy`, and a checklist of the deploy step. */
function writeControl(strategy: string, extra: string[] = []): string {
  const dir = tempDir('routergpt-fleet-control-');
  const q = (s: string) => JSON.stringify(s);
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), [
    'version: 1',
    'environments:',
    '  staging:',
    '    database: { url_env: DATABASE_URL }',
    ...extra.map((l) => `    ${l}`),
    '    deploy:',
    '      timeout: 30s',
    '      hosts:',
    ...fleet.hosts.map((h) => `        - { name: ${h.name}, url: ${q(h.url)}, via: [${h.via.map(q).join(', ')}] }`),
    `      strategy: ${strategy}`,
    `      commands: [${q(`sh ${fleet.hostScript} "$ROUTERGPT_RELEASE"`)}]`,
    `      rollback_commands: [${q(`sh ${fleet.hostScript} "$ROUTERGPT_ROLLBACK_RELEASE"`)}]`,
    '',
  ].join('\n'));
  writeFileSync(path.join(dir, 'code.yaml'), ['name: code', 'phases:', '  - id: deploy', '    title: Deploy', '    items:', '      - step: code.deploy', '        params: { smoke: [api.health] }', ''].join('\n'));
  return dir;
}

// The canary release's database role: every grant but SELECT on shops, so its searches fail (500).
const CANARY_ROLE = `fleet_canary_${process.pid}`;

afterAll(async () => {
  await fleet?.stop();
  await db?.pool.query(`DROP OWNED BY ${CANARY_ROLE}`).catch(() => {});
  await db?.pool.query(`DROP ROLE IF EXISTS ${CANARY_ROLE}`).catch(() => {});
  await db?.close();
});

describe('a real fleet: sshd per host on 127.0.1.x, routergpt serve, haproxy', () => {
  it('rolls a new release through ssh under steady traffic: every request answered, every host on the new release', async () => {
    const dry = await runCli(['deploy', '--checklist', path.join(control, 'code.yaml'), '--dry-run', '--release', 'v2'], { cwd: control, env: env() });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stderr + dry.stdout).toContain('batch 3/3: web-3');

    const traffic = steadyTraffic(fleet.lbUrl);
    const started = performance.now();
    const result = await runCli(['deploy', '--checklist', path.join(control, 'code.yaml'), '--yes', '--release', 'v2'], { cwd: control, env: env() });
    const wallMs = performance.now() - started;
    const seen = await traffic.stop();
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(seen.failed).toEqual([]);
    expect(seen.total).toBeGreaterThan(20);
    expect([...seen.versions].sort()).toEqual(['v1', 'v2']);
    for (const h of fleet.hosts) expect(await health(h.url)).toMatchObject({ ok: true, version: 'v2' });
    for (const h of fleet.hosts) expect(fleet.history(h.name)).toEqual(['v1', 'v2']);
    // status: which host runs which release, each asked on its own /health.
    const status = await runCli(['status'], { cwd: control, env: env() });
    expect(status.exitCode, status.stderr).toBe(0);
    for (const h of fleet.hosts) expect(status.stdout).toMatch(new RegExp(`${h.name}[\\s│]+${h.url.replace(/\./g, '\\.')}[\\s│]+v2[\\s│]+healthy, running v2`));
    // The figures (bench-like, not timed): the item's time against its hosts' own command times.
    const { rows } = await db.pool.query<{ record: RunRecord }>("SELECT record FROM routergpt.runs WHERE record->>'release' = 'v2'");
    const item = rows[0]!.record.items.find((i) => i.id === 'code.deploy')!;
    const runs = (item.outputs!.runs as Array<{ host: string; durationMs: number }>);
    const commandsMs = runs.reduce((sum, r) => sum + r.durationMs, 0);
    const itemMs = Date.parse(item.finishedAt!) - Date.parse(item.startedAt!);
    console.log(`fleet: rolling deploy of 3 hosts through ssh: CLI ${Math.round(wallMs)} ms, the step ${itemMs} ms, the hosts' commands ${commandsMs} ms (${runs.map((r) => `${r.host} ${r.durationMs}`).join(', ')}), gates and pre-flight ${itemMs - commandsMs} ms; ${seen.total} requests through haproxy, 0 failed, ${seen.slow} over 1 s, slowest ${Math.round(seen.slowest)} ms`);
  }, 150_000);

  it('a release that does not start on the second host: the rollout stops there, the first host is back on the old release, the third never touched, traffic never failed', async () => {
    writeFileSync(path.join(fleet.hosts[1]!.dir, 'cannot-start-v3'), '');
    const traffic = steadyTraffic(fleet.lbUrl);
    const result = await runCli(['deploy', '--checklist', path.join(control, 'code.yaml'), '--yes', '--release', 'v3'], { cwd: control, env: env() });
    const seen = await traffic.stop();
    expect(result.exitCode, result.stderr + result.stdout).toBe(1);
    expect(result.stderr + result.stdout).toMatch(/The rollout of v3 stopped: web-2 \(web-2: `sh \S+ "\$ROUTERGPT_RELEASE"` exited 1: v3 exited at start on web-2: release v3: Error: Cannot find module/);
    expect(result.stderr + result.stdout).toContain('Rolled back: web-2, web-1; not touched: web-3');
    expect(seen.failed).toEqual([]);
    for (const h of fleet.hosts) await waitForVersion(h.url, 'v2', 2000);
    expect(fleet.history('web-1')).toEqual(['v1', 'v2', 'v3', 'v2']);
    expect(fleet.history('web-2')).toEqual(['v1', 'v2', 'v3', 'v2']);
    expect(fleet.history('web-3')).toEqual(['v1', 'v2']);

    const { rows } = await db.pool.query<{ record: RunRecord }>("SELECT record FROM routergpt.runs WHERE record->>'release' = 'v3'");
    const item = rows[0]!.record.items.find((i) => i.id === 'code.deploy')!;
    expect(item.state).toBe('failed');
    expect(item.checkpoint).toMatchObject({ phase: 'stopping', hosts: [{ name: 'web-1', state: 'rolled-back', from: 'v2' }, { name: 'web-2', state: 'rolled-back', from: 'v2' }, { name: 'web-3', state: 'pending' }] });
  }, 150_000);

  it('a canary whose error rate rises during its bake: the rollout stops after the canary, the canary is rolled back, the other hosts never touched', async () => {
    // v4 on web-1 connects as a role that lost its grant on shops: healthy on /health, every search a 500.
    await db.pool.query(`CREATE ROLE ${CANARY_ROLE} LOGIN`);
    const { rows: schemas } = await db.pool.query<{ name: string }>("SELECT nspname AS name FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'");
    for (const { name } of schemas) {
      await db.pool.query(`GRANT USAGE ON SCHEMA "${name}" TO ${CANARY_ROLE}`);
      await db.pool.query(`GRANT ALL ON ALL TABLES IN SCHEMA "${name}" TO ${CANARY_ROLE}`);
      await db.pool.query(`GRANT ALL ON ALL SEQUENCES IN SCHEMA "${name}" TO ${CANARY_ROLE}`);
    }
    await db.pool.query(`REVOKE SELECT ON shops FROM ${CANARY_ROLE}`);
    const roleUrl = new URL(db.url);
    roleUrl.username = CANARY_ROLE;
    writeFileSync(path.join(fleet.hosts[0]!.dir, 'env-v4'), `DATABASE_URL='${roleUrl.href}'\n`);

    const canary = writeControl('{ batch: 1, canary: true, canary_bake: 8s, gate_timeout: 30s }', ['watch: { interval: 2s, min_requests: 3 }']);
    const dry = await runCli(['deploy', '--checklist', path.join(canary, 'code.yaml'), '--dry-run', '--release', 'v4'], { cwd: canary, env: env() });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stderr + dry.stdout).toMatch(/batch 1\/3 \(canary\): web-1[\s\S]*then the canary bakes for 8 s \(`watch --on-fail stop` against its own url, every 2 s\)/);

    const probes = steadyTraffic(fleet.lbUrl);
    const searches = steadyTraffic(fleet.lbUrl, { path: '/router/search-by-location', body: { latitude: 33.4255, longitude: -111.94, radius_miles: 10 }, pauseMs: 50 });
    const result = await runCli(['deploy', '--checklist', path.join(canary, 'code.yaml'), '--yes', '--release', 'v4'], { cwd: canary, env: env() });
    const [seen, searched] = [await probes.stop(), await searches.stop()];
    const out = result.stderr + result.stdout;
    expect(result.exitCode, out).toBe(1);
    expect(out).toMatch(/The rollout of v4 stopped: web-1 \(the canary's 8 s bake failed: search error_rate: /);
    expect(out).toContain('Rolled back: web-1; not touched: web-2, web-3');
    // The canary's searches failed while it baked (the others answered); /health never failed.
    expect(searched.failed.length).toBeGreaterThan(0);
    expect(searched.failed.every((f) => f.status.startsWith('500'))).toBe(true);
    expect(searched.total - searched.failed.length).toBeGreaterThan(searched.failed.length);
    expect(seen.failed).toEqual([]);
    expect(fleet.history('web-1').slice(-2)).toEqual(['v4', 'v2']);
    expect(fleet.history('web-2').at(-1)).toBe('v2');
    expect(fleet.history('web-3')).toEqual(['v1', 'v2']);
    for (const h of fleet.hosts) expect(await health(h.url)).toMatchObject({ ok: true, version: 'v2' });

    const { rows } = await db.pool.query<{ record: RunRecord }>("SELECT record FROM routergpt.runs WHERE record->>'release' = 'v4'");
    const item = rows[0]!.record.items.find((i) => i.id === 'code.deploy')!;
    const bake = (item.checkpoint as { bake?: { status: string; releaseOnly?: boolean; baseline: { kind: string; release?: string } } }).bake;
    expect(bake).toMatchObject({ status: 'fail', releaseOnly: true, baseline: { kind: 'concurrent', release: 'v2' } });
  }, 180_000);

  it('SIGKILL during the rollout, then --resume: the first host is kept, the interrupted one redone, the third follows; traffic never failed', async () => {
    const traffic = steadyTraffic(fleet.lbUrl);
    const child = spawnCli(['deploy', '--checklist', path.join(control, 'code.yaml'), '--yes', '--release', 'v5'], { cwd: control, env: env() });
    const deadline = Date.now() + 90_000;
    while (!fleet.history('web-2').includes('v5') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(fleet.history('web-2')).toContain('v5');
    child.kill('SIGKILL');
    await child.catch(() => {});
    // The killed run's ssh session to web-2 finishes its command on its own: let it, before resuming.
    await waitForVersion(fleet.hosts[1]!.url, 'v5', 60_000);
    const pidFile = path.join(fleet.hosts[1]!.dir, 'pid');
    while (!existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await health(fleet.hosts[0]!.url)).toMatchObject({ version: 'v5' });
    expect(await health(fleet.hosts[2]!.url)).toMatchObject({ version: 'v2' });

    const resumed = await runCli(['deploy', '--checklist', path.join(control, 'code.yaml'), '--resume', '--yes'], { cwd: control, env: env() });
    const seen = await traffic.stop();
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    expect(seen.failed).toEqual([]);
    for (const h of fleet.hosts) expect(await health(h.url)).toMatchObject({ ok: true, version: 'v5' });
    // web-1 moved once (kept by the resume), web-2 once in the killed run and once redone, web-3 once.
    expect(fleet.history('web-1').filter((r) => r === 'v5')).toHaveLength(1);
    expect(fleet.history('web-2').filter((r) => r === 'v5')).toHaveLength(2);
    expect(fleet.history('web-3').filter((r) => r === 'v5')).toHaveLength(1);
  }, 240_000);

  it('a healthy canary bakes and the rollout goes on: every host on the new release, the bake journaled, never a fail', async () => {
    const canary = writeControl('{ batch: 1, canary: true, canary_bake: 6s, gate_timeout: 30s }', ['watch: { interval: 2s, min_requests: 3 }']);
    const searches = steadyTraffic(fleet.lbUrl, { path: '/router/search-by-location', body: { latitude: 33.4255, longitude: -111.94, radius_miles: 10 }, pauseMs: 50 });
    const result = await runCli(['deploy', '--checklist', path.join(canary, 'code.yaml'), '--yes', '--release', 'v6'], { cwd: canary, env: env() });
    const searched = await searches.stop();
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(searched.failed).toEqual([]);
    for (const h of fleet.hosts) expect(await health(h.url)).toMatchObject({ ok: true, version: 'v6' });
    const { rows } = await db.pool.query<{ record: RunRecord }>("SELECT record FROM routergpt.runs WHERE record->>'release' = 'v6'");
    const item = rows[0]!.record.items.find((i) => i.id === 'code.deploy')!;
    // A fresh process's first requests may be slower than warm ones (p95 can warn); it never fails, and the rollout went on.
    expect(item.summary).toMatch(/^3 of 3 host\(s\) on v6; the canary's bake: (pass|warn)$/);
    const bake = item.outputs!.bake as WatchReport;
    expect(bake).toMatchObject({ completed: true, releaseOnly: true, baseline: { kind: 'concurrent', release: 'v5', scale: 0.5 } });
    expect(bake.status).not.toBe('fail');
    // One host's traffic against one host's share of the two others': the volume is the same, not "fell away".
    const volume = bake.windows.at(-1)!.routes.find((r) => r.route === 'search')!.verdicts.find((v) => v.metric === 'requests')!;
    expect(volume, volume.reason).toMatchObject({ status: 'pass' });
    expect(volume.actual).toBeGreaterThanOrEqual(3);
  }, 180_000);
});
