import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbedded, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { requestDump } from '../../src/db/embedded-dump.js';
import { OperationError } from '../../src/errors.js';
import { tempDir } from '../helpers/cli.js';

/** The owner's dump channel: a process that joined the embedded database asks the owner for the WebAssembly pg_dump. */
describe('embedded database dump channel', () => {
  const dataDir = path.join(tempDir('routergpt-dumpch-'), 'local');
  let owner: EmbeddedDatabase;
  let lock: { host: string; dumpPort: number; dumpToken: string };

  beforeAll(async () => {
    owner = await openEmbedded({ dataDir, drainMs: 0 });
    await owner.pglite!.exec("CREATE TABLE t (id int primary key, name text); INSERT INTO t VALUES (1, 'one'), (2, 'two')");
    lock = JSON.parse(readFileSync(path.join(dataDir, 'routergpt.lock'), 'utf8')) as typeof lock;
  }, 60_000);
  afterAll(async () => {
    await owner?.close();
  });

  it('the lock file names the channel, readable by its owner only', () => {
    expect(lock.dumpPort).toBeGreaterThan(0);
    expect(lock.dumpToken).toMatch(/^[0-9a-f]{48}$/);
    expect(statSync(path.join(dataDir, 'routergpt.lock')).mode & 0o077).toBe(0);
  });

  it('a joining opener gets a dump function that goes through the owner', async () => {
    const joined = await openEmbedded({ dataDir });
    expect(joined.owner).toBe(false);
    expect(joined.pglite).toBeUndefined();
    const sql = await joined.dump!(['--no-owner']);
    expect(sql).toContain('-- PostgreSQL database dump complete');
    expect(sql).toContain("INSERT INTO public.t VALUES (2, 'two');");
    // pg_dump's session settings do not stay on the shared backend.
    expect((await owner.pglite!.query<{ search_path: string }>('SHOW search_path')).rows[0]!.search_path).not.toBe('');
  });

  it('refuses a wrong token and options outside the allowed few', async () => {
    const wrong = requestDump({ host: lock.host, port: lock.dumpPort, token: 'nope' }, ['--no-owner'], 1);
    await expect(wrong).rejects.toBeInstanceOf(OperationError);
    await expect(wrong).rejects.toThrow(/wrong token/);
    const bad = requestDump({ host: lock.host, port: lock.dumpPort, token: lock.dumpToken }, ['-f', '/tmp/x'], 1);
    await expect(bad).rejects.toThrow(/pg_dump option "-f" is not allowed/);
  });
});
