// node-postgres through src/db/pg-driver.ts: loaded without its Cloudflare probe (which loads
// Node's fetch implementation), leaving no `navigator` behind, and working against a real server.
import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminUrl } from '../helpers/db.js';
import { REPO_ROOT } from '../helpers/cli.js';

const probe = (module: string) => `
  const { default: pg } = await import(${JSON.stringify(module)});
  const client = new pg.Client({ connectionString: process.env.URL });
  await client.connect();
  const { rows } = await client.query('SELECT 40 + 2 AS n');
  await client.end();
  process.stdout.write(JSON.stringify({ n: rows[0].n, fetchLoaded: process.moduleLoadList.some((m) => m.includes('undici')), navigator: 'navigator' in globalThis }));
`;

describe('the pg driver module', () => {
  it('connects and queries without loading fetch or leaving a navigator global', async () => {
    const { stdout } = await execa(process.execPath, ['--input-type=module', '-e', probe(path.join(REPO_ROOT, 'dist', 'db', 'pg-driver.js'))], { env: { URL: adminUrl() } });
    expect(JSON.parse(stdout)).toEqual({ n: 42, fetchLoaded: false, navigator: false });
  });

  it('is needed: pg imported directly loads fetch on this Node (the probe the module avoids)', async () => {
    const { stdout } = await execa(process.execPath, ['--input-type=module', '-e', probe('pg')], { env: { URL: adminUrl() }, cwd: REPO_ROOT });
    const direct = JSON.parse(stdout) as { n: number; fetchLoaded: boolean };
    expect(direct.n).toBe(42);
    // Node 21+ defines navigator, and pg no longer builds a Response there: nothing to avoid.
    expect(direct.fetchLoaded).toBe(Number(process.versions.node.split('.')[0]) < 21);
  });
});
