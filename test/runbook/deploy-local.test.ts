import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runbook/journal.js';
import { LATEST_MIGRATION, runCli, tempDir } from '../helpers/cli.js';

/** The README's first command: `routergpt deploy --yes` on a fresh directory, embedded database, nothing else. */
describe('routergpt deploy on the embedded default', () => {
  const dir = tempDir('routergpt-local-deploy-');
  const runs = () => readdirSync(path.join(dir, '.routergpt', 'runs', 'local')).filter((f) => f.endsWith('.json')).sort();
  const run = (file: string) => JSON.parse(readFileSync(path.join(dir, '.routergpt', 'runs', 'local', file), 'utf8')) as RunRecord;

  it('runs the whole runbook end to end and prints the report', async () => {
    const result = await runCli(['deploy', '--yes'], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('Plan: local checklist on local');
    expect(result.stderr).toContain('started the API in this process');
    // Without a terminal: each item's result once — on stderr as it finishes; the report on stdout
    // is the sign-off and the outcome, not the table again (Markdown only for --reporter markdown).
    expect(result.stdout).toMatch(/deploy local: SUCCEEDED — \d+ done, /);
    expect(result.stdout).toContain('Signed off: deployed by ');
    expect(result.stdout).not.toContain('|---|');
    expect(result.stdout).not.toContain('│');
    expect(result.stdout.match(/deploy local: SUCCEEDED/g)).toHaveLength(1);
    const both = result.stdout + result.stderr;
    for (const text of [/seeded \d+ shops, \d+ services/g, /healthy after \d+ attempt/g, /Deleted \d+ test shop/g]) expect(both.match(text)).toHaveLength(1);
    const record = run(runs()[0]!);
    // Every item passed; an item whose checks only warned (api.performance on a busy machine) ends `warn`.
    expect(record.items.map((i) => [i.id, i.state]).filter(([, s]) => s !== 'done' && s !== 'skipped' && s !== 'warn')).toEqual([]);
    // (api.performance is `on_fail: continue` on local: production's budgets on a shared machine.)
    for (const item of record.items.filter((i) => i.state === 'warn')) expect(item.checks?.some((c) => c.status === 'warn' || (item.id === 'api.performance' && c.status === 'fail')), item.id).toBe(true);
    expect(record.signoff).toMatchObject({ source: 'local' });
    // The post-deployment API checks ran against the real server, not skipped.
    const post = record.items.find((i) => i.id.startsWith('checks:api.health'))!;
    expect(post.checks?.filter((c) => c.status === 'skip')).toEqual([]);
    // A backup exists and the test shops are gone.
    const backup = record.items.find((i) => i.id === 'db.backup')!;
    expect(existsSync(String(backup.outputs?.manifest))).toBe(true);
    const leftovers = await runCli(['db', 'psql', '--', '-At', '-c', "select count(*) from shops where slug in ('mesa-cuts','tempe-hair-salon')"], { cwd: dir });
    expect(leftovers.stdout.trim()).toBe('0');
  });

  it('status lists the run; checklist render marks it', async () => {
    const status = await runCli(['status', '--json'], { cwd: dir });
    expect(status.exitCode).toBe(0);
    const json = JSON.parse(status.stdout) as { runs: RunRecord[] };
    expect(json.runs[0]).toMatchObject({ kind: 'deploy', status: 'succeeded' });
    const render = await runCli(['checklist', 'render'], { cwd: dir });
    expect(render.stdout).toContain(`Latest deploy: \`${json.runs[0]!.id}\` — **succeeded**`);
    expect(render.stdout).not.toContain('⬜');
    // A signed run fills the Sign-off block; no line is drawn as "—".
    expect(render.stdout).toContain('**Signed off:** local rehearsal, ');
    expect(render.stdout).not.toMatch(/\*\*[A-Za-z -]+:\*\* —/);
  });

  it('rollback --tier restore returns the embedded database to its pre-deploy state (empty)', async () => {
    const result = await runCli(['rollback', '--tier', 'restore', '--yes'], { cwd: dir });
    // Restored to before the first migration: the code on disk needs the latest migration, so the verification
    // after the rollback (the real server, started in-process) says the two do not match.
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/undo\.db\.backup[^\n]*\n[^\n]*✔ done/);
    expect(result.stderr).toContain(`running code needs migration ${LATEST_MIGRATION}`);
    const tables = await runCli(['db', 'psql', '--', '-At', '-c', "select count(*) from pg_tables where schemaname = 'public'"], { cwd: dir });
    expect(tables.stdout.trim()).toBe('0');
    // The journal survived the restore.
    const status = JSON.parse((await runCli(['status', '--json'], { cwd: dir })).stdout) as { runs: RunRecord[] };
    expect(status.runs.map((r) => r.kind)).toEqual(['rollback', 'deploy']);
  });
});
