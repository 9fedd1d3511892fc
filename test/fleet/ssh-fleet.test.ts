/**
 * Issue 15 (fleet) on real parts: three hosts on 127.0.1.1–3, each with its own sshd and a real
 * `routergpt serve`, behind haproxy; `routergpt deploy` rolls a release through `via: [ssh, …]`
 * while a client sends steady traffic through the load balancer. Each host start is a real
 * `routergpt serve` start-up (about a second on an idle machine, several under load), so the
 * tests allow minutes, and a quiet run takes well under one.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runbook/journal.js';
import { runCli, tempDir } from '../helpers/cli.js';
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
  db = await createMigratedDatabase({ prefix: 'fleet' });
  fleet = await startFleet({ databaseUrl: db.url });
  for (const release of ['v1', 'v2', 'v3']) fleet.addRelease(release);
  await Promise.all(fleet.hosts.map((h) => fleet.boot(h.name, 'v1')));
  // The load balancer sees every host up (rise 2) before traffic starts.
  await new Promise((r) => setTimeout(r, 1500));

  // The operator's side: a config whose hosts are reached through ssh, and a checklist of the deploy step.
  control = tempDir('routergpt-fleet-control-');
  const q = (s: string) => JSON.stringify(s);
  writeFileSync(path.join(control, 'routergpt.config.yaml'), [
    'version: 1',
    'environments:',
    '  staging:',
    '    database: { url_env: DATABASE_URL }',
    '    deploy:',
    '      timeout: 30s',
    '      hosts:',
    ...fleet.hosts.map((h) => `        - { name: ${h.name}, url: ${q(h.url)}, via: [${h.via.map(q).join(', ')}] }`),
    '      strategy: { batch: 1, gate_timeout: 30s }',
    `      commands: [${q(`sh ${fleet.hostScript} "$ROUTERGPT_RELEASE"`)}]`,
    `      rollback_commands: [${q(`sh ${fleet.hostScript} "$ROUTERGPT_ROLLBACK_RELEASE"`)}]`,
    '',
  ].join('\n'));
  writeFileSync(path.join(control, 'code.yaml'), ['name: code', 'phases:', '  - id: deploy', '    title: Deploy', '    items:', '      - step: code.deploy', '        params: { smoke: [api.health] }', ''].join('\n'));
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
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
});
