import { appendFileSync, cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadVerifiedMigrations } from '../../src/db/migrator/files.js';
import { computeSum, formatSum, hashBytes, readSum, SUM_FILE, verifySum } from '../../src/db/migrator/sum.js';
import { ConfigError } from '../../src/errors.js';
import { dbMigrateStep } from '../../src/steps/db/migrate.js';
import type { StepContext } from '../../src/steps/define-step.js';
import { MIGRATION_VERSIONS, NEXT_MIGRATION, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

const MIGRATIONS = path.join(REPO_ROOT, 'migrations');
/** Nothing listens on port 1: a command that connects fails with a connection error, not the sum's. */
const CLOSED_DB = 'postgres://x@127.0.0.1:1/x';

/** A copy of the committed migrations folder, routergpt.sum included. */
function pinnedCopy(): string {
  const dir = path.join(tempDir('routergpt-sum-'), 'migrations');
  cpSync(MIGRATIONS, dir, { recursive: true });
  return dir;
}

describe('migrations/routergpt.sum', () => {
  it('the committed sum matches the committed files (an edited released migration fails CI)', () => {
    expect(verifySum(MIGRATIONS)).toEqual([]);
    expect(readFileSync(path.join(MIGRATIONS, SUM_FILE), 'utf8')).toBe(formatSum(computeSum(MIGRATIONS)));
  });

  it('has the documented format: h1:<set hash>, then "<file> h1:<hash>" per .sql file, sorted', () => {
    const lines = readFileSync(path.join(MIGRATIONS, SUM_FILE), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    const [total, ...files] = lines;
    expect(files.map((l) => l.split(' ')[0])).toEqual(
      readdirSync(path.join(REPO_ROOT, 'migrations')).filter((f) => f.endsWith('.sql')).sort(),
    );
    for (const line of files) {
      const [file, hash] = line.split(' ');
      expect(hash).toBe(hashBytes(readFileSync(path.join(MIGRATIONS, file!))));
      expect(hash).toMatch(/^h1:[A-Za-z0-9+/]{43}=$/);
    }
    expect(total).toBe(hashBytes(files.map((l) => `${l}\n`).join('')));
  });

  it('a byte edited in a file is named, with the expected and actual hashes', () => {
    const dir = pinnedCopy();
    const before = readSum(dir)!.files.find((f) => f.file === '003_chat.sql')!.hash;
    const sql = readFileSync(path.join(dir, '003_chat.sql'));
    sql[0] = sql[0] === 0x20 ? 0x0a : 0x20;
    writeFileSync(path.join(dir, '003_chat.sql'), sql);
    expect(verifySum(dir)).toEqual([{ kind: 'edited', file: '003_chat.sql', message: `003_chat.sql was edited: expected ${before} got ${hashBytes(sql)}` }]);
  });

  it('a file added without hashing is named', () => {
    const dir = pinnedCopy();
    writeFileSync(path.join(dir, `${NEXT_MIGRATION}_more.sql`), 'SELECT 1;\n');
    expect(verifySum(dir)).toEqual([{ kind: 'added', file: `${NEXT_MIGRATION}_more.sql`, message: `${NEXT_MIGRATION}_more.sql was added without a line in ${SUM_FILE}` }]);
  });

  it('a removed file is named', () => {
    const dir = pinnedCopy();
    rmSync(path.join(dir, '009_router_analytics.down.sql'));
    expect(verifySum(dir)).toEqual([{ kind: 'removed', file: '009_router_analytics.down.sql', message: `009_router_analytics.down.sql is listed in ${SUM_FILE} but missing` }]);
  });

  it('a hand-edited sum line (a hash pasted to match an edited file) breaks the whole-set hash', () => {
    const dir = pinnedCopy();
    appendFileSync(path.join(dir, '002_services_and_hours.sql'), '-- edited after release\n');
    const sumFile = path.join(dir, SUM_FILE);
    const lines = readFileSync(sumFile, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.startsWith('002_services_and_hours.sql '));
    lines[i] = `002_services_and_hours.sql ${hashBytes(readFileSync(path.join(dir, '002_services_and_hours.sql')))}`;
    writeFileSync(sumFile, lines.join('\n'));
    const problems = verifySum(dir);
    expect(problems.map((p) => p.kind)).toEqual(['total-mismatch']);
    expect(problems[0]!.message).toMatch(/whole-set hash does not match .*expected h1:\S+ got h1:\S+/);
  });

  it('a malformed sum file is reported, not thrown', () => {
    const dir = pinnedCopy();
    appendFileSync(path.join(dir, SUM_FILE), 'not a sum line\n');
    expect(verifySum(dir).map((p) => p.kind)).toEqual(['malformed']);
  });

  it('no sum file: one warning (a folder of your own still works); a mismatch: a ConfigError naming the file and the fix', () => {
    const dir = pinnedCopy();
    rmSync(path.join(dir, SUM_FILE));
    const warnings: string[] = [];
    expect(loadVerifiedMigrations(dir, (l) => warnings.push(l))).toHaveLength(MIGRATION_VERSIONS.length);
    loadVerifiedMigrations(dir, (l) => warnings.push(l));
    expect(warnings).toEqual([`warning: ${dir} has no ${SUM_FILE}: run \`routergpt migrate hash\` to pin it`]);

    const edited = pinnedCopy();
    appendFileSync(path.join(edited, '001_shops.sql'), '-- edit\n');
    const error = (() => {
      try {
        loadVerifiedMigrations(edited, () => {});
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('001_shops.sql was edited: expected h1:');
    expect((error as ConfigError).hint).toContain('restore it, or add a new migration');
    expect((error as ConfigError).hint).toContain('routergpt migrate hash');
  });

  it("deploy's db.migrate step checks the sum before its first query", async () => {
    const dir = pinnedCopy();
    appendFileSync(path.join(dir, '004_bookings.sql'), '-- edit\n');
    const queried: string[] = [];
    const pool = { query: async (sql: string) => queried.push(sql) };
    const ctx = { config: { migrationsDir: { value: dir } }, db: { pool }, log: () => {} } as unknown as StepContext;
    await expect(dbMigrateStep.plan(ctx)).rejects.toThrow(/004_bookings\.sql was edited/);
    await expect(dbMigrateStep.run(ctx)).rejects.toBeInstanceOf(ConfigError);
    expect(queried).toEqual([]);
  });
});

describe('the CLI verifies the sum before it connects', () => {
  it('migrate status with an edited file exits 2 naming it, without connecting', async () => {
    const dir = pinnedCopy();
    appendFileSync(path.join(dir, '005_feature_flags.sql'), '-- an innocent-looking edit\n');
    const env = { DATABASE_URL: CLOSED_DB, ROUTERGPT_MIGRATIONS_DIR: dir };
    for (const args of [['migrate', 'status'], ['migrate', 'plan'], ['migrate', 'up', '--yes'], ['migrate', 'down', '--to', '000', '--yes'], ['migrate', 'lint']]) {
      const result = await runCli([...args, '--env', 'prod'], { env });
      expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('005_feature_flags.sql was edited: expected h1:');
      expect(result.stderr).toContain('run `routergpt migrate hash`');
      expect(result.stderr).not.toMatch(/ECONNREFUSED|connect|127\.0\.0\.1:1/i);
    }
  });

  it('a folder without a sum file warns once and goes on (here: to the closed port)', async () => {
    const dir = pinnedCopy();
    rmSync(path.join(dir, SUM_FILE));
    const result = await runCli(['migrate', 'status', '--env', 'prod'], { env: { DATABASE_URL: CLOSED_DB, ROUTERGPT_MIGRATIONS_DIR: dir } });
    expect(result.stderr.match(/has no routergpt\.sum: run `routergpt migrate hash` to pin it/g)).toHaveLength(1);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).not.toContain('was edited');
  });

  it('migrate hash re-pins an edited folder (printing what changed), then --check finds only the stale schema snapshot', async () => {
    const dir = pinnedCopy();
    appendFileSync(path.join(dir, '003_chat.sql'), '-- intended before release\n');
    writeFileSync(path.join(dir, `${NEXT_MIGRATION}_more.sql`), 'SELECT 1;\n');
    const env = { ROUTERGPT_MIGRATIONS_DIR: dir };
    const check = await runCli(['migrate', 'hash', '--check'], { env });
    expect(check.exitCode).toBe(1);
    expect(check.stdout).toContain('003_chat.sql was edited: expected h1:');
    expect(check.stdout).toContain(`${NEXT_MIGRATION}_more.sql was added without a line in routergpt.sum`);
    const hash = await runCli(['migrate', 'hash'], { env });
    expect(hash.exitCode, hash.stderr).toBe(0);
    expect(hash.stdout).toMatch(/updated +003_chat\.sql/);
    expect(hash.stdout).toMatch(new RegExp(`added +${NEXT_MIGRATION}_more\\.sql`));
    expect(hash.stdout.trim().split('\n')).toHaveLength(2);
    // The sum matches now; the schema snapshot, written for the old set, is stale until
    // `migrate hash --schema-from` rebuilds it (test/foundation/schema-snapshot.test.ts).
    const again = await runCli(['migrate', 'hash', '--check'], { env });
    expect(again.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^✖ migrations\/routergpt\.schema\.json was written for another set of migration files/)]);
    expect(again.exitCode).toBe(1);
    expect(verifySum(dir)).toEqual([]);
  });

  it('migrate hash --check on the repository passes, and hash leaves it unchanged', async () => {
    const before = readFileSync(path.join(MIGRATIONS, SUM_FILE), 'utf8');
    expect((await runCli(['migrate', 'hash', '--check'])).exitCode).toBe(0);
    const dir = pinnedCopy();
    const hash = await runCli(['migrate', 'hash', '--json'], { env: { ROUTERGPT_MIGRATIONS_DIR: dir } });
    expect(JSON.parse(hash.stdout)).toMatchObject({ written: false, changes: [], files: MIGRATION_VERSIONS.length * 2 });
    expect(readFileSync(path.join(dir, SUM_FILE), 'utf8')).toBe(before);
  });
});
