/**
 * `migrate repair --version NNN` on real PostgreSQL through the real CLI: a database that applied
 * an earlier edit of 007 (its recorded checksum differs from the committed file) is realigned only
 * when its live objects match the file; otherwise it is refused, naming the mismatch.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf } from '../../src/db/migrator/files.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const FILE_007 = readdirSync(path.join(REPO_ROOT, 'migrations')).find((f) => /^007_.*(?<!\.down)\.sql$/.test(f))!;
const CHECKSUM_007 = checksumOf(readFileSync(path.join(REPO_ROOT, 'migrations', FILE_007), 'utf8'));
/** What a database recorded when it applied an earlier edit of 007. */
const EARLIER_CHECKSUM = checksumOf('-- 007 as it was first released\n');

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

const recorded = async (url: string, version = '007') => (await query<{ checksum: string }>(url, 'SELECT checksum FROM routergpt_schema_migrations WHERE version = $1', [version]))[0]?.checksum;

describe('migrate repair --version 007', () => {
  const dir = tempDir('routergpt-repair-');
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), ['version: 1', 'environments:', '  staging:', '    database: { url_env: DATABASE_URL }', '    public_api_base: http://127.0.0.1:1', ''].join('\n'));
  const journalDir = path.join(dir, '.routergpt', 'runs', 'staging');
  const repairRuns = () => (existsSync(journalDir) ? readdirSync(journalDir).filter((f) => f.includes('-repair-')) : []);
  const dbs: TestDatabase[] = [];
  const cli = (url: string, args: string[]) => runCli(args, { cwd: dir, env: { DATABASE_URL: url } });

  async function migrated(to?: string): Promise<string> {
    const db = await createTestDatabase('repair');
    dbs.push(db);
    const up = await cli(db.url, ['migrate', 'up', '--env', 'staging', ...(to ? ['--to', to] : [])]);
    expect(up.exitCode, up.stderr).toBe(0);
    return db.url;
  }

  beforeAll(() => {
    expect(EARLIER_CHECKSUM).not.toBe(CHECKSUM_007);
  });
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it('happy path: migrate up names the repair; repair checks the objects, records the checksum, journals a run, and is idempotent', async () => {
    const url = await migrated();
    await query(url, 'UPDATE routergpt_schema_migrations SET checksum = $1 WHERE version = $2', [EARLIER_CHECKSUM, '007']);

    const status = await cli(url, ['migrate', 'status', '--env', 'staging']);
    expect(status.stderr).toContain('007 was edited since it was applied: if the database applied an earlier edit and the file is right, run `routergpt migrate repair --version 007 --env staging`');
    const up = await cli(url, ['migrate', 'up', '--env', 'staging', '--yes']);
    expect(up.exitCode).toBe(1);
    expect(up.stderr).toContain(`edited after being applied: ${FILE_007}`);
    expect(up.stderr).toContain('routergpt migrate repair --version 007');

    const dry = await cli(url, ['migrate', 'repair', '--version', '007', '--env', 'staging', '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stderr).toContain('would record its checksum (dry run: nothing was changed)');
    expect(await recorded(url)).toBe(EARLIER_CHECKSUM);
    expect(repairRuns()).toEqual([]);

    const repair = await cli(url, ['migrate', 'repair', '--version', '007', '--env', 'staging', '--yes']);
    expect(repair.exitCode, repair.stderr).toBe(0);
    expect(repair.stderr).toMatch(/staging: recorded the checksum of 007_\w+\.sql after checking \d+ of its objects \(run \d{8}T\d{6}Z-repair-[0-9a-f]+\)/);
    expect(await recorded(url)).toBe(CHECKSUM_007);
    const runs = repairRuns();
    expect(runs).toHaveLength(1);
    const run = JSON.parse(readFileSync(path.join(journalDir, runs[0]!), 'utf8'));
    expect(run).toMatchObject({ kind: 'repair', status: 'succeeded', env: 'staging' });
    expect(run.items[0]).toMatchObject({ id: 'migrate.repair', state: 'done', outputs: { version: '007', before: EARLIER_CHECKSUM, after: CHECKSUM_007 } });
    const inTable = await query<{ kind: string; status: string }>(url, 'SELECT kind, status FROM routergpt.runs WHERE id = $1', [run.id]);
    expect(inTable).toEqual([{ kind: 'repair', status: 'succeeded' }]);

    const again = await cli(url, ['migrate', 'repair', '--version', '007', '--env', 'staging', '--yes']);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain('nothing to repair: the recorded checksum of 007_');
    expect(repairRuns()).toHaveLength(1);
    expect((await cli(url, ['migrate', 'up', '--env', 'staging', '--yes'])).exitCode).toBe(0);
  });

  it('refused (exit 2, checksum unchanged) when the live objects do not match the file: an index on other columns, a missing one', async () => {
    const url = await migrated();
    await query(url, 'UPDATE routergpt_schema_migrations SET checksum = $1 WHERE version = $2', [EARLIER_CHECKSUM, '007']);
    // The earlier edit of 007: single-column indexes.
    await query(url, 'DROP INDEX idx_shops_lat; CREATE INDEX idx_shops_lat ON shops (latitude); DROP INDEX idx_shops_lon');
    const result = await cli(url, ['migrate', 'repair', '--version', '007', '--env', 'staging', '--yes']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('Cannot repair 007_');
    expect(result.stderr).toContain('index idx_shops_lon does not exist (007_');
    expect(result.stderr).toContain('index idx_shops_lat: definition is CREATE INDEX idx_shops_lat ON public.shops USING btree (latitude), the migrations make it CREATE INDEX idx_shops_lat ON public.shops USING btree (latitude, longitude)');
    expect(result.stderr).toContain('The recorded checksum was not changed.');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await recorded(url)).toBe(EARLIER_CHECKSUM);
  });

  it('bad input: an unknown version, not a number, a migration not applied (exit 2); a clean migration has nothing to repair (exit 0)', async () => {
    const url = await migrated('005');
    const unknown = await cli(url, ['migrate', 'repair', '--version', '042', '--env', 'staging', '--yes']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('There is no migration 042');
    const notNumber = await cli(url, ['migrate', 'repair', '--version', 'seven', '--env', 'staging', '--yes']);
    expect(notNumber.exitCode).toBe(2);
    expect(notNumber.stderr).toContain('--version expects a migration number like 006 (got "seven")');
    const notApplied = await cli(url, ['migrate', 'repair', '--version', '007', '--env', 'staging', '--yes']);
    expect(notApplied.exitCode).toBe(2);
    expect(notApplied.stderr).toContain('is not applied on this database: there is no recorded checksum to repair');
    const clean = await cli(url, ['migrate', 'repair', '--version', '003', '--env', 'staging', '--yes']);
    expect(clean.exitCode).toBe(0);
    expect(clean.stderr).toContain('nothing to repair: the recorded checksum of 003_chat matches the file');
    expect(repairRuns()).toHaveLength(1);
    // The program's own --version still prints the version, though repair's flag shares its name.
    const version = await runCli(['--version']);
    expect(version.exitCode).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version);
  });
});
