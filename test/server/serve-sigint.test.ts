import { describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';
import { freePort } from '../helpers/pg-cluster.js';
import { createServerDb } from './helpers.js';

/** Regression: the CLI's "stop between runbook items" SIGINT handler must leave `serve` alone (pm2 stops with SIGINT). */
describe('routergpt serve and Ctrl-C', () => {
  it('SIGINT is a graceful shutdown: exit 0, no "cancelling" message', async () => {
    const db = await createServerDb('sigint');
    const port = await freePort();
    const child = spawnCli(['serve', '--env', 'prod', '--port', String(port)], { env: { DATABASE_URL: db.db.url } });
    try {
      let up = false;
      for (let i = 0; i < 200 && !up; i += 1) {
        up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
        if (!up) await new Promise((r) => setTimeout(r, 50));
      }
      expect(up).toBe(true);
      child.kill('SIGINT');
      const result = await child;
      expect(result.exitCode).toBe(0);
      expect(String(result.stderr)).not.toContain('cancelling');
      expect(String(result.stderr)).toContain('stopped cleanly');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await db.close();
    }
  });
});
