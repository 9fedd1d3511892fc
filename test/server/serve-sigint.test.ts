import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, REPO_ROOT, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/pg-cluster.js';
import { createServerDb, type ServerDb } from './helpers.js';

/**
 * How `serve` ends, called directly and through `npx` (docs/exit-codes.md): the signal goes to the
 * whole process group, as a terminal's Ctrl-C or a container stop does, so npm and routergpt both
 * receive it. Both shut down gracefully; Ctrl-C exits 130 either way; SIGTERM exits 0 directly and
 * 143 under npx (npm re-raises the signal on itself whatever its child returns, which a shell shows as 128 + the signal — the reason the docs say
 * to run the installed binary under a service manager).
 */
describe('routergpt serve stopped by a signal', () => {
  let db: ServerDb;
  /** A project that installed routergpt: node_modules/.bin/routergpt, as `npm install` links it. */
  let project: string;
  beforeAll(async () => {
    db = await createServerDb('sigint');
    project = tempDir('routergpt-npx-');
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-routergpt', private: true, dependencies: { routergpt: `file:${REPO_ROOT}` } }));
    mkdirSync(path.join(project, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(REPO_ROOT, path.join(project, 'node_modules', 'routergpt'));
    symlinkSync(path.join('..', 'routergpt', 'bin', 'routergpt.js'), path.join(project, 'node_modules', '.bin', 'routergpt'));
  });
  afterAll(async () => {
    await db?.close();
  });

  const cases: Array<{ via: 'direct' | 'npx'; signal: 'SIGINT' | 'SIGTERM'; exitCode: number }> = [
    { via: 'direct', signal: 'SIGINT', exitCode: 130 },
    { via: 'npx', signal: 'SIGINT', exitCode: 130 },
    { via: 'direct', signal: 'SIGTERM', exitCode: 0 },
    { via: 'npx', signal: 'SIGTERM', exitCode: 143 },
  ];
  for (const { via, signal, exitCode } of cases) {
    it(`${via}, ${signal} to the process group: graceful shutdown, exit ${exitCode}`, async () => {
      const port = await freePort();
      const args = ['serve', '--env', 'prod', '--port', String(port)];
      const [file, argv] = via === 'direct' ? [process.execPath, [BIN, ...args]] : ['npx', ['--no-install', 'routergpt', ...args]];
      // detached: a process group of its own, which the signal is sent to (npx → sh → node).
      const child = execa(file, argv, { cwd: project, env: cleanEnv({ DATABASE_URL: db.db.url, npm_config_update_notifier: 'false' }), extendEnv: false, reject: false, detached: true });
      try {
        let up = false;
        for (let i = 0; i < 300 && !up; i += 1) {
          up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
          if (!up) await new Promise((r) => setTimeout(r, 50));
        }
        expect(up).toBe(true);
        process.kill(-child.pid!, signal);
        const result = await child;
        const stderr = String(result.stderr);
        // What a shell's $? shows: npm re-raises the signal on itself, which the shell reports as 128 + it.
        const status = result.exitCode ?? 128 + constants.signals[result.signal as NodeJS.Signals];
        expect(status, stderr).toBe(exitCode);
        // The CLI's "stop between runbook items" handler stays out of serve's way.
        expect(stderr).not.toContain('cancelling');
        expect(stderr).toContain('stopped cleanly');
        expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)/);
        // Nothing left listening.
        expect(await fetch(`http://127.0.0.1:${port}/health`).then(() => 'up', () => 'down')).toBe('down');
      } finally {
        if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      }
    });
  }
});
