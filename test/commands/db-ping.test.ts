/** `routergpt db ping` names the server's version (it printed "PostgreSQL ?"), on real PostgreSQL and on the embedded one. */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/db.js';

describe('routergpt db ping', () => {
  it('prints the PostgreSQL server version, and --json carries it', async () => {
    const db = await createTestDatabase('ping');
    try {
      const env = { env: { DATABASE_URL: db.url } };
      const text = await runCli(['db', 'ping', '--env', 'prod'], env);
      expect(text.exitCode, text.stderr).toBe(0);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query<{ server_version: string }>('SHOW server_version').finally(() => client.end());
      expect(text.stdout).toContain(`PostgreSQL ${rows[0]!.server_version} (`);
      const json = JSON.parse((await runCli(['db', 'ping', '--env', 'prod', '--json'], env)).stdout);
      expect(json.serverVersion).toBe(rows[0]!.server_version);
    } finally {
      await db.drop();
    }
  });

  it('on the embedded database too', async () => {
    const result = await runCli(['db', 'ping'], { cwd: tempDir() });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/PostgreSQL \d+\.\d+/);
  });
});
