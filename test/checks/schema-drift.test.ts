/**
 * db.schema-drift through the real CLI (`routergpt verify --only db.schema-drift`) against real
 * PostgreSQL databases migrated by routergpt, then changed by hand as an operator might.
 */
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { adminUrl, createTestDatabase, type TestDatabase } from '../helpers/db.js';

function workspace(): string {
  const dir = tempDir('routergpt-drift-');
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), ['version: 1', 'environments:', '  staging:', '    database: { url_env: DATABASE_URL }', '    public_api_base: http://127.0.0.1:1', ''].join('\n'));
  return dir;
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

describe('db.schema-drift', () => {
  const dir = workspace();
  let db: TestDatabase;
  const cli = (args: string[], url = db.url) => runCli(args, { cwd: dir, env: { DATABASE_URL: url } });
  const drift = async (url = db.url) => {
    const result = await cli(['verify', '--env', 'staging', '--only', 'db.schema-drift', '--json'], url);
    const report = JSON.parse(result.stdout) as { checks: Array<{ id: string; status: string; summary: string; details?: string[] }> };
    return { exitCode: result.exitCode, check: report.checks.find((c) => c.id === 'db.schema-drift')!, stdout: result.stdout };
  };

  beforeAll(async () => {
    db = await createTestDatabase('drift');
    const up = await cli(['migrate', 'up', '--env', 'staging']);
    expect(up.exitCode, up.stderr).toBe(0);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('passes on a freshly migrated database', async () => {
    const { exitCode, check } = await drift();
    expect(check.status).toBe('pass');
    expect(check.summary).toMatch(/^schema matches the migrations up to \d{3} \(\d+ objects\)$/);
    expect(exitCode).toBe(0);
  });

  it('a database still behind (at 005, as the pre-deployment gate sees it) is compared with the schema of 005', async () => {
    const behind = await createTestDatabase('drift');
    try {
      expect((await cli(['migrate', 'up', '--env', 'staging', '--to', '005'], behind.url)).exitCode).toBe(0);
      const { check } = await drift(behind.url);
      expect(check.status).toBe('pass');
      expect(check.summary).toMatch(/^schema matches the migrations up to 005 /);
      await sql(behind.url, 'ALTER TABLE bookings ALTER COLUMN customer_name SET NOT NULL');
      const after = await drift(behind.url);
      expect(after.check.status).toBe('fail');
      expect(after.check.details).toEqual(['column bookings.customer_name: nullability is NOT NULL, the migrations make it NULL']);
    } finally {
      await behind.drop();
    }
  });

  it('fails naming the column after a manual ALTER TABLE (an added column, a changed type)', async () => {
    await sql(db.url, 'ALTER TABLE shops ADD COLUMN x int');
    await sql(db.url, 'ALTER TABLE shops ALTER COLUMN phone TYPE varchar(40)');
    const { exitCode, check } = await drift();
    expect(exitCode).toBe(1);
    expect(check.status).toBe('fail');
    expect(check.summary).toMatch(/^schema differs from the migrations up to \d{3}: 2 columns$/);
    expect(check.details).toEqual(['column shops.phone: type is character varying(40), the migrations make it text', 'extra column shops.x integer']);
  });

  it('names an extra table, a missing index, a dropped default and a missing constraint', async () => {
    await sql(db.url, 'CREATE TABLE scratch_copy (id int PRIMARY KEY)');
    await sql(db.url, 'DROP INDEX idx_shops_lat');
    await sql(db.url, 'ALTER TABLE shops ALTER COLUMN timezone DROP DEFAULT');
    await sql(db.url, 'ALTER TABLE shops DROP CONSTRAINT shops_slug_format');
    const { check } = await drift();
    expect(check.status).toBe('fail');
    expect(check.details).toContain('extra table scratch_copy');
    expect(check.details).toContain('missing index idx_shops_lat (CREATE INDEX idx_shops_lat ON public.shops USING btree (latitude, longitude))');
    expect(check.details).toContain("column shops.timezone: default is none, the migrations make it 'America/Phoenix'::text");
    expect(check.details).toContain("missing constraint shops.shops_slug_format (CHECK ((slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'::text)))");
    // The extra table's own primary key is part of "extra table", not listed again.
    expect(check.details!.filter((d) => d.includes('scratch_copy'))).toEqual(['extra table scratch_copy']);
  });

  it('the human output names each difference and says what to do', async () => {
    const result = await cli(['verify', '--env', 'staging', '--only', 'db.schema-drift']);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('extra column shops.x integer');
    expect(result.stdout).toContain('Undo the manual change, or make it a new migration');
  });
});

describe('db.schema-drift with a snapshot that does not fit', () => {
  const dir = workspace();
  const migrations = path.join(tempDir('routergpt-drift-mig-'), 'migrations');
  cpSync(path.join(REPO_ROOT, 'migrations'), migrations, { recursive: true });
  const next = String(readdirSync(migrations).filter((f) => /^\d{3}_.*(?<!\.down)\.sql$/.test(f)).length + 1).padStart(3, '0');
  let db: TestDatabase;
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: dir, env: { DATABASE_URL: db.url, ...env } });
  const drift = async (env: Record<string, string> = {}) => JSON.parse((await cli(['verify', '--env', 'staging', '--only', 'db.schema-drift', '--json'], env)).stdout).checks[0];

  beforeAll(async () => {
    db = await createTestDatabase('drift');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('fails when the snapshot was written for another set of files (a migration added, the snapshot not regenerated)', async () => {
    writeFileSync(path.join(migrations, `${next}_extra.sql`), 'CREATE TABLE extra_thing (id int);\n');
    expect((await cli(['migrate', 'hash'], { ROUTERGPT_MIGRATIONS_DIR: migrations })).exitCode).toBe(0);
    const check = await drift({ ROUTERGPT_MIGRATIONS_DIR: migrations });
    expect(check.status).toBe('fail');
    expect(check.summary).toMatch(/^migrations\/routergpt\.schema\.json was written for another set of migration files .*: the schema cannot be compared$/);
    expect(check.hint).toContain('routergpt migrate hash --schema-from "$TEST_DATABASE_URL"');
  });

  it('skips, saying why, a database that records a migration this release does not have', async () => {
    expect((await cli(['migrate', 'hash', '--schema-from', adminUrl()], { ROUTERGPT_MIGRATIONS_DIR: migrations })).exitCode).toBe(0);
    expect((await cli(['migrate', 'up', '--env', 'staging'], { ROUTERGPT_MIGRATIONS_DIR: migrations })).exitCode).toBe(0);
    expect((await drift({ ROUTERGPT_MIGRATIONS_DIR: migrations })).status).toBe('pass');
    const check = await drift();
    expect(check.status).toBe('skip');
    expect(check.summary).toMatch(new RegExp(`^the database records ${next}, which this release's migrations \\(up to \\d{3}\\) do not have`));
  });
});

describe('db.schema-drift on the embedded database (PostgreSQL 18 in WebAssembly; the snapshot is read on the test server)', () => {
  const dir = tempDir('routergpt-drift-local-');
  const cli = (args: string[]) => runCli(args, { cwd: dir });

  it('passes once migrated, comparing view queries by their columns, and names a column added by hand', async () => {
    expect((await cli(['migrate', 'up'])).exitCode).toBe(0);
    const first = JSON.parse((await cli(['verify', '--only', 'db.schema-drift', '--json'])).stdout).checks[0];
    expect(first.status).toBe('pass');
    expect(first.summary).toMatch(/view queries compared by their columns only \(snapshot read on PostgreSQL \d+, the database is 18\)$/);
    const psql = await cli(['db', 'psql', '--', '-X', '-q', '-c', 'ALTER TABLE shops ADD COLUMN x int']);
    expect(psql.exitCode, psql.stderr).toBe(0);
    const after = JSON.parse((await cli(['verify', '--only', 'db.schema-drift', '--json'])).stdout).checks[0];
    expect(after.status).toBe('fail');
    expect(after.details).toEqual(['extra column shops.x integer']);
  }, 120_000);
});
