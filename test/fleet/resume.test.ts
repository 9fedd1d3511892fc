/**
 * Issue 15 (fleet): a rolling deploy SIGKILLed while the second host's commands run →
 * `routergpt deploy --resume` keeps the first host, redoes the second and finishes with the
 * third. The real CLI, a real PostgreSQL for the journal, hosts as loopback HTTP servers whose
 * /health reports the release their "deploy" wrote.
 */
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase;
const servers: Server[] = [];
beforeAll(async () => {
  db = await createTestDatabase('fleetresume');
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await db?.drop();
});

async function host(dir: string, name: string): Promise<string> {
  const file = path.join(dir, `${name}.version`);
  writeFileSync(file, 'v1');
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, version: readFileSync(file, 'utf8') }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('fleet: SIGKILL during a rolling deploy, then --resume', () => {
  it('finishes from the interrupted host: the first host is not deployed again', async () => {
    const dir = tempDir('routergpt-fleet-resume-');
    const urls = await Promise.all(['web-1', 'web-2', 'web-3'].map((n) => host(dir, n)));
    // web-2's deploy hangs while the `hold` file exists: the moment the test kills the run.
    const deploy = `echo "$ROUTERGPT_HOST" >> ran.log; while [ "$ROUTERGPT_HOST" = web-2 ] && [ -f hold ]; do sleep 0.05; done; printf %s "$ROUTERGPT_RELEASE" > "$ROUTERGPT_HOST.version"`;
    writeFileSync(path.join(dir, 'routergpt.config.yaml'), [
      'version: 1',
      'environments:',
      '  staging:',
      '    database: { url_env: DATABASE_URL }',
      '    deploy:',
      '      hosts:',
      ...urls.map((u, i) => `        - { name: web-${i + 1}, url: "${u}" }`),
      '      strategy: { batch: 1, gate_timeout: 5s }',
      `      commands: [${JSON.stringify(deploy)}]`,
      `      rollback_commands: ["printf %s \\"$ROUTERGPT_ROLLBACK_RELEASE\\" > \\"$ROUTERGPT_HOST.version\\""]`,
      '',
    ].join('\n'));
    const checklist = path.join(dir, 'code.yaml');
    writeFileSync(checklist, ['name: code', 'phases:', '  - id: deploy', '    title: Deploy', '    items:', '      - step: code.deploy', '        params: { cwd: "." }', ''].join('\n'));
    writeFileSync(path.join(dir, 'hold'), '');
    const env = { DATABASE_URL: db.url, ROUTERGPT_ENV: 'staging' };

    const child = spawnCli(['deploy', '--checklist', checklist, '--yes', '--release', 'v2'], { cwd: dir, env });
    const ran = () => (existsSync(path.join(dir, 'ran.log')) ? readFileSync(path.join(dir, 'ran.log'), 'utf8').split('\n').filter(Boolean) : []);
    const deadline = Date.now() + 30_000;
    while (!ran().includes('web-2') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(ran()).toEqual(['web-1', 'web-2']);
    child.kill('SIGKILL');
    await child.catch(() => {});
    // The killed run's command (its own process group) was left holding: let it go.
    unlinkSync(path.join(dir, 'hold'));
    await new Promise((r) => setTimeout(r, 300));
    const version = (n: string) => readFileSync(path.join(dir, `${n}.version`), 'utf8');
    expect(version('web-1')).toBe('v2');
    expect(version('web-3')).toBe('v1');

    const resumed = await runCli(['deploy', '--checklist', checklist, '--resume', '--yes'], { cwd: dir, env: { ...env } });
    expect(resumed.exitCode, resumed.stderr + resumed.stdout).toBe(0);
    // web-2 once in the killed run, once redone; web-1 not again.
    expect(ran()).toEqual(['web-1', 'web-2', 'web-2', 'web-3']);
    expect(['web-1', 'web-2', 'web-3'].map(version)).toEqual(['v2', 'v2', 'v2']);
  });
});
