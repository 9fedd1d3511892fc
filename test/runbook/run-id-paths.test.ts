/**
 * Issue 14, A11 — run ids were paths: `deploy --resume ../../x` and `rollback --run ../x` loaded a
 * journal from outside the runs directory, and the journal was then written where the file's own
 * `id` pointed; a planted file recorded a `succeeded` run with a sign-off that never happened.
 * Ids are validated against the id format, and no path is ever built from a file's contents.
 * The real CLI on the embedded database.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';

const plant = (runs: string, file: string, id: string) => {
  mkdirSync(runs, { recursive: true });
  const at = new Date().toISOString();
  writeFileSync(path.join(runs, file), JSON.stringify({
    schema: 'routergpt.run/v1', id, kind: 'deploy', env: 'local', checklist: { name: 'local', file: 'checklists/local.yaml' }, status: 'waiting-approval',
    startedAt: at, startedBy: 'mallory', host: 'h', pid: 1, resumes: [], items: [{ id: 'signoff:final', kind: 'signoff', phase: 'p', title: 'Final sign-off', state: 'pending' }],
  }));
};

describe('regression: run ids are never paths', () => {
  it('--resume and --run with a path are usage errors (exit 2) and read nothing outside the runs directory', async () => {
    const dir = tempDir();
    const outside = path.join(dir, 'x.json');
    plant(dir, 'x.json', '../../x');
    for (const args of [['deploy', '--resume', '../../x', '--yes'], ['rollback', '--run', '../x', '--yes'], ['status', '--run', '../../x'], ['deploy', '--resume', '20261201T000000Z-deploy-abcd/../../x', '--yes']]) {
      const r = await runCli(args, { cwd: dir });
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('is not a run id');
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    }
    expect(readFileSync(outside, 'utf8')).toContain('"../../x"');
  });

  it('a planted journal whose record names another id is refused by --resume, left out of status, and nothing is written where its id points', async () => {
    const dir = tempDir();
    const runs = path.join(dir, '.routergpt', 'runs', 'local');
    const name = '20261201T000000Z-deploy-abcd';
    plant(runs, `${name}.json`, '../../../evil');
    const resumed = await runCli(['deploy', '--resume', name, '--yes'], { cwd: dir });
    expect(resumed.exitCode, resumed.stderr).toBe(2);
    expect(resumed.stderr).toContain(`is not a valid run record (its id is "../../../evil", not ${name})`);
    expect(existsSync(path.join(dir, 'evil.json'))).toBe(false);
    expect(existsSync(path.join(dir, '.routergpt', 'evil.json'))).toBe(false);
    // A record named by the file but claiming a well-formed other id is not that run either.
    plant(runs, '20261201T000001Z-deploy-beef.json', '20261201T000002Z-deploy-cafe');
    const status = await runCli(['status', '--json'], { cwd: dir });
    expect(status.stdout).not.toContain('mallory');
    expect(readdirSync(runs).sort()).toEqual([`${name}.json`, '20261201T000001Z-deploy-beef.json']);
  });
});
