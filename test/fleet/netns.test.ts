/**
 * Issue 15 (fleet): nothing in a rolling deploy depends on hosts sharing loopback. One host lives
 * in its own network namespace (`ip netns` + a veth pair, as root), with its own sshd and its own
 * HTTP server on the namespace's address; the deploy reaches it through ssh over the veth and
 * gates on its /health there. Torn down after. Where namespaces cannot be made, the test says so
 * — and fails under CI=true (CI runs as root).
 */
import { randomInt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/resolve.js';
import { codeDeployStep } from '../../src/steps/code/deploy.js';
import { tempDir } from '../helpers/cli.js';
import { waitForVersion } from './test-fleet.js';

const tag = randomInt(0x1000, 0xffff).toString(16);
const ns = `rgpt-${tag}`;
const [vethHost, vethNs] = [`rgv${tag}a`, `rgv${tag}b`];
const octet = randomInt(1, 254);
const hostAddr = `10.213.${octet}.1`;
const nsAddr = `10.213.${octet}.2`;
const dir = tempDir('routergpt-netns-');
const children: ResultPromise[] = [];
let unavailable: string | undefined;

const ip = (...args: string[]) => execa('ip', args);
const inNs = (...args: string[]) => execa('ip', ['netns', 'exec', ns, ...args]);

// The host's "server": /health on its address, reporting the release in its version file.
const SERVER = `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const [addr, port, file] = process.argv.slice(2);
createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: true, version: readFileSync(file, 'utf8').trim() }));
}).listen(Number(port), addr);
`;

beforeAll(async () => {
  try {
    await ip('netns', 'add', ns);
  } catch (error) {
    unavailable = `cannot create a network namespace here (${String((error as { stderr?: string }).stderr ?? error).trim()}); run as root`;
    return;
  }
  await ip('link', 'add', vethHost, 'type', 'veth', 'peer', 'name', vethNs);
  await ip('link', 'set', vethNs, 'netns', ns);
  await ip('addr', 'add', `${hostAddr}/30`, 'dev', vethHost);
  await ip('link', 'set', vethHost, 'up');
  await inNs('ip', 'addr', 'add', `${nsAddr}/30`, 'dev', vethNs);
  await inNs('ip', 'link', 'set', vethNs, 'up');
  await inNs('ip', 'link', 'set', 'lo', 'up');

  const key = path.join(dir, 'id_ed25519');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
  writeFileSync(path.join(dir, 'sshd.conf'), [`ListenAddress ${nsAddr}:22`, `HostKey ${path.join(dir, 'host_key')}`, `AuthorizedKeysFile ${key}.pub`, 'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', `PidFile ${path.join(dir, 'sshd.pid')}`, 'LogLevel ERROR', ''].join('\n'));
  writeFileSync(path.join(dir, 'server.mjs'), SERVER);
  writeFileSync(path.join(dir, 'web-ns.version'), 'v1');
  children.push(inNs('/usr/sbin/sshd', '-D', '-e', '-f', path.join(dir, 'sshd.conf')));
  children.push(inNs(process.execPath, path.join(dir, 'server.mjs'), nsAddr, '8787', path.join(dir, 'web-ns.version')));
  for (const c of children) c.catch(() => {});
  await waitForVersion(`http://${nsAddr}:8787`, 'v1', 10_000);
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => c.catch(() => {})));
  // Deleting the namespace takes its end of the veth pair, and with it the other end.
  if (!unavailable) await ip('netns', 'del', ns).catch(() => {});
  await ip('link', 'del', vethHost).catch(() => {});
});

describe('fleet: a host in its own network namespace', () => {
  it('is deployed through ssh over a veth pair and gated on its own /health there (not loopback)', async () => {
    if (unavailable) {
      console.log(`netns test: ${unavailable}`);
      expect(process.env.CI, `CI must be able to create network namespaces: ${unavailable}`).not.toBe('true');
      return;
    }
    // Nothing of the host answers on this machine's loopback: it is another network stack.
    await expect(fetch('http://127.0.0.1:8787/health', { signal: AbortSignal.timeout(1000) }).then((r) => r.status)).rejects.toThrow();

    const key = path.join(dir, 'id_ed25519');
    const via = ['ssh', '-i', key, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5', `${os.userInfo().username}@${nsAddr}`];
    const write = (v: string) => `printf %s "$${v}" > ${JSON.stringify(dir)}/"$ROUTERGPT_HOST".version && echo "$(hostname -I 2>/dev/null | tr -d ' ') $ROUTERGPT_HOST_URL" > ${JSON.stringify(dir)}/seen`;
    writeFileSync(path.join(dir, 'routergpt.config.yaml'), ['version: 1', 'environments:', '  staging:', '    deploy:', '      hosts:', `        - { name: web-ns, url: "http://${nsAddr}:8787", via: [${via.map((v) => JSON.stringify(v)).join(', ')}] }`, '      strategy: { batch: 1, gate_timeout: 5s }', `      commands: [${JSON.stringify(write('ROUTERGPT_RELEASE'))}]`, `      rollback_commands: [${JSON.stringify(write('ROUTERGPT_ROLLBACK_RELEASE'))}]`, ''].join('\n'));
    const { config } = loadConfig({ flags: { env: 'staging' }, cwd: dir, env: { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' } });
    const result = await codeDeployStep.run({ config, db: undefined as never, runDir: dir, runId: 'run-netns', outputs: {}, params: {}, confirm: async () => {}, log: () => {}, now: () => new Date(), release: 'v2', checkpoint: async () => {} });
    expect(result.summary).toBe('1 of 1 host(s) on v2');
    expect(result.outputs!.hosts).toEqual([{ name: 'web-ns', state: 'done', from: 'v1' }]);
    // The command ran inside the namespace (its only address is the veth's), with the host's url.
    expect(readFileSync(path.join(dir, 'seen'), 'utf8').trim()).toBe(`${nsAddr} http://${nsAddr}:8787`);
    await waitForVersion(`http://${nsAddr}:8787`, 'v2', 2000);
  });
});
