/**
 * Issue 14, A6 — restore-test scratch databases leaked (3 of 16 runs with a CREATEDB,
 * non-superuser role): `DROP DATABASE … WITH (FORCE)` fails while a connection the role may not
 * terminate (autovacuum) is in the scratch database, the error was swallowed, and a full copy of
 * production data stayed on the server. Now the drop is retried, a drop that still fails is
 * reported by name, and the next restore test drops what earlier ones left. Real PostgreSQL, the
 * real pg_dump/pg_restore, a real CREATEDB role; a superuser's session stands in for autovacuum
 * (a connection that role may not terminate).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup } from '../../src/db/backup/create.js';
import { restoreTest, RESTORE_TEST_PREFIX } from '../../src/db/backup/restore.js';
import { loadConfig } from '../../src/config/resolve.js';
import { openDatabase } from '../../src/db/connect.js';
import { adminUrl } from '../helpers/db.js';
import { tempDir } from '../helpers/cli.js';
import { createMigratedDatabase, type MigratedDatabase } from '../helpers/migrated-db.js';

let db: MigratedDatabase;
let manifestFile: string;
const role = `rt_${randomBytes(4).toString('hex')}`;
let roleUrl: string;

async function admin<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: adminUrl() });
  await c.connect();
  try {
    return (await c.query<T>(sql, values)).rows;
  } finally {
    await c.end();
  }
}

const scratchDatabases = async () => (await admin<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1 || '%' ORDER BY 1`, [RESTORE_TEST_PREFIX])).map((r) => r.datname);

/** Hold a superuser session in the scratch database (the role cannot terminate it) for `ms`. */
function holdScratch(ms: number) {
  return async (pool: pg.Pool) => {
    const { rows } = await pool.query<{ db: string }>('SELECT current_database() AS db');
    const u = new URL(adminUrl());
    u.pathname = `/${rows[0]!.db}`;
    const held = new pg.Client({ connectionString: u.toString() });
    await held.connect();
    setTimeout(() => void held.end(), ms);
  };
}

beforeAll(async () => {
  db = await createMigratedDatabase({ prefix: 'rtleak', seed: true });
  const config = loadConfig({ flags: { env: 'staging' }, cwd: tempDir(), env: { DATABASE_URL: db.url } }).config;
  const opened = await openDatabase(config, { applicationName: 'routergpt-test' });
  try {
    manifestFile = (await createBackup({ db: opened, dir: tempDir(), label: 'leak', now: () => new Date() })).manifestFile;
  } finally {
    await opened.close();
  }
  await admin(`CREATE ROLE ${role} LOGIN CREATEDB`);
  const u = new URL(adminUrl());
  u.username = role;
  u.pathname = '/postgres';
  roleUrl = u.toString();
}, 120_000);

/** Other test files run restore tests on the same server at the same time: only this file's scratch databases are looked at. */
const ours = new Set<string>();
const nameOf = (target: string) => /database (\S+) on /.exec(target)![1]!;

afterAll(async () => {
  for (const name of ours) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(`DROP ROLE IF EXISTS ${role}`);
  await db?.close();
});

describe('regression: restore-test scratch databases never leak silently', () => {
  it('a drop refused for a moment (a session the role may not end) is retried until it goes', async () => {
    const result = await restoreTest({ manifestFile, adminUrl: roleUrl, inspect: holdScratch(1200) });
    ours.add(nameOf(result.target));
    expect(result.ok).toBe(true);
    expect(result.leftover).toBeUndefined();
    expect(await scratchDatabases()).not.toContain(nameOf(result.target));
  });

  it('a drop refused throughout is reported by name; the next restore test drops it', async () => {
    const first = await restoreTest({ manifestFile, adminUrl: roleUrl, inspect: holdScratch(9000) });
    expect(first.ok).toBe(true);
    expect(first.leftover?.name).toMatch(new RegExp(`^${RESTORE_TEST_PREFIX}[0-9a-z]+_[0-9a-f]{8}$`));
    ours.add(first.leftover!.name);
    expect(first.leftover?.error).toMatch(/permission denied|terminate/i);
    expect(await scratchDatabases()).toContain(first.leftover!.name);
    // Once nobody is connected, the next restore test sweeps it before its own.
    await new Promise((r) => setTimeout(r, 1500));
    // A leftover younger than staleAfterMs is not taken (it could be another restore test's, not yet connected to).
    const young = await restoreTest({ manifestFile, adminUrl: roleUrl });
    expect(young.swept ?? []).not.toContain(first.leftover!.name);
    expect(await scratchDatabases()).toContain(first.leftover!.name);
    const next = await restoreTest({ manifestFile, adminUrl: roleUrl, staleAfterMs: 2000 });
    expect(next.swept).toContain(first.leftover!.name);
    expect(await scratchDatabases()).not.toContain(first.leftover!.name);
  }, 60_000);
});
