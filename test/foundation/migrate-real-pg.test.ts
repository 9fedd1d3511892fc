import { appendFileSync, cpSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY } from '../../src/db/migrator/migrator.js';
import { MIGRATION_VERSIONS, NEXT_MIGRATION, REPO_ROOT, runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const MIGRATIONS = path.join(REPO_ROOT, 'migrations');

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Everything the schema owns, to compare states exactly. */
async function schemaObjects(url: string): Promise<string[]> {
  const rows = await query<{ o: string }>(url, `
    SELECT 'rel:' || c.relkind::text || ':' || c.relname AS o FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relname <> 'routergpt_schema_migrations' AND c.relname NOT LIKE 'routergpt_schema_migrations%'
    UNION ALL
    SELECT 'fn:' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
    ORDER BY 1`);
  return rows.map((r) => r.o);
}

const prod = (db: TestDatabase, extra: Record<string, string> = {}) => ({ env: { DATABASE_URL: db.url, ...extra } });

describe('migrate on a real PostgreSQL server', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('mig');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('status --json lists every migration as pending on an empty database and --exit-code exits 1', async () => {
    const result = await runCli(['migrate', 'status', '--env', 'prod', '--json', '--exit-code'], prod(db));
    expect(result.exitCode).toBe(1);
    const status = JSON.parse(result.stdout);
    expect(status.applied).toEqual([]);
    expect(status.pending.map((p: { version: string }) => p.version)).toEqual(MIGRATION_VERSIONS);
  });

  it('plan prints the SQL grouped by transaction and writes nothing', async () => {
    const result = await runCli(['migrate', 'plan', '--env', 'prod'], prod(db));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('-- 001_shops: one transaction');
    expect(result.stdout).toMatch(/-- 007_phase3_location_indexes: no transaction, \d+ statement/);
    const tables = await query(db.url, `SELECT 1 FROM pg_tables WHERE schemaname = 'public'`);
    expect(tables).toEqual([]);
  });

  it('up creates everything the checklist looks for; the checklist queries run as written', async () => {
    const result = await runCli(['migrate', 'up', '--env', 'prod', '--yes'], prod(db));
    expect(result.stderr).toContain(`applied ${MIGRATION_VERSIONS.length} migration(s)`);
    expect(result.exitCode).toBe(0);
    const cols = await query<{ column_name: string }>(db.url, `SELECT column_name FROM information_schema.columns WHERE table_name = 'shops'`);
    expect(cols.map((c) => c.column_name)).toEqual(expect.arrayContaining(['latitude', 'longitude', 'geocoded_at', 'geocode_source', 'geocode_accuracy']));
    const tables = await query<{ tablename: string }>(db.url, `SELECT tablename FROM pg_tables WHERE tablename IN ('geocoding_cache', 'router_analytics')`);
    expect(tables).toHaveLength(2);
    const indexes = await query<{ indexname: string }>(db.url, `SELECT * FROM pg_indexes WHERE tablename = 'shops' AND indexname LIKE 'idx_shops_%'`);
    expect(indexes.map((i) => i.indexname)).toEqual(expect.arrayContaining(['idx_shops_location_category', 'idx_shops_lat', 'idx_shops_lon']));
    // Composites, not single columns: single-column ones let the planner BitmapAnd a continent-wide
    // latitude band with a longitude band at sparse points (bench/RESULTS.md, search-db).
    const defs = Object.fromEntries(indexes.map((i) => [i.indexname, (i as unknown as { indexdef: string }).indexdef]));
    expect(defs.idx_shops_lat).toMatch(/\(latitude, longitude\)$/);
    expect(defs.idx_shops_lon).toMatch(/\(longitude, latitude\)$/);
    for (const sql of [
      'SELECT * FROM router_usage_summary LIMIT 5',
      'SELECT * FROM router_shop_discovery LIMIT 10',
      'SELECT * FROM router_conversion_funnel LIMIT 5',
      'SELECT COUNT(*), provider FROM geocoding_cache GROUP BY provider',
      'SELECT cleanup_expired_geocoding_cache()',
      'SELECT * FROM router_usage_summary WHERE date >= CURRENT_DATE - 7 ORDER BY date DESC',
      'SELECT * FROM router_conversion_funnel WHERE date >= CURRENT_DATE - 7 ORDER BY date DESC',
      'SELECT * FROM router_shop_discovery WHERE times_discovered > 0 ORDER BY times_discovered DESC LIMIT 20',
      "SELECT event_type, COUNT(*) FROM router_analytics WHERE created_at > NOW() - INTERVAL '1 hour' GROUP BY event_type",
    ]) {
      await expect(query(db.url, sql)).resolves.toBeDefined();
    }
    const again = await runCli(['migrate', 'up', '--env', 'prod', '--yes'], prod(db));
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain('already up to date');
  });

  it('down → up round trip returns to the same schema', async () => {
    const before = await schemaObjects(db.url);
    expect(before.length).toBeGreaterThan(10);
    const down = await runCli(['migrate', 'down', '--to', '000', '--env', 'prod', '--yes'], prod(db));
    expect(down.exitCode).toBe(0);
    expect(await schemaObjects(db.url)).toEqual([]);
    const up = await runCli(['migrate', 'up', '--env', 'prod', '--yes'], prod(db));
    expect(up.exitCode).toBe(0);
    expect(await schemaObjects(db.url)).toEqual(before);
  });

  it('down without --yes and without a terminal refuses and changes nothing (exit 2)', async () => {
    const result = await runCli(['migrate', 'down', '--to', '005', '--env', 'prod'], prod(db));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--yes');
    const status = JSON.parse((await runCli(['migrate', 'status', '--env', 'prod', '--json'], prod(db))).stdout);
    expect(status.applied).toHaveLength(MIGRATION_VERSIONS.length);
  });
});

describe('migration safety', () => {
  it('two `migrate up` processes at once apply each migration exactly once, both exit 0', async () => {
    const db = await createTestDatabase('race');
    try {
      const [a, b] = await Promise.all([
        spawnCli(['migrate', 'up', '--env', 'prod', '--yes'], prod(db)),
        spawnCli(['migrate', 'up', '--env', 'prod', '--yes'], prod(db)),
      ]);
      expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
      const rows = await query<{ version: string }>(db.url, 'SELECT version FROM routergpt_schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATION_VERSIONS);
      const applied = [a.stderr, b.stderr].join('\n').match(/↑ applied\s+\d{3}_/g) ?? [];
      expect(applied).toHaveLength(MIGRATION_VERSIONS.length);
    } finally {
      await db.drop();
    }
  });

  it('an edited applied migration is refused, naming the file', async () => {
    const db = await createTestDatabase('edit');
    const dir = tempDir();
    cpSync(MIGRATIONS, path.join(dir, 'migrations'), { recursive: true });
    const env = { DATABASE_URL: db.url, ROUTERGPT_MIGRATIONS_DIR: path.join(dir, 'migrations') };
    try {
      expect((await runCli(['migrate', 'up', '--to', '003', '--env', 'prod', '--yes'], { env, cwd: dir })).exitCode).toBe(0);
      appendFileSync(path.join(dir, 'migrations', '002_services_and_hours.sql'), '\n-- an innocent-looking edit\n');
      // Even re-pinned in routergpt.sum, the database's checksum still refuses the edit.
      expect((await runCli(['migrate', 'hash'], { env, cwd: dir })).exitCode).toBe(0);
      const result = await runCli(['migrate', 'up', '--env', 'prod', '--yes'], { env, cwd: dir });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('002_services_and_hours.sql');
      expect(result.stderr).toContain('edited');
      const rows = await query(db.url, 'SELECT version FROM routergpt_schema_migrations');
      expect(rows).toHaveLength(3); // nothing more applied
    } finally {
      await db.drop();
    }
  });

  it('a migration killed with SIGKILL half-way leaves no trace, and a rerun succeeds', async () => {
    const db = await createTestDatabase('kill');
    const dir = tempDir();
    cpSync(MIGRATIONS, path.join(dir, 'migrations'), { recursive: true });
    writeFileSync(path.join(dir, 'migrations', `${NEXT_MIGRATION}_slow.sql`), 'CREATE TABLE slow_marker (id int);\nSELECT pg_sleep(30);\n');
    writeFileSync(path.join(dir, 'migrations', `${NEXT_MIGRATION}_slow.down.sql`), 'DROP TABLE IF EXISTS slow_marker;\n');
    // A folder of one's own, not pinned: without routergpt.sum the migrator only warns.
    rmSync(path.join(dir, 'migrations', 'routergpt.sum'));
    const env = { DATABASE_URL: db.url, ROUTERGPT_MIGRATIONS_DIR: path.join(dir, 'migrations') };
    try {
      const child = spawnCli(['migrate', 'up', '--env', 'prod', '--yes', '--verbose'], { env, cwd: dir });
      // Wait until the scratch migration is running inside the database, then kill the CLI without warning.
      for (let i = 0; i < 300; i += 1) {
        const running = await query(db.url, `SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()`);
        if (running.length > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGKILL');
      await child;
      // The server notices the dead client and rolls the transaction back.
      for (let i = 0; i < 100; i += 1) {
        const running = await query(db.url, `SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()`);
        if (running.length === 0) break;
        await query(db.url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%pg_sleep(30)%'`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await query(db.url, `SELECT to_regclass('slow_marker') AS t`)).toEqual([{ t: null }]);
      expect(await query(db.url, `SELECT version FROM routergpt_schema_migrations WHERE version = '${NEXT_MIGRATION}'`)).toEqual([]);
      writeFileSync(path.join(dir, 'migrations', `${NEXT_MIGRATION}_slow.sql`), 'CREATE TABLE slow_marker (id int);\n');
      const rerun = await runCli(['migrate', 'up', '--env', 'prod', '--yes'], { env, cwd: dir });
      expect(rerun.exitCode).toBe(0);
      expect(await query(db.url, `SELECT version FROM routergpt_schema_migrations WHERE version = '${NEXT_MIGRATION}'`)).toHaveLength(1);
    } finally {
      await db.drop();
    }
  });

  it('an index left invalid by an interrupted concurrent build is dropped and rebuilt', async () => {
    const db = await createTestDatabase('invalid');
    const env = { DATABASE_URL: db.url };
    try {
      expect((await runCli(['migrate', 'up', '--to', '006', '--env', 'prod', '--yes'], { env })).exitCode).toBe(0);
      // Simulate what a failed CREATE INDEX CONCURRENTLY leaves behind: the index exists, indisvalid = false.
      await query(db.url, 'CREATE INDEX idx_shops_lat ON shops (latitude, longitude)');
      await query(db.url, `UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_shops_lat'::regclass`);
      const result = await runCli(['migrate', 'up', '--env', 'prod', '--yes'], { env });
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toContain('idx_shops_lat was left invalid');
      const rows = await query<{ indisvalid: boolean }>(db.url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_shops_lat'::regclass`);
      expect(rows).toEqual([{ indisvalid: true }]);
    } finally {
      await db.drop();
    }
  });

  it('a migration waiting on a busy table gives up after lock_timeout and names the failure', async () => {
    const db = await createTestDatabase('locked');
    const env = { DATABASE_URL: db.url, ROUTERGPT_LOCK_TIMEOUT: '200ms' };
    const holder = new pg.Client({ connectionString: db.url });
    try {
      expect((await runCli(['migrate', 'up', '--to', '005', '--env', 'prod', '--yes'], { env })).exitCode).toBe(0);
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE shops IN ACCESS EXCLUSIVE MODE');
      const result = await runCli(['migrate', 'up', '--to', '006', '--env', 'prod', '--yes'], { env });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('006_phase3_shop_location.sql failed');
      expect(result.stderr).toContain('lock timeout');
      expect(result.stderr).toContain('retrying 006');
      await holder.query('ROLLBACK');
      expect((await runCli(['migrate', 'up', '--env', 'prod', '--yes'], { env })).exitCode).toBe(0);
    } finally {
      await holder.end().catch(() => {});
      await db.drop();
    }
  });

  it('a held migration lock past --lock-wait exits 4 naming the holder', async () => {
    const db = await createTestDatabase('lockheld');
    const holder = new pg.Client({ connectionString: db.url, application_name: 'someone-else' });
    try {
      await holder.connect();
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY.toString()]);
      const result = await runCli(['migrate', 'up', '--env', 'prod', '--yes', '--lock-wait', '300ms'], prod(db));
      expect(result.exitCode).toBe(4);
      expect(result.stderr).toContain('someone-else');
      expect(result.stderr).toMatch(/pid \d+/);
      expect(await query(db.url, `SELECT to_regclass('shops') AS t`)).toEqual([{ t: null }]);
    } finally {
      await holder.end();
      await db.drop();
    }
  });
});
