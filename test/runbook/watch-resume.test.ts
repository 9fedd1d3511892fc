/**
 * api.watch is resumable: a deploy killed (SIGKILL) in the middle of its watch, then `deploy
 * --resume`, continues the same watch after the last window journaled — same start, no window
 * evaluated twice — and ends with the full WatchReport as the item's result data. A real server
 * on loopback under live traffic, real PostgreSQL, the built CLI.
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import type { WatchReport } from '../../src/runbook/watch/types.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { createWorkspace, WORKSPACE_DEPLOYER, type Workspace } from '../helpers/workspace.js';
import { buildTestApp, insertTestShop, migrateTo, NEWEST_MIGRATION, postJson, testConfig } from '../server/helpers.js';

let ws: Workspace;
let pool: Pool;
let app: FastifyInstance;

beforeAll(async () => {
  ws = await createWorkspace({ withServer: false });
  pool = createPool({ connectionString: ws.db.url, max: 4 });
  await migrateTo(pool, NEWEST_MIGRATION);
  await insertTestShop(pool);
  app = await buildTestApp({ pool, config: testConfig(ws.db.url), release: 'v2' });
  await app.listen({ host: '127.0.0.1', port: ws.port });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await ws?.stop();
});

async function deployRun(): Promise<RunRecord | undefined> {
  // The journal table appears with the first run.
  const rows = await pool.query<{ record: RunRecord }>("SELECT record FROM routergpt.runs WHERE kind = 'deploy' ORDER BY started_at DESC LIMIT 1").then((r) => r.rows, () => []);
  return rows[0]?.record;
}

it('a deploy killed mid-watch resumes the watch after its last journaled window', async () => {
  const checklist = path.join(ws.dir, 'watch.yaml');
  writeFileSync(checklist, 'name: watch\nphases:\n  - id: post\n    items:\n      - check: db.reachable\n      - step: api.watch\n        params: { for: 4s, interval: 1s, on_fail: stop }\n');
  let stop = false;
  const load = (async () => {
    for (let i = 0; i < 2000 && !stop; i += 1) {
      await postJson(`http://127.0.0.1:${ws.port}/router/search-by-location`, { latitude: 33.4255, longitude: -111.94 });
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  try {
    const args = ['deploy', '--yes', '--as', WORKSPACE_DEPLOYER, '--checklist', checklist];
    const child = spawnCli(args, { cwd: ws.dir, env: ws.env });
    let before: WatchReport | undefined;
    for (let i = 0; i < 200 && !before; i += 1) {
      await new Promise((r) => setTimeout(r, 50));
      const report = (await deployRun())?.items.find((x) => x.id === 'api.watch')?.checkpoint?.report as WatchReport | undefined;
      if (report && report.windows.length >= 2) {
        child.kill('SIGKILL');
        before = report;
      }
    }
    await child.catch(() => {});
    expect(before, 'the watch journaled two windows').toBeDefined();
    const resumed = await runCli([...args, '--resume'], { cwd: ws.dir, env: ws.env });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming the watch started ${before!.startedAt} after window`);
    const run = (await deployRun())!;
    expect(run.status).toBe('succeeded');
    expect(run.resumes).toHaveLength(1);
    const item = run.items.find((x) => x.id === 'api.watch')!;
    expect(item).toMatchObject({ state: 'done', attempts: 2 });
    const report = item.outputs!.report as WatchReport;
    expect(report.startedAt).toBe(before!.startedAt);
    expect(report.windows.map((w) => w.index)).toEqual([1, 2, 3, 4]);
    // The windows done before the kill are the journaled ones, not evaluated again.
    expect(report.windows.slice(0, before!.windows.length)).toEqual(before!.windows);
    expect(report).toMatchObject({ status: 'pass', completed: true });
  } finally {
    stop = true;
    await load;
  }
}, 60_000);
