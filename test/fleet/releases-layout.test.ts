/**
 * Issue 15, part 3: `deploy.layout: releases` — releases/<release>/ side by side, a `current`
 * symlink, keep_releases never removing current or previous, and a code rollback that is the
 * symlink switched back plus a restart (no rebuild). Real shell, real files, the real step: one
 * host reached through `via: [sh, -c]` (so the generated commands go the remote way, variables
 * exported in front), and a rolling deploy gated on a loopback /health that reports the release
 * `current` points to.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/resolve.js';
import { codeDeployStep } from '../../src/steps/code/deploy.js';
import type { StepContext } from '../../src/steps/define-step.js';
import { tempDir } from '../helpers/cli.js';

const ENV = { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' };

function writeConfig(dir: string, deploy: string[]): void {
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), ['version: 1', 'environments:', '  staging:', '    deploy:', ...deploy.map((l) => `      ${l}`), ''].join('\n'));
}

function context(dir: string, release: string | undefined, params: Record<string, unknown> = {}): StepContext {
  const { config } = loadConfig({ flags: { env: 'staging' }, cwd: dir, env: ENV });
  return { config, db: undefined as never, runDir: dir, runId: 'run-releases', outputs: {}, params, confirm: async () => {}, log: () => {}, now: () => new Date(), ...(release ? { release } : {}), checkpoint: async () => {} };
}

/** The layout's app root, with a build command that writes VERSION and a restart that logs what it started. */
function layoutFixture(keep: number, extra: string[] = []): { dir: string; root: string; restarts: () => string[] } {
  const dir = tempDir('routergpt-releases-');
  const root = path.join(dir, 'srv', 'routergpt');
  mkdirSync(root, { recursive: true });
  const log = path.join(dir, 'restarts.log');
  writeConfig(dir, [
    'layout: releases',
    `path: ${root}`,
    `keep_releases: ${keep}`,
    `commands: ['echo "$ROUTERGPT_RELEASE" > VERSION && echo "$ROUTERGPT_RELEASE_DIR" > DIR']`,
    `restart: 'echo "$ROUTERGPT_RELEASE $(cat VERSION) $(pwd)" >> ${log}'`,
    ...extra,
  ]);
  return { dir, root, restarts: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []) };
}

const current = (root: string) => readlinkSync(path.join(root, 'current'));
const previous = (root: string) => readlinkSync(path.join(root, 'previous'));

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

describe('deploy.layout: releases', () => {
  it('deploys into releases/<release>/, switches current (the old one becomes previous), restarts from current, keeps keep_releases but never current or previous', async () => {
    const { dir, root, restarts } = layoutFixture(2, ['hosts: [{ name: web-1, via: [sh, -c] }]']);
    for (const release of ['v1', 'v2', 'v3', 'v4']) {
      const result = await codeDeployStep.run(context(dir, release));
      expect(result.status, release).toBe('done');
      expect(current(root)).toBe(`releases/${release}`);
      expect(readFileSync(path.join(root, 'current', 'DIR'), 'utf8').trim()).toBe(path.join(root, 'releases', release));
    }
    expect(previous(root)).toBe('releases/v3');
    expect(restarts()).toEqual(['v1', 'v2', 'v3', 'v4'].map((r) => `${r} ${r} ${path.join(root, 'current')}`));
    expect(readdirSync(path.join(root, 'releases')).sort()).toEqual(['v3', 'v4']);

    // The code rollback: the symlink back to previous (no release known to the run), restart — no rebuild.
    const rolled = await codeDeployStep.undo!.run(context(dir, 'v4'), { runId: 'run-releases', state: 'done', outputs: { runs: [{}] } });
    expect(rolled.status).toBe('done');
    expect(current(root)).toBe('releases/v3');
    expect(previous(root)).toBe('releases/v4');
    expect(restarts().at(-1)).toBe(`v3 v3 ${path.join(root, 'current')}`);
    // Back to a named release (ROUTERGPT_ROLLBACK_RELEASE from the journal) that keep_releases removed: refused, current unchanged.
    await expect(codeDeployStep.undo!.run(context(dir, 'v4', { rollbackRelease: 'v1' }), { runId: 'run-releases', state: 'done', outputs: { runs: [{}] } })).rejects.toThrow(/releases\/v1 does not exist \(removed by keep_releases/);
    expect(current(root)).toBe('releases/v3');
    // A release name that is a path is refused before anything is made.
    await expect(codeDeployStep.run(context(dir, '../evil'))).rejects.toThrow(/plain release name/);
    expect(existsSync(path.join(root, 'evil'))).toBe(false);
  });

  it('a rolling deploy under the layout: a release whose restart does not come up is rolled back by switching current back, gated on /health reporting the old release', async () => {
    const { dir, root } = layoutFixture(5);
    // The "server": its /health reports the release `current` points to (its VERSION), unless that release is marked broken.
    server = createServer((_req, res) => {
      if (!existsSync(path.join(root, 'current', 'VERSION'))) return void res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, reason: 'nothing deployed' }));
      const version = readFileSync(path.join(root, 'current', 'VERSION'), 'utf8').trim();
      const broken = existsSync(path.join(root, 'current', 'BROKEN'));
      res.writeHead(broken ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: !broken, version }));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const yaml = readFileSync(path.join(dir, 'routergpt.config.yaml'), 'utf8').replace('    deploy:\n', `    deploy:\n      hosts: [{ name: web-1, url: "${url}" }]\n      strategy: { batch: 1, gate_timeout: 1s }\n`);
    writeFileSync(path.join(dir, 'routergpt.config.yaml'), yaml.replace(`commands: ['echo`, `commands: ['if [ "$ROUTERGPT_RELEASE" = v2 ]; then touch BROKEN; fi; echo`));
    expect((await codeDeployStep.run(context(dir, 'v1'))).status).toBe('done');
    expect(current(root)).toBe('releases/v1');
    const started = Date.now();
    await expect(codeDeployStep.run(context(dir, 'v2'))).rejects.toThrow(/web-1/);
    expect(current(root)).toBe('releases/v1');
    expect(existsSync(path.join(root, 'releases', 'v2')), 'the failed release stays on disk beside the good one').toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses bad layout settings when the configuration loads, naming the fix', () => {
    const dir = tempDir('routergpt-releases-bad-');
    writeConfig(dir, ['layout: releases', 'path: srv/app', 'keep_releases: 1', 'commands: ["true"]', 'rollback_commands: ["true"]']);
    const { problems } = loadConfig({ flags: { env: 'staging' }, cwd: dir, env: ENV, collectProblems: true });
    expect(problems.join('\n')).toMatch(/deploy\.path.*"srv\/app".*absolute path/);
    expect(problems.join('\n')).toMatch(/deploy\.keep_releases.*is 1: keep at least 2/);
    expect(problems.join('\n')).toMatch(/deploy\.restart.*is not set/);
    expect(problems.join('\n')).toMatch(/deploy\.rollback_commands.*remove rollback_commands/);
    writeConfig(dir, ['path: /srv/app', 'commands: ["true"]']);
    expect(loadConfig({ flags: { env: 'staging' }, cwd: dir, env: ENV, collectProblems: true }).problems.join('\n')).toMatch(/deploy\.path.*deploy\.layout is not releases/);
  });
});
