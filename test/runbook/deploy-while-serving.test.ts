import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runbook/journal.js';
import { runCli, spawnCli, tempDir } from '../helpers/cli.js';

/**
 * The README's quick start, second look: `routergpt serve` still running on the embedded
 * database (on a port of its own), then `deploy --yes` again. The serve process owns the
 * database; the deploy's backup asks it for the WebAssembly dump over its dump channel.
 */
describe('deploy --yes while `routergpt serve` runs on the embedded database', () => {
  const dir = tempDir('routergpt-serving-');
  const record = path.join(dir, '.routergpt', 'local', 'serve.json');
  let serve: ReturnType<typeof spawnCli>;
  let url: string;

  beforeAll(async () => {
    serve = spawnCli(['serve', '--port', '0'], { cwd: dir });
    serve.catch(() => {});
    // serve writes its URL once it listens; then /health answers.
    for (let i = 0; i < 600 && !existsSync(record); i += 1) await new Promise((r) => setTimeout(r, 100));
    url = (JSON.parse(readFileSync(record, 'utf8')) as { url: string }).url;
    let healthy = false;
    for (let i = 0; i < 300 && !healthy; i += 1) {
      healthy = await fetch(`${url}/health`).then((r) => r.ok, () => false);
      if (!healthy) await new Promise((r) => setTimeout(r, 100));
    }
    expect(healthy).toBe(true);
  }, 90_000);

  afterAll(async () => {
    if (serve.exitCode === undefined || serve.exitCode === null) serve.kill('SIGTERM');
    await serve;
  }, 30_000);

  it('serve records the URL it listens on (not the default 8787)', () => {
    const info = JSON.parse(readFileSync(record, 'utf8')) as { pid: number; url: string };
    expect(info.pid).toBe(serve.pid);
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.url).not.toBe('http://127.0.0.1:8787');
  });

  it('deploy --yes succeeds, its backup made by the serving process, verified', async () => {
    const result = await runCli(['deploy', '--yes'], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain(`asking the process serving the embedded database (pid ${serve.pid}) for the WebAssembly pg_dump`);
    const runsDir = path.join(dir, '.routergpt', 'runs', 'local');
    const file = readdirSync(runsDir).filter((f) => f.endsWith('.json')).sort()[0]!;
    const run = JSON.parse(readFileSync(path.join(runsDir, file), 'utf8')) as RunRecord;
    expect(run.status).toBe('succeeded');
    const backup = run.items.find((i) => i.id === 'db.backup')!;
    expect(backup.state).toBe('done');
    const manifestFile = String(backup.outputs?.manifest);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { format: string; sourceKind: string; file: string; tables: Record<string, number> };
    expect(manifest).toMatchObject({ format: 'plain', sourceKind: 'embedded' });
    expect(manifest.tables.shops).toBeGreaterThan(0);
    const sql = readFileSync(path.join(path.dirname(manifestFile), manifest.file), 'utf8');
    expect(sql).toContain('-- PostgreSQL database dump complete');
    // The backup checks out against its manifest, and the server still answers.
    const verify = await runCli(['backup', '--verify', manifestFile], { cwd: dir });
    expect(verify.exitCode, verify.stderr + verify.stdout).toBe(0);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  }, 180_000);

  it('rollback --tier restore works too: safety backup by the serving process, restore through its socket', async () => {
    const result = await runCli(['rollback', '--tier', 'restore', '--yes'], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/undo\.db\.backup[^\n]*\n[^\n]*✔ done[^\n]*checksums match the backup/);
    // The server kept its database: healthy, and the data is back (the deploy's purge undone).
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const shops = await runCli(['db', 'psql', '--', '-At', '-c', "select count(*) from shops where slug = 'mesa-cuts'"], { cwd: dir });
    expect(shops.stdout.trim()).toBe('1');
  }, 180_000);

  it('smoke without --base-url checks the API serve runs, on its port', async () => {
    const result = await runCli(['smoke', '--only', 'api.health'], { cwd: dir });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(result.stderr).toContain(`runs at ${url}`);
  }, 60_000);

  it('serve stops cleanly and removes its record; smoke then no longer follows it', async () => {
    serve.kill('SIGTERM');
    await serve;
    expect(existsSync(record)).toBe(false);
    const result = await runCli(['smoke', '--only', 'api.health'], { cwd: dir });
    expect(result.stderr).not.toContain(url);
  }, 60_000);
});
