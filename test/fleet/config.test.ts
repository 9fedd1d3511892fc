/**
 * Issue 15 (fleet), bad input: `deploy.hosts[].url` and `deploy.strategy` are checked when the
 * configuration loads — one line per problem naming the host and the fix, a config error
 * (exit 2) before any host is touched. Real files, the real CLI.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchSize, planBatches } from '../../src/config/deploy-settings.js';
import { loadConfig } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/errors.js';
import { commandFor, describeCommands } from '../../src/steps/code/run-commands.js';
import { runCli, tempDir } from '../helpers/cli.js';

/** A config file with one `staging` environment whose deploy section is `deploy` (YAML lines under `deploy:`). */
function writeConfig(deploy: string[]): string {
  const dir = tempDir('routergpt-fleet-config-');
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), ['version: 1', 'environments:', '  staging:', '    deploy:', ...deploy.map((l) => `      ${l}`), ''].join('\n'));
  return dir;
}

function problemsOf(dir: string): string[] {
  const loaded = loadConfig({ flags: { env: 'staging' }, cwd: dir, env: { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' }, collectProblems: true });
  return loaded.problems;
}

const THREE = ['hosts:', '  - { name: web-1, via: [ssh, web-1], url: "http://127.0.1.1:8787/" }', '  - { name: web-2, via: [ssh, web-2], url: "http://127.0.1.2:8787" }', '  - { name: web-3, via: [ssh, web-3], url: "http://127.0.1.3:8787" }', 'commands: [pm2 restart routergpt --update-env]'];

describe('fleet config: hosts with url and a rolling strategy', () => {
  it('resolves url (trailing slash dropped) and the strategy with its defaults', () => {
    const dir = writeConfig([...THREE, 'strategy: { batch: "50%", pause: 2s, max_fail: 1, canary: true }']);
    const { config } = loadConfig({ flags: { env: 'staging' }, cwd: dir, env: { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' } });
    const deploy = config.deploy.value;
    expect(deploy.hosts[0]).toEqual({ name: 'web-1', via: ['ssh', 'web-1'], url: 'http://127.0.1.1:8787' });
    expect(deploy.strategy).toEqual({ batch: { percent: 50 }, pauseMs: 2000, maxFail: 1, canary: true, canaryBakeMs: 300_000, gateTimeoutMs: 120_000 });
    // Canary first (one host), then 50 % of three rounded up: two.
    expect(planBatches(deploy.hosts, deploy.strategy!).map((b) => b.map((h) => h.name))).toEqual([['web-1'], ['web-2', 'web-3']]);
    expect(batchSize({ percent: 25 }, 3)).toBe(1);
    expect(batchSize({ count: 5 }, 3)).toBe(3);
    expect(planBatches(['a', 'b', 'c'], { batch: { count: 1 }, canary: false })).toEqual([['a'], ['b'], ['c']]);
  });

  it('config show says the deploy is rolling, and how', async () => {
    const dir = writeConfig([...THREE, 'strategy: { batch: "50%", pause: 2s, max_fail: 1, canary: true }']);
    const shown = await runCli(['config', 'show', '--env', 'staging'], { cwd: dir, env: { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' } });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('1 command(s) on web-1, web-2, web-3; rolling, batch 50%, max_fail 1, pause 2 s, canary first (bakes 5 min), gate 120 s');
  });

  it('config show names the releases layout: its path, keep_releases, how the code rolls back; the commands counted as configured', async () => {
    const dir = writeConfig([...THREE.slice(0, -1), 'layout: releases', 'path: /srv/routergpt', 'keep_releases: 3', 'commands: [npm ci]', 'restart: pm2 restart routergpt --update-env', 'strategy: { batch: 1 }']);
    const shown = await runCli(['config', 'show', '--env', 'staging'], { cwd: dir, env: { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' } });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('1 command(s) on web-1, web-2, web-3; releases layout in /srv/routergpt (keep 3, code rollback = switch current back + restart); rolling, batch 1, max_fail 0, gate 120 s');
    const json = await runCli(['config', 'show', '--env', 'staging', '--json'], { cwd: dir, env: { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' } });
    const deploy = (JSON.parse(json.stdout) as { values: Array<{ key: string; value: string }> }).values.find((v) => v.key === 'deploy');
    expect(deploy?.value).toContain('releases layout in /srv/routergpt (keep 3');
    // Without the layout the row says nothing of it.
    const plain = await runCli(['config', 'show', '--env', 'staging'], { cwd: writeConfig(THREE), env: { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' } });
    expect(plain.stdout).toContain('1 command(s) on web-1, web-2, web-3');
    expect(plain.stdout).not.toContain('releases layout');
  });

  it('gives every command ROUTERGPT_HOST and ROUTERGPT_HOST_URL: in front of the remote command through via, in the plan too', () => {
    const host = { name: 'web-2', via: ['ssh', 'web-2'], url: 'http://127.0.1.2:8787' };
    const lines = describeCommands([host], ['pm2 restart routergpt --update-env'], { ROUTERGPT_RELEASE: 'v2' });
    expect(lines).toEqual([`web-2 (ssh web-2): export ROUTERGPT_RELEASE='v2' ROUTERGPT_HOST='web-2' ROUTERGPT_HOST_URL='http://127.0.1.2:8787'; pm2 restart routergpt --update-env`]);
    // Locally: the command as written, the variables in its environment (said once).
    const local = describeCommands([{ name: 'here', via: [] }], ['true'], { ROUTERGPT_RELEASE: 'v2' });
    expect(local.at(-1)).toContain('ROUTERGPT_HOST (and ROUTERGPT_HOST_URL) of the host');
    expect(commandFor({ name: 'here', via: [] }, 'true', { ROUTERGPT_HOST: 'here' })).toEqual(['true']);
  });

  it('refuses each bad input with one line naming the host and the fix', () => {
    const noUrl = problemsOf(writeConfig(['hosts:', '  - { name: web-1, via: [ssh, web-1], url: "http://127.0.1.1:8787" }', '  - { name: web-2, via: [ssh, web-2] }', 'strategy: { batch: 1 }']));
    expect(noUrl).toEqual([expect.stringMatching(/deploy\.hosts\[1\] \(web-2\) has no url, and deploy\.strategy gates each host on its own \/health: set url:/)]);

    expect(problemsOf(writeConfig([...THREE, 'strategy: { batch: 0 }']))).toEqual([expect.stringContaining('deploy.strategy.batch is 0: a batch is at least one host')]);
    expect(problemsOf(writeConfig([...THREE, 'strategy: { batch: "150%" }']))).toEqual([expect.stringContaining('deploy.strategy.batch is "150%": write a whole number of hosts from 1')]);
    expect(problemsOf(writeConfig([...THREE, 'strategy: { batch: "0%" }']))).toHaveLength(1);
    expect(problemsOf(writeConfig([...THREE, 'strategy: { max_fail: 4 }']))).toEqual([expect.stringContaining('deploy.strategy.max_fail is 4 with 3 hosts: more failures than there are hosts — set max_fail to at most 3')]);
    expect(problemsOf(writeConfig([...THREE, 'strategy: { pause: soon }']))).toEqual([expect.stringContaining('deploy.strategy.pause')]);

    const dup = problemsOf(writeConfig(['hosts:', '  - { name: web-1, url: "http://127.0.1.1:8787" }', '  - { name: web-1, url: "http://127.0.1.2:8787" }']));
    expect(dup).toEqual([expect.stringMatching(/deploy\.hosts\[1\] is named "web-1", like deploy\.hosts\[0\]: give each host its own name/)]);
    expect(problemsOf(writeConfig(['hosts:', '  - { name: web-1, url: "web-1:8787" }']))).toEqual([expect.stringContaining('deploy.hosts[0].url of "web-1" is "web-1:8787": write the host\'s own base URL')]);
    expect(problemsOf(writeConfig(['strategy: { batch: 1 }']))).toEqual([expect.stringContaining('deploy.strategy rolls out host by host, and deploy.hosts is empty')]);

    const thrown = (() => {
      try {
        loadConfig({ flags: { env: 'staging' }, cwd: writeConfig([...THREE, 'strategy: { batch: 0 }']), env: { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' } });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(ConfigError);
  });

  it('a deploy with a bad strategy exits 2 and changes no host (its commands never ran)', async () => {
    const dir = writeConfig(['hosts:', '  - { name: web-1, url: "http://127.0.1.1:8787" }', '  - { name: web-2 }', 'strategy: { batch: 1 }', 'commands: ["touch touched-$ROUTERGPT_HOST"]']);
    const checklist = path.join(dir, 'code.yaml');
    writeFileSync(checklist, ['name: code', 'phases:', '  - id: deploy', '    title: Deploy', '    items:', '      - step: code.deploy', ''].join('\n'));
    const result = await runCli(['deploy', '--checklist', checklist, '--yes', '--env', 'staging'], { cwd: dir, env: { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' } });
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toContain('(web-2) has no url');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack
    expect(existsSync(path.join(dir, 'touched-web-1'))).toBe(false);
  });
});
