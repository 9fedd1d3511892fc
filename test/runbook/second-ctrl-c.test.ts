import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { killTrackedChildren, trackedChildren, withTrackedChild } from '../../src/lib/children.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import { newestRun, spawnCli } from '../helpers/cli.js';
import { createWorkspace, LOOPBACK_CHECKLIST, type Workspace } from '../helpers/workspace.js';

// The deploy command writes its shell's pid (the leader of the detached process group) and its
// background child's, then waits: long enough to be interrupted in the middle of code.deploy.
const SLOW_DEPLOY = 'echo $$ > shell.pid; sleep 30 & echo $! > child.pid; wait';

function journalOf(ws: Workspace): RunRecord | undefined {
  return newestRun(path.join(ws.dir, '.routergpt', 'runs', 'staging'));
}

function readPid(ws: Workspace, file: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(ws.dir, file), 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** kill(target, 0): ESRCH means no such process (a negative target: no such process group). */
function exists(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let ws: Workspace | undefined;
const leftovers: number[] = [];
afterEach(async () => {
  // Never leave a sleep behind when an assertion fails.
  for (const pid of leftovers.splice(0)) if (exists(pid)) process.kill(pid, 'SIGKILL');
  await ws?.stop();
  ws = undefined;
});

describe('a second Ctrl-C during a deploy command', () => {
  it('kills the command’s process group, journals the run cancelled with the item failed, exits 130; --resume runs the item again', async () => {
    ws = await createWorkspace({ deployCommand: SLOW_DEPLOY });
    const cli = spawnCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', ws.signoffFile, '--yes'], { cwd: ws.dir, env: ws.env });
    const workspace = ws;
    const { shell, child } = await waitFor(
      'code.deploy running with its child started',
      () => {
        if (cli.exitCode !== null) throw new Error(`deploy exited ${cli.exitCode} before code.deploy ran`);
        const running = journalOf(workspace)?.items.find((i) => i.id === 'code.deploy')?.state === 'running';
        const shellPid = readPid(workspace, 'shell.pid');
        const childPid = readPid(workspace, 'child.pid');
        return running && shellPid && childPid ? { shell: shellPid, child: childPid } : undefined;
      },
      40_000,
    );
    leftovers.push(child, shell);
    expect(exists(child)).toBe(true);

    cli.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    // The first Ctrl-C does not reach the command (its own process group): it is still running.
    expect(exists(child)).toBe(true);
    cli.kill('SIGINT');
    const result = await cli;

    expect(result.exitCode, String(result.stderr)).toBe(130);
    expect(String(result.stderr)).toContain('Cancelled during code.deploy');
    const run = journalOf(ws)!;
    expect(run.status).toBe('cancelled');
    const item = run.items.find((i) => i.id === 'code.deploy')!;
    expect(item).toMatchObject({ state: 'failed', errorKind: 'CancelledError', attempts: 1 });
    expect(item.summary).toContain('its child process was stopped; the item will run again on --resume');
    expect(run.items.find((i) => i.id === 'api.wait-healthy')?.state).toBe('pending');
    // The command, its background sleep and their process group are gone, not running on under PID 1.
    await waitFor('the deploy command and its group to be gone', () => (exists(child) || exists(shell) || exists(-shell) ? undefined : true), 5000);

    // Resume with a fast deploy command: code.deploy runs again (attempt 2) and the run finishes.
    const config = path.join(ws.dir, 'routergpt.config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace(JSON.stringify(SLOW_DEPLOY), JSON.stringify('echo resumed >> deploy-marker.log')));
    const resumed = await ws.deploy(['--resume']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const after = journalOf(ws)!;
    expect(after).toMatchObject({ id: run.id, status: 'succeeded' });
    expect(after.items.find((i) => i.id === 'code.deploy')).toMatchObject({ state: 'done', attempts: 2 });
    expect(readFileSync(path.join(ws.dir, 'deploy-marker.log'), 'utf8')).toBe('resumed\n');
  }, 90_000);
});

describe('killTrackedChildren', () => {
  it('SIGKILLs a process group that ignores SIGTERM once the grace period is over, and forgets it', async () => {
    const child = execa('trap "" TERM; sleep 30 & echo $!; wait', { shell: true, detached: true, reject: false, stdin: 'ignore', buffer: false, stdout: 'pipe' });
    const running = withTrackedChild(child);
    const sleepPid = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    leftovers.push(sleepPid, child.pid!);
    expect(trackedChildren()).toContain(child.pid);
    const started = Date.now();
    await killTrackedChildren('SIGTERM', { graceMs: 300 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    const result = await running;
    expect(result.signal).toBe('SIGKILL');
    await waitFor('the ignoring sleep to be killed with its group', () => (exists(sleepPid) || exists(-child.pid!) ? undefined : true), 2000);
    expect(trackedChildren()).not.toContain(child.pid);
  });
});
