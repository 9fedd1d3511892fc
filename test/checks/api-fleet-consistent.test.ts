/**
 * api.fleet-consistent against real loopback HTTP servers standing in for the hosts of a fleet,
 * each reporting the release it runs on /health: every host answers, all on one release, that
 * release the one the last succeeded deploy recorded (from the journal files), none unknown.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import apiFleetConsistent from '../../src/checks/api/fleet-consistent.js';
import { loadConfig } from '../../src/config/resolve.js';
import type { EnvironmentConfig } from '../../src/config/types.js';
import { runsDir, type RunRecord } from '../../src/runbook/journal.js';
import { tempDir } from '../helpers/cli.js';
import { depsFor, runCheck, sendJson, startFakeServer } from './helpers.js';

interface FakeHost {
  name: string;
  url: string;
  version: string | undefined;
  status: number;
  close(): Promise<void>;
}

const hosts: FakeHost[] = [];
beforeAll(async () => {
  for (const name of ['web-1', 'web-2', 'web-3']) {
    const host = { name, version: 'v1' as string | undefined, status: 200 } as FakeHost;
    const server = await startFakeServer((_req, _body, res) => sendJson(res, host.status, { ok: host.status === 200, ...(host.version ? { version: host.version } : {}) }));
    Object.assign(host, { url: server.url, close: server.close });
    hosts.push(host);
  }
});
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.close().catch(() => {})));
});

function fleetConfig(lines: string[]): EnvironmentConfig {
  const dir = tempDir('routergpt-fleet-check-');
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), ['version: 1', 'environments:', '  staging:', '    deploy:', '      hosts:', ...lines, ''].join('\n'));
  return loadConfig({ flags: { env: 'staging' }, cwd: dir, env: { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' } }).config;
}

const withUrls = () => fleetConfig(hosts.map((h) => `        - { name: ${h.name}, url: "${h.url}" }`));

let seq = 0;
function recordRun(config: EnvironmentConfig, fields: Partial<RunRecord> & Pick<RunRecord, 'kind' | 'status'>): RunRecord {
  seq += 1;
  const startedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString();
  const id = `${startedAt.replace(/[-:]/g, '').slice(0, 15)}Z-${fields.kind}-${seq.toString(16).padStart(4, '0')}`;
  const record: RunRecord = { schema: 'routergpt.run/v1', id, env: 'staging', checklist: { name: 'deploy', file: 'x' }, startedAt, startedBy: 'test', host: 'elsewhere', pid: 1, resumes: [], items: [], ...fields };
  const dir = runsDir(config.stateDir.value, 'staging');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(record));
  return record;
}

const set = (versions: Array<string | undefined>) => versions.forEach((v, i) => (hosts[i]!.version = v));

describe('api.fleet-consistent', () => {
  it('no host has a url: skipped, naming the hosts and the fix', async () => {
    const result = await runCheck(apiFleetConsistent, depsFor(fleetConfig(['        - { name: web-1 }', '        - { name: web-2 }'])));
    expect(result).toMatchObject({ status: 'skip', summary: 'no deploy.hosts entry has a url (web-1, web-2): give each host its own base URL to check it' });
  });

  it('all hosts on one release, no deploy recorded: pass saying there was nothing to compare with', async () => {
    set(['v1', 'v1', 'v1']);
    const result = await runCheck(apiFleetConsistent, depsFor(withUrls()));
    expect(result.status).toBe('pass');
    expect(result.summary).toBe('3 hosts healthy, all on v1 (no deploy recorded a release to compare with)');
  });

  it('all on the release the last succeeded deploy recorded: pass; one host left behind: fail naming it', async () => {
    const config = withUrls();
    recordRun(config, { kind: 'deploy', status: 'succeeded', release: 'v1' });
    recordRun(config, { kind: 'deploy', status: 'succeeded', release: 'v2' });
    recordRun(config, { kind: 'deploy', status: 'failed', release: 'v3' });
    set(['v2', 'v2', 'v2']);
    expect((await runCheck(apiFleetConsistent, depsFor(config))).summary).toBe('3 hosts healthy, all on v2 (the last deploy that succeeded)');
    set(['v2', 'v1', 'v2']);
    const mixed = await runCheck(apiFleetConsistent, depsFor(config));
    expect(mixed.status).toBe('fail');
    expect(mixed.summary).toBe('the hosts run different releases: v2 on web-1, web-3; v1 on web-2 (the last deploy that succeeded shipped v2)');
    expect(mixed.hint).toContain('routergpt deploy --release v2');
  });

  it('every host on a release no deploy recorded: fail as unknown; a code rollback moves the expectation back', async () => {
    const config = withUrls();
    recordRun(config, { kind: 'deploy', status: 'succeeded', release: 'v1' });
    const v2 = recordRun(config, { kind: 'deploy', status: 'succeeded', release: 'v2' });
    set(['v9', 'v9', 'v9']);
    const unknown = await runCheck(apiFleetConsistent, depsFor(config));
    expect(unknown.status).toBe('fail');
    expect(unknown.summary).toMatch(/^every host runs v9, an unknown release: the last deploy that succeeded \(.+\) shipped v2$/);
    recordRun(config, { kind: 'rollback', status: 'succeeded', target: v2.id, tiers: ['code'] });
    set(['v1', 'v1', 'v1']);
    expect((await runCheck(apiFleetConsistent, depsFor(config))).status).toBe('pass');
  });

  it('a host that reports no version, or answers 503: fail naming it', async () => {
    set(['v1', undefined, 'v1']);
    const silent = await runCheck(apiFleetConsistent, depsFor(withUrls()));
    expect(silent).toMatchObject({ status: 'fail', summary: 'web-2 reports no release on /health: which code it runs is unknown' });
    set(['v1', 'v1', 'v1']);
    hosts[2]!.status = 503;
    const down = await runCheck(apiFleetConsistent, depsFor(withUrls()));
    hosts[2]!.status = 200;
    expect(down).toMatchObject({ status: 'fail', summary: 'web-3 does not answer healthy on /health (web-3: HTTP 503)' });
  });

  it('hosts between releases while a deploy is running: warn, not fail', async () => {
    const config = withUrls();
    recordRun(config, { kind: 'deploy', status: 'succeeded', release: 'v1' });
    const running = recordRun(config, { kind: 'deploy', status: 'running', release: 'v2', host: os.hostname(), pid: process.pid });
    set(['v2', 'v1', 'v1']);
    const result = await runCheck(apiFleetConsistent, depsFor(config));
    expect(result.status).toBe('warn');
    expect(result.summary).toBe(`deploy ${running.id} is running: the hosts are between releases (v2 on web-1; v1 on web-2, web-3)`);
  });

  it('an unreachable host: fail naming it and the refusal', async () => {
    const gone = await startFakeServer((_req, _body, res) => sendJson(res, 200, { ok: true, version: 'v1' }));
    await gone.close();
    const config = fleetConfig([...hosts.map((h) => `        - { name: ${h.name}, url: "${h.url}" }`), `        - { name: web-4, url: "${gone.url}" }`]);
    set(['v1', 'v1', 'v1']);
    const result = await runCheck(apiFleetConsistent, depsFor(config));
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('web-4 does not answer healthy on /health (web-4: ECONNREFUSED)');
  });
});
