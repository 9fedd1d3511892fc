/**
 * Adopting a production database built by hand — 001–005 applied with `psql -f`, live shops, no
 * routergpt history — with `migrate status`, `deploy --dry-run`, `migrate baseline` and then
 * `migrate up`, on a real PostgreSQL server.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalType, parseSchemaChanges } from '../../src/db/migrator/baseline.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import { LATEST_MIGRATION, MIGRATION_VERSIONS, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { createWorkspace, type Workspace } from '../helpers/workspace.js';

const MIGRATIONS = path.join(REPO_ROOT, 'migrations');
const upFiles = (upTo: string) => readdirSync(MIGRATIONS).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f) && !f.endsWith('.down.sql') && f.slice(0, 3) <= upTo).sort();

/** The schema as production got it: each file with psql -f, no routergpt involved. */
async function applyWithPsql(url: string, upTo: string): Promise<void> {
  for (const file of upFiles(upTo)) await execa('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', path.join(MIGRATIONS, file)]);
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const LIVE_SHOPS = `INSERT INTO shops (slug, name, category, city) VALUES
  ('desert-fade-barbers', 'Desert Fade Barbers', 'barbershop', 'Phoenix'),
  ('mesa-nail-studio', 'Mesa Nail Studio', 'salon', 'Mesa'),
  ('tempe-bike-fix', 'Tempe Bike Fix', 'repair', 'Tempe')`;

const migrationsTable = (url: string) => query<{ t: string | null }>(url, `SELECT to_regclass('routergpt_schema_migrations')::text AS t`).then((r) => r[0]!.t);
const recorded = (url: string) => query<{ version: string; checksum: string; applied_by: string }>(url, 'SELECT version, checksum, applied_by FROM routergpt_schema_migrations ORDER BY version');
const shops = (url: string) => query<{ id: string; slug: string; name: string }>(url, 'SELECT id::text, slug, name FROM shops ORDER BY id');
const sha256 = (file: string) => createHash('sha256').update(readFileSync(path.join(MIGRATIONS, file), 'utf8')).digest('hex');

describe('adopting a database built with psql -f (001–005, live shops, no history)', () => {
  let ws: Workspace;
  let before: Awaited<ReturnType<typeof shops>>;
  const cli = (args: string[]) => runCli(args, { cwd: ws.dir, env: ws.env });
  const journalDir = () => path.join(ws.dir, '.routergpt', 'runs', 'staging');
  const baselineRuns = () => (existsSync(journalDir()) ? readdirSync(journalDir()).filter((f) => f.includes('-baseline-')) : []);

  beforeAll(async () => {
    ws = await createWorkspace({ withServer: false });
    await applyWithPsql(ws.db.url, '005');
    await ws.query(LIVE_SHOPS);
    await ws.query(`INSERT INTO services (shop_id, name, duration_minutes, price_cents) SELECT id, 'Haircut', 30, 2500 FROM shops WHERE slug = 'desert-fade-barbers'`);
    before = await shops(ws.db.url);
    expect(before).toHaveLength(3);
  });
  afterAll(async () => {
    await ws?.stop();
  });

  it('migrate status says the schema is unmanaged and suggests --to 005', async () => {
    const result = await cli(['migrate', 'status']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('unmanaged schema: tables shops, services, opening_hours, … (8 tables) exist but no migration is recorded; it looks like 005 is applied → run `routergpt migrate baseline --to 005 --env staging`');
    expect(result.stderr).not.toContain('run `routergpt migrate up');
    const json = JSON.parse((await cli(['migrate', 'status', '--json'])).stdout);
    expect(json.unmanaged).toMatchObject({ inferred: '005', tables: ['shops', 'services', 'opening_hours', 'chat_sessions', 'chat_messages', 'bookings', 'booking_slots', 'feature_flags'] });
  });

  it('deploy --dry-run: the db.migrate step says to baseline, not "From an empty schema: apply 001…"', async () => {
    const result = await ws.deploy(['--dry-run']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('unmanaged schema: run `routergpt migrate baseline --to 005 --env staging`');
    expect(result.stderr).not.toContain('an empty schema');
    expect(result.stderr).not.toContain('apply 001_shops');
    expect(await migrationsTable(ws.db.url)).toBeNull();
  });

  it('a real deploy stops at db.migrate with that advice, not on "relation shops already exists"', async () => {
    const result = await ws.deploy();
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Unmanaged schema: tables shops');
    expect(result.stderr).toContain('Run `routergpt migrate baseline --to 005 --env staging`, then try again.');
    expect(result.stderr).not.toContain('already exists');
    expect(await migrationsTable(ws.db.url)).toBeNull();
    expect(await shops(ws.db.url)).toEqual(before);
  }, 60_000);

  it('migrate up refuses the same way', async () => {
    const result = await cli(['migrate', 'up', '--yes']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Run `routergpt migrate baseline --to 005 --env staging`');
    expect(await migrationsTable(ws.db.url)).toBeNull();
  });

  it('baseline needs a confirmation outside local: without --yes and a terminal it stops (exit 2), recording nothing', async () => {
    const result = await cli(['migrate', 'baseline', '--to', '005']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('Re-run with --yes');
    expect(await migrationsTable(ws.db.url)).toBeNull();
  });

  it('baseline --dry-run checks and says what it would record, and records nothing', async () => {
    const result = await cli(['migrate', 'baseline', '--to', '005', '--dry-run']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('would record 001, 002, 003, 004, 005 as applied');
    expect(await migrationsTable(ws.db.url)).toBeNull();
  });

  it('baseline --to 005 --yes records 001–005 with the files\' checksums, journaled as a baseline run', async () => {
    const result = await cli(['migrate', 'baseline', '--to', '005', '--yes']);
    expect(result.stderr).toContain('staging: recorded 001, 002, 003, 004, 005 as applied without running them');
    expect(result.exitCode).toBe(0);
    const rows = await recorded(ws.db.url);
    expect(rows.map((r) => [r.version, r.checksum])).toEqual(upFiles('005').map((f) => [f.slice(0, 3), sha256(f)]));
    const [file] = baselineRuns();
    expect(file).toBeDefined();
    const run = JSON.parse(readFileSync(path.join(journalDir(), file!), 'utf8')) as RunRecord;
    expect(run).toMatchObject({ kind: 'baseline', env: 'staging', status: 'succeeded' });
    expect(run.items[0]).toMatchObject({ id: 'migrate.baseline', state: 'done', outputs: { to: '005', before: '000' } });
    for (const row of rows) expect(row.applied_by).toBe(`routergpt baseline ${run.id}`);
    expect(await ws.query('SELECT kind, status FROM routergpt.runs WHERE id = $1', [run.id])).toEqual([{ kind: 'baseline', status: 'succeeded' }]);
  });

  it('running it again is a no-op (exit 0, nothing recorded, no new run)', async () => {
    const result = await cli(['migrate', 'baseline', '--to', '005', '--yes']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('nothing to do');
    expect(await recorded(ws.db.url)).toHaveLength(5);
    expect(baselineRuns()).toHaveLength(1);
    // A lower --to is already covered too.
    expect((await cli(['migrate', 'baseline', '--to', '003', '--yes'])).stderr).toContain('nothing to do');
  });

  it('--to 042 is a usage error naming the versions', async () => {
    const result = await cli(['migrate', 'baseline', '--to', '042', '--yes']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('There is no migration 042');
    expect(result.stderr).toContain('001, 002');
  });

  it('then migrate up applies exactly 006 onwards, and every shop survives', async () => {
    const status = await cli(['migrate', 'status']);
    expect(status.stderr).not.toContain('unmanaged');
    expect(status.stderr).toContain(`${MIGRATION_VERSIONS.length - 5} pending`);
    const result = await cli(['migrate', 'up', '--yes']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`applied ${MIGRATION_VERSIONS.length - 5} migration(s); now at ${LATEST_MIGRATION}`);
    const rows = await recorded(ws.db.url);
    expect(rows.map((r) => r.version)).toEqual(MIGRATION_VERSIONS);
    expect(rows.filter((r) => r.applied_by.startsWith('routergpt baseline ')).map((r) => r.version)).toEqual(['001', '002', '003', '004', '005']);
    expect(await shops(ws.db.url)).toEqual(before);
    expect(await ws.query(`SELECT count(*)::int AS n FROM services`)).toEqual([{ n: 1 }]);
  });
});

describe('baseline refuses a schema that lacks what the migrations create', () => {
  let db: TestDatabase;
  const prod = (args: string[]) => runCli([...args, '--env', 'prod'], { cwd: tempDir(), env: { DATABASE_URL: db.url } });

  beforeAll(async () => {
    db = await createTestDatabase('bl');
    await applyWithPsql(db.url, '005');
    await query(db.url, LIVE_SHOPS);
    await query(db.url, 'ALTER TABLE bookings DROP COLUMN customer_name');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a column of 004 missing: baseline --to 005 fails naming the table and column (exit 2) and records nothing', async () => {
    const result = await prod(['migrate', 'baseline', '--to', '005', '--yes']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('table bookings has no column customer_name (004_bookings adds it as text)');
    expect(result.stderr).toContain('Nothing was recorded.');
    expect(await migrationsTable(db.url)).toBeNull();
    expect(await query(db.url, `SELECT to_regclass('routergpt.runs')::text AS t`)).toEqual([{ t: null }]);
  });

  it('status still suggests --to 005, where baseline then names what is missing', async () => {
    const result = await prod(['migrate', 'status']);
    expect(result.stderr).toContain('it looks like 005 is applied → run `routergpt migrate baseline --to 005 --env prod`');
  });
});

describe('the migration parser', () => {
  it('reads tables with their columns, added and dropped columns, indexes, views and functions; not comments or bodies', () => {
    const sql = `-- CREATE TABLE in_a_comment (x int);
      CREATE TABLE public."Mixed" (id int8 PRIMARY KEY, at timestamp(3) with time zone NOT NULL, tags text[], CONSTRAINT c CHECK (id > 0));
      ALTER TABLE ONLY shops ADD COLUMN IF NOT EXISTS rating numeric(3,1) DEFAULT 0, DROP COLUMN phone, ADD CONSTRAINT k UNIQUE (rating);
      CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS shops_rating_idx ON ONLY shops (rating);
      CREATE OR REPLACE VIEW v AS SELECT 'CREATE TABLE not_me (x int)' AS s;
      CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$ BEGIN CREATE TABLE nor_me (x int); END $body$;
      DROP VIEW IF EXISTS old_a, old_b CASCADE;
      CREATE TABLE other.elsewhere (x int);`;
    expect(parseSchemaChanges(sql)).toEqual([
      { op: 'create', object: { kind: 'table', name: 'Mixed' } },
      { op: 'create', object: { kind: 'column', table: 'Mixed', name: 'id', type: 'int8' } },
      { op: 'create', object: { kind: 'column', table: 'Mixed', name: 'at', type: 'timestamp(3) with time zone' } },
      { op: 'create', object: { kind: 'column', table: 'Mixed', name: 'tags', type: 'text[]' } },
      { op: 'create', object: { kind: 'column', table: 'shops', name: 'rating', type: 'numeric(3,1)' } },
      { op: 'drop', object: { kind: 'column', table: 'shops', name: 'phone', type: '' } },
      { op: 'create', object: { kind: 'index', name: 'shops_rating_idx', table: 'shops' } },
      { op: 'create', object: { kind: 'view', name: 'v' } },
      { op: 'create', object: { kind: 'function', name: 'f' } },
      { op: 'drop', object: { kind: 'view', name: 'old_a' } },
      { op: 'drop', object: { kind: 'view', name: 'old_b' } },
    ]);
  });

  it('compares types loosely: one spelling per type', () => {
    expect(['int8', 'bigint', 'bigserial'].map(canonicalType)).toEqual(['bigint', 'bigint', 'bigint']);
    expect(canonicalType('timestamp(3) with time zone')).toBe(canonicalType('timestamptz'));
    expect(canonicalType('character varying(20)')).toBe(canonicalType('varchar'));
    expect(canonicalType('float8')).toBe('double precision');
  });
});
