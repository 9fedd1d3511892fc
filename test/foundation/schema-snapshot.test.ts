/**
 * migrations/routergpt.schema.json is what the migrations produce: rebuilt here on the test
 * server (a scratch database, dropped) and compared with the committed file, so a new or edited
 * migration without a regenerated snapshot fails CI — not a production deploy's drift check.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMigrations } from '../../src/db/migrator/files.js';
import { buildSnapshot, formatSnapshot, readSnapshot, schemaAt, SNAPSHOT_FILE } from '../../src/db/schema/snapshot.js';
import { adminUrl } from '../helpers/db.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

const MIGRATIONS = path.join(REPO_ROOT, 'migrations');
const REGENERATE = 'npm run migrations:hash (routergpt migrate hash --schema-from "$TEST_DATABASE_URL") and commit migrations/routergpt.schema.json';

function copy(): string {
  const dir = path.join(tempDir('routergpt-snapshot-'), 'migrations');
  cpSync(MIGRATIONS, dir, { recursive: true });
  return dir;
}

describe('migrations/routergpt.schema.json', () => {
  it('equals the snapshot rebuilt from the migrations on a throwaway database', async () => {
    const committed = readFileSync(path.join(MIGRATIONS, SNAPSHOT_FILE), 'utf8');
    const rebuilt = formatSnapshot(await buildSnapshot({ serverUrl: adminUrl(), migrations: loadMigrations(MIGRATIONS), migrationsDir: MIGRATIONS }));
    expect(committed, `migrations/${SNAPSHOT_FILE} is not what the migrations produce: run ${REGENERATE}`).toBe(rebuilt);
  });

  it('its history adds up, version by version, to its objects', () => {
    const snapshot = readSnapshot(MIGRATIONS)!;
    const versions = loadMigrations(MIGRATIONS).map((m) => m.version);
    expect(Object.keys(snapshot.history)).toEqual(versions);
    expect(schemaAt(snapshot, versions)).toEqual(snapshot.objects);
    expect(Object.keys(schemaAt(snapshot, ['001']))).toContain('table shops');
    expect(Object.keys(schemaAt(snapshot, ['001']))).not.toContain('table bookings');
    expect(Object.keys(snapshot.objects).some((k) => k.includes('routergpt_schema_migrations'))).toBe(false);
  });

  it('migrate hash --check fails, without a database, when a migration was added but the snapshot not regenerated', async () => {
    const dir = copy();
    const next = String(loadMigrations(dir).length + 1).padStart(3, '0');
    writeFileSync(path.join(dir, `${next}_extra_column.sql`), 'ALTER TABLE shops ADD COLUMN extra int;\n');
    const env = { ROUTERGPT_MIGRATIONS_DIR: dir };
    const hash = await runCli(['migrate', 'hash'], { env });
    expect(hash.exitCode).toBe(0);
    expect(hash.stderr).toContain(`⚠ migrations/${SNAPSHOT_FILE} was written for another set of migration files`);
    expect(hash.stderr).toContain('routergpt migrate hash --schema-from "$TEST_DATABASE_URL"');
    const check = await runCli(['migrate', 'hash', '--check'], { env });
    expect(check.exitCode).toBe(1);
    expect(check.stdout).toContain(`✖ migrations/${SNAPSHOT_FILE} was written for another set of migration files`);
    const rebuilt = await runCli(['migrate', 'hash', '--schema-from', adminUrl()], { env });
    expect(rebuilt.exitCode, rebuilt.stderr).toBe(0);
    expect(rebuilt.stderr).toContain(`wrote ${path.join(dir, SNAPSHOT_FILE)}`);
    expect(readSnapshot(dir)!.objects['column shops.extra']).toEqual({ nullable: 'NULL', table: 'shops', type: 'integer' });
    expect((await runCli(['migrate', 'hash', '--check'], { env })).exitCode).toBe(0);
  });

  it('bad input: --schema-from that is not a postgres URL, and with --check, are usage errors (exit 2), nothing written', async () => {
    const dir = copy();
    const before = readFileSync(path.join(dir, SNAPSHOT_FILE), 'utf8');
    const env = { ROUTERGPT_MIGRATIONS_DIR: dir };
    const notUrl = await runCli(['migrate', 'hash', '--schema-from', 'mysql://x@host/db'], { env });
    expect(notUrl.exitCode).toBe(2);
    expect(notUrl.stderr).toContain('--schema-from expects the URL of a throwaway PostgreSQL server');
    const both = await runCli(['migrate', 'hash', '--check', '--schema-from', adminUrl()], { env });
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('--check and --schema-from do not go together');
    expect(readFileSync(path.join(dir, SNAPSHOT_FILE), 'utf8')).toBe(before);
  });
});
