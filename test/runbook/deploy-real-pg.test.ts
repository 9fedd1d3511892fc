import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runbook/journal.js';
import { LATEST_MIGRATION, runCli, spawnCli } from '../helpers/cli.js';
import { bySize } from '../helpers/fuzz-profile.js';
import { createWorkspace, LOOPBACK_CHECKLIST, WORKSPACE_DEPLOYER, type Workspace } from '../helpers/workspace.js';

function journalOf(ws: Workspace, id?: string): RunRecord {
  const dir = path.join(ws.dir, '.routergpt', 'runs', 'staging');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const file = id ? `${id}.json` : files[files.length - 1]!;
  return JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as RunRecord;
}

/** The state a deploy leaves that must not depend on how it got there (timestamps excluded). */
async function finalState(ws: Workspace) {
  return {
    migrations: (await ws.query<{ version: string }>('SELECT version FROM routergpt_schema_migrations ORDER BY version')).map((r) => r.version),
    shops: await ws.query('SELECT slug, latitude, longitude, geocode_source FROM shops ORDER BY slug'),
    services: (await ws.query<{ n: number }>('SELECT count(*)::int AS n FROM services'))[0]!.n,
    flags: await ws.query('SELECT key, enabled FROM feature_flags ORDER BY key'),
  };
}

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.stop();
  ws = undefined;
});

describe('routergpt deploy on a real PostgreSQL with a real running server', () => {
  it('runs the whole checklist, journals it in the database and a file, and records the sign-off', async () => {
    ws = await createWorkspace();
    const result = await ws.deploy();
    expect(result.stderr).toContain('Plan: loopback checklist on staging');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('SUCCEEDED');
    const run = journalOf(ws);
    expect(run.status).toBe('succeeded');
    // Every item passed (one whose checks only warned, e.g. api.performance on a busy machine, ends `warn`).
    expect(run.items.filter((i) => !['done', 'warn', 'skipped'].includes(i.state)).map((i) => i.id)).toEqual([]);
    expect(run.signoff).toMatchObject({ deployedBy: WORKSPACE_DEPLOYER, identitySource: 'flag', source: 'signoff-file' });
    expect(run.startedBy).toBe(WORKSPACE_DEPLOYER);
    expect(run.items.find((i) => i.id === 'manual.custom-gpt-configured')).toMatchObject({ state: 'done', signedBy: 'Test Operator' });
    // Backup is real pg_dump output, verified and restore-tested before migrations ran.
    const backup = run.items.find((i) => i.id === 'db.backup')!;
    expect(backup.details?.join('\n')).toContain('restore test');
    expect(String(backup.outputs?.file)).toMatch(/\.dump$/);
    // The configured deploy command really ran.
    expect(readFileSync(path.join(ws.dir, 'deploy-marker.log'), 'utf8')).toMatch(/^deployed \d+/);
    // Test shops gone, the rest geocoded.
    expect(await ws.query(`SELECT slug FROM shops WHERE slug = 'mesa-cuts' OR latitude IS NULL`)).toEqual([]);
    const [dbRun] = await ws.query<{ status: string; record: RunRecord }>('SELECT status, record FROM routergpt.runs WHERE id = $1', [run.id]);
    expect(dbRun?.status).toBe('succeeded');
    expect(dbRun?.record.signoff?.deployedBy).toBe(WORKSPACE_DEPLOYER);
    const status = await runCli(['status'], { cwd: ws.dir, env: ws.env });
    expect(status.stdout).toContain(run.id);
    expect(status.stdout).toContain(WORKSPACE_DEPLOYER);
    const rendered = await runCli(['checklist', 'render', '--checklist', LOOPBACK_CHECKLIST], { cwd: ws.dir, env: ws.env });
    expect(rendered.stdout).toContain('✅');
    expect(rendered.stdout).toContain(`**Deployed by:** ${WORKSPACE_DEPLOYER}`);
  });

  it('SIGKILL at step boundaries (each one under npm run fuzz), then --resume: the same final state, no done step run twice', async () => {
    const reference = await createWorkspace();
    try {
      expect((await reference.deploy()).exitCode).toBe(0);
      const expected = await finalState(reference);
      const steps = journalOf(reference).items.filter((i) => i.kind === 'step').map((i) => i.id);
      expect(steps.length).toBeGreaterThanOrEqual(7);
      // npm test kills at three boundaries (the first step, the migration, the last step); npm run
      // fuzz at every one. Each case is a whole deploy and resume, about 10 s.
      const quick = [...new Set([steps[0]!, steps.find((id) => id.includes('migrat')) ?? steps[1]!, steps.at(-1)!])];
      for (const boundary of bySize(quick, steps)) {
        ws = await createWorkspace();
        const child = spawnCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile, '--yes'], { cwd: ws.dir, env: ws.env });
        const dir = path.join(ws.dir, '.routergpt', 'runs', 'staging');
        let doneBeforeKill: string[] = [];
        // A deadline, not a count of polls: a loaded machine can take long to reach a boundary.
        for (const deadline = Date.now() + 90_000; Date.now() < deadline; ) {
          let run: RunRecord | undefined;
          try {
            run = journalOf(ws);
          } catch {
            run = undefined; // not written yet
          }
          if (['done', 'warn', 'skipped'].includes(run?.items.find((x) => x.id === boundary)?.state ?? '')) {
            child.kill('SIGKILL');
            doneBeforeKill = run!.items.filter((x) => ['done', 'warn', 'skipped'].includes(x.state)).map((x) => x.id);
            break;
          }
          if (child.exitCode !== null) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await child.catch(() => {});
        expect(doneBeforeKill, `killed after ${boundary}`).toContain(boundary);
        void dir;
        const resumed = await runCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile, '--yes', '--resume'], { cwd: ws.dir, env: ws.env });
        expect(resumed.exitCode, `resume after ${boundary}: ${resumed.stderr}`).toBe(0);
        const run = journalOf(ws);
        expect(run.status).toBe('succeeded');
        expect(run.resumes).toHaveLength(1);
        for (const id of doneBeforeKill) expect(run.items.find((x) => x.id === id)!.attempts, `${id} after a kill at ${boundary}`).toBe(1);
        expect(await finalState(ws)).toEqual(expected);
        await ws.stop();
        ws = undefined;
      }
    } finally {
      await reference.stop();
    }
  }, 600_000);

  it('a corrupted backup is caught before any migration', async () => {
    ws = await createWorkspace();
    const child = spawnCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile, '--yes'], { cwd: ws.dir, env: ws.env });
    let backupFile = '';
    // A deadline, not a count of polls: on a loaded CI machine the backup can take longer than 6 s.
    const deadline = Date.now() + 90_000;
    while (!backupFile && Date.now() < deadline) {
      try {
        const item = journalOf(ws).items.find((x) => x.id === 'db.backup');
        if (item?.state === 'done') {
          child.kill('SIGKILL');
          backupFile = String(item.outputs?.file);
        }
      } catch {
        /* not written yet */
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await child.catch(() => {});
    expect(backupFile, 'the deploy finished its backup within the deadline').not.toBe('');
    // Undo whatever the killed run got to after the backup, then damage the backup file.
    await ws.query(`DELETE FROM routergpt_schema_migrations`).catch(() => {});
    const bytes = readFileSync(backupFile);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    writeFileSync(backupFile, bytes);
    const tablesBefore = await ws.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
    const resumed = await runCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile, '--yes', '--resume'], { cwd: ws.dir, env: ws.env });
    expect(resumed.exitCode).toBe(1);
    expect(resumed.stderr).toContain('The backup taken by this run is no longer usable');
    expect(journalOf(ws).items.find((x) => x.id === 'db.migrate')?.state).toBe('failed');
    expect(await ws.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).toEqual(tablesBefore);
  }, 180_000);

  it('Ctrl-C stops between items (exit 130, run cancelled), and --resume finishes it', async () => {
    ws = await createWorkspace();
    const child = spawnCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile, '--yes'], { cwd: ws.dir, env: ws.env });
    // Interrupt as soon as the backup has started (a poll may only see it done, under load).
    for (let i = 0; i < 3000; i += 1) {
      try {
        const state = journalOf(ws).items.find((x) => x.id === 'db.backup')?.state;
        if (state && state !== 'pending') break;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toContain('--resume');
    const run = journalOf(ws);
    expect(run.status).toBe('cancelled');
    // The item running at Ctrl-C finished; everything after it is still pending.
    expect(run.items.filter((x) => x.state === 'running')).toEqual([]);
    expect(run.items.find((x) => x.id === 'db.backup')?.state).toBe('done');
    expect(run.items.filter((x) => x.state === 'pending').map((x) => x.id)).toContain('api.wait-healthy');
    const resumed = await ws.deploy(['--resume']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(journalOf(ws).status).toBe('succeeded');
  });

  it('two deploys of one environment at once: the second exits 4 naming the first', async () => {
    ws = await createWorkspace();
    const first = spawnCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile, '--yes'], { cwd: ws.dir, env: ws.env });
    let firstId = '';
    for (let i = 0; i < 600 && !firstId; i += 1) {
      try {
        const run = journalOf(ws);
        if (run.status === 'running') firstId = run.id;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const second = await runCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile, '--yes'], { cwd: ws.dir, env: ws.env });
    expect(second.exitCode).toBe(4);
    expect(second.stderr).toContain(firstId);
    expect((await first).exitCode).toBe(0);
  });

  it('rollback --tier restore returns schema and data exactly to the pre-deploy state', async () => {
    ws = await createWorkspace();
    // A pre-deploy state with data: an older schema version and some shops.
    expect((await runCli(['migrate', 'up', '--to', '005', '--yes'], { cwd: ws.dir, env: ws.env })).exitCode).toBe(0);
    await ws.query(`INSERT INTO shops (slug, name, category, address) VALUES ('old-shop', 'Old Shop', 'salon', '1 Main St'), ('mesa-cuts', 'Mesa Cuts', 'barbershop', null)`);
    const { checksumTables } = await import('../../src/db/backup/checksums.js');
    const { createPool } = await import('../../src/db/pool.js');
    const pool = createPool({ connectionString: ws.db.url, max: 2 });
    try {
      const before = await checksumTables(pool);
      const schemaBefore = await ws.query(`SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`);
      expect((await ws.deploy()).exitCode).toBe(0);
      expect(await checksumTables(pool)).not.toEqual(before);
      const rollback = await runCli(['rollback', '--tier', 'restore', '--yes'], { cwd: ws.dir, env: ws.env });
      expect(await checksumTables(pool)).toEqual(before);
      expect(await ws.query(`SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`)).toEqual(schemaBefore);
      // The server still runs the new code, which needs the latest migration: the rollback is not a success.
      expect(rollback.exitCode, rollback.stderr).toBe(1);
      expect(rollback.stderr).toContain(`running code needs migration ${LATEST_MIGRATION}, the database is at 005`);
      const run = journalOf(ws);
      expect(run).toMatchObject({ kind: 'rollback', status: 'failed', tiers: ['restore'] });
      expect(run.items.map((i) => [i.id, i.state])).toEqual([['db.backup', 'done'], ['undo.db.backup', 'done'], ['verify.after-rollback', 'failed']]);
    } finally {
      await pool.end();
    }
  });

  it('rollback --tier toggle makes the live server answer 503 on router routes within 5 s', async () => {
    ws = await createWorkspace();
    expect((await ws.deploy()).exitCode).toBe(0);
    const search = () => fetch(`http://127.0.0.1:${ws!.port}/router/search-by-location`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latitude: 33.4255, longitude: -111.94 }) });
    expect((await search()).status).toBe(200);
    const started = Date.now();
    const rollback = await runCli(['rollback', '--tier', 'toggle'], { cwd: ws.dir, env: ws.env });
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    let status = 0;
    while (Date.now() - started < 5000) {
      status = (await search()).status;
      if (status === 503) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(503);
    const body = (await (await search()).json()) as { error: { code: string } };
    expect(body.error.code).toBe('router_disabled');
    expect((await fetch(`http://127.0.0.1:${ws.port}/health`)).status).toBe(200);
  });

  it('purge → rollback --tier purge puts exactly the purged rows back', async () => {
    ws = await createWorkspace();
    const deployed = await ws.deploy();
    expect(deployed.exitCode, `${deployed.stdout}\n${deployed.stderr}`).toBe(0);
    const purge = journalOf(ws).items.find((i) => i.id === 'db.purge-test-data')!;
    expect(purge.outputs?.deletedSlugs).toEqual(expect.arrayContaining(['bishops-barbershop-tempe', 'mesa-cuts']));
    const others = await ws.query('SELECT slug FROM shops ORDER BY slug');
    const result = await runCli(['rollback', '--tier', 'purge', '--yes'], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode, result.stderr).toBe(0);
    const after = await ws.query<{ slug: string }>('SELECT slug FROM shops ORDER BY slug');
    expect(after.length).toBe(others.length + 5);
    expect(after.map((r) => r.slug)).toEqual(expect.arrayContaining(['mesa-cuts', 'tempe-hair-salon']));
  });
});

describe('deploy refuses bad input before changing anything', () => {
  it('CI mode (no terminal) without a sign-off file exits 2 and touches nothing', async () => {
    ws = await createWorkspace({ withServer: false });
    const result = await runCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--yes'], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--signoff-file');
    expect(await ws.query(`SELECT nspname FROM pg_namespace WHERE nspname = 'routergpt'`)).toEqual([]);
    expect(await ws.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).toEqual([]);
  });

  it('a malformed sign-off file exits 2 naming every problem', async () => {
    ws = await createWorkspace({ withServer: false });
    writeFileSync(ws.signoffFile, 'signed_by: ""\nitems:\n  custom-gpt-configured: "yes please"\n  not-an-item: true\nsignoff:\n  deployed_by: someone-else@example.com\n');
    const result = await ws.deploy();
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('signed_by');
    expect(result.stderr).toContain('items.custom-gpt-configured');
    expect(result.stderr).toContain('items.not-an-item');
    expect(result.stderr).toContain(`signoff.deployed_by: someone-else@example.com is not who is deploying (${WORKSPACE_DEPLOYER}, from --as)`);
    expect(await ws.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).toEqual([]);
  });

  it('an unknown step id in a checklist exits 2 naming it', async () => {
    ws = await createWorkspace({ withServer: false });
    const bad = path.join(ws.dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(LOOPBACK_CHECKLIST, 'utf8').replace('step: db.migrate', 'step: db.migrate-everything'));
    const result = await runCli(['deploy', '--checklist', bad, '--signoff-file', ws.signoffFile, '--yes'], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('unknown step id "db.migrate-everything"');
    expect(await ws.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).toEqual([]);
  });

  it('an unknown run id, or one not in the id format (a path), for --resume and for rollback --run exits 2', async () => {
    ws = await createWorkspace({ withServer: false });
    const unknown = '20261201T000000Z-deploy-beef';
    const resume = await runCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile, '--yes', '--resume', unknown], { cwd: ws.dir, env: ws.env });
    expect(resume.exitCode).toBe(2);
    expect(resume.stderr).toContain(`Unknown run id "${unknown}"`);
    const rollback = await runCli(['rollback', '--run', unknown, '--tier', 'restore', '--yes'], { cwd: ws.dir, env: ws.env });
    expect(rollback.exitCode).toBe(2);
    expect(rollback.stderr).toContain(`Unknown run id "${unknown}"`);
    for (const bad of ['../../etc/passwd', 'nope-123']) {
      const result = await runCli(['rollback', '--run', bad, '--tier', 'restore', '--yes'], { cwd: ws.dir, env: ws.env });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(`"${bad}" is not a run id`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(await ws.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).toEqual([]);
  });

  it('--dry-run prints every item\'s plan and changes nothing', async () => {
    ws = await createWorkspace({ withServer: false });
    const result = await ws.deploy(['--dry-run']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('Dry run — nothing will be changed.');
    expect(result.stderr).toMatch(/db\.backup[\s\S]*Run: pg_dump/);
    expect(result.stderr).toContain('apply 001_shops');
    expect(result.stderr).toContain('echo "deployed');
    expect(await ws.query(`SELECT nspname FROM pg_namespace WHERE nspname = 'routergpt'`)).toEqual([]);
    expect(await ws.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).toEqual([]);
  });
});
