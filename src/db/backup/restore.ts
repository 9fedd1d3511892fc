import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { ConfigError, OperationError } from '../../errors.js';
import type { Database } from '../connect.js';
import { createPool, withTransaction, type Pool } from '../pool.js';
import { checksumTables, checksumTablesIn, compareChecksums, type SqlRunner, type TableSummary } from './checksums.js';
import { defaultJobs } from './create.js';
import { backupPathOf, readManifest, summariesOf, type BackupManifest } from './manifest.js';
import { resetPublicSchema, rewritePlainDump } from './plain-sql.js';
import { pgEnvFromUrl, readServerVersion, requireTool, runTool, type PgToolOptions } from './pg-tools.js';
import { verifyBackup } from './verify.js';
import { reapplyErasures, type ReapplyErasuresResult } from '../privacy/ledger.js';

export interface RestoreBackupOptions {
  db: Database;
  manifestFile: string;
  /** pg_restore jobs. Default: min(4, cores). */
  jobs?: number;
  tools?: PgToolOptions;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface RestoreResult {
  manifestFile: string;
  /** Rows per table after the restore (before the erasures were re-applied). */
  tables: Record<string, number>;
  durationMs: number;
  /** The erasure ledger (routergpt.erasure_ledger) applied again: what the backup still held of erased people. */
  erasures: ReapplyErasuresResult;
}

/**
 * Put the database back exactly as the backup recorded it, then prove it: the per-table
 * checksums after the restore must equal the manifest's, or this throws an OperationError
 * listing the differences. Then the erasure ledger is applied again (privacy/ledger.ts): a
 * person erased since the backup was taken is erased again, in the tables named by `erasures`.
 *
 * Destructive: schema public is dropped and recreated first (same owner and privileges), so
 * tables created after the backup — by a later migration — are gone too, which `pg_restore
 * --clean` alone would leave behind. Callers confirm with the user before calling this.
 *
 *  - custom/directory archives: `pg_restore --clean --if-exists --no-owner --exit-on-error -j N`
 *    into a real server (the connection through PG* variables).
 *  - plain SQL (embedded backups): replayed in ONE transaction through the pool — into the
 *    embedded database or a real server (rewritten for PostgreSQL < 17, see plain-sql.ts).
 */
export async function restoreBackup(options: RestoreBackupOptions): Promise<RestoreResult> {
  const started = performance.now();
  const verified = await verifyBackup(options.manifestFile, options.tools ? { tools: options.tools } : {});
  if (!verified.ok) {
    throw new OperationError(`Refusing to restore ${options.manifestFile}: ${verified.problem}.`, 'Pick another backup (`routergpt backup --list`) and restore it with `routergpt rollback --tier restore --backup FILE`, or take a new one with `routergpt backup`.');
  }
  const { manifest } = verified;
  const file = backupPathOf(options.manifestFile, manifest);
  if (manifest.format === 'plain') {
    await replayPlainDump(options.db.pool, file, true);
  } else {
    if (options.db.kind === 'embedded') {
      throw new ConfigError(`${manifest.file} is a pg_dump archive of a PostgreSQL server; it cannot be restored into the embedded database.`, 'Restore it into a PostgreSQL server (an environment with a database URL).');
    }
    const pgRestore = await requireTool('pg_restore', manifest.pgDumpMajor, `to restore an archive written by pg_dump ${manifest.pgDumpVersion}`, options.tools);
    await withTransaction(options.db.pool, (client) => resetPublicSchema(client));
    options.log?.(`pg_restore ${pgRestore.version} ← ${file}`);
    await runPgRestore(pgRestore, file, pgEnvFromUrl(options.db.url), options.jobs, options.signal);
  }
  const actual = await checksumTables(options.db.pool);
  assertIdentical(manifest, actual, options.db.display);
  // The backup may predate an erasure (`routergpt privacy erase`): the ledger lives outside the
  // backups (schema routergpt), so the person is erased again before anyone reads the data.
  const erasures = await reapplyErasures(options.db.pool, { restoredFrom: manifest.file });
  if (erasures.erasures.length) options.log?.(`re-applied ${erasures.erasures.length} erasure(s) from the ledger: the backup still held their data`);
  return { manifestFile: options.manifestFile, tables: rowCounts(actual), durationMs: Math.round(performance.now() - started), erasures };
}

async function runPgRestore(tool: Awaited<ReturnType<typeof requireTool>>, file: string, pgEnv: Record<string, string>, jobs: number | undefined, signal?: AbortSignal): Promise<void> {
  const database = pgEnv.PGDATABASE ?? 'postgres';
  await runTool(tool, ['--clean', '--if-exists', '--no-owner', '--exit-on-error', '--no-password', '-j', String(jobs ?? defaultJobs()), '-d', database, file], pgEnv, {
    what: 'The restore',
    hint: 'The database is now partly restored. Fix the cause above and run the restore again (it starts by emptying schema public).',
    ...(signal ? { signal } : {}),
  });
}

/** Empty schema public and replay a plain dump, all in one transaction. */
async function replayPlainDump(pool: Pool, file: string, reset: boolean): Promise<void> {
  const server = await readServerVersion(pool);
  const sql = rewritePlainDump(readFileSync(file, 'utf8'), { targetMajor: server.major });
  await withTransaction(pool, async (client) => {
    if (reset) await resetPublicSchema(client);
    await client.query(sql);
  });
}

function assertIdentical(manifest: BackupManifest, actual: Record<string, TableSummary>, where: string): void {
  const comparison = compareChecksums(summariesOf(manifest), actual);
  if (!comparison.identical) {
    throw new OperationError(
      `The restore into ${where} does not match the backup's checksums:\n  ${comparison.differences.join('\n  ')}`,
      'Do not put this database back into service. Check the messages above, then restore again or from an older backup.',
    );
  }
}

function rowCounts(summaries: Record<string, TableSummary>): Record<string, number> {
  return Object.fromEntries(Object.entries(summaries).map(([name, s]) => [name, s.rows]));
}

export interface RestoreTestOptions {
  manifestFile: string;
  /**
   * A PostgreSQL server URL whose user may CREATE DATABASE: the backup is restored into a
   * scratch database there. Without it, a plain (embedded) backup is restored into a throwaway
   * in-memory PGlite; a pg_dump archive needs it.
   */
  adminUrl?: string;
  jobs?: number;
  tools?: PgToolOptions;
  /** Called with the scratch database's pool before it is dropped (e.g. to run the db checks). */
  inspect?: (pool: Pool) => Promise<void>;
  signal?: AbortSignal;
}

export interface RestoreTestResult {
  ok: boolean;
  /** Where it was restored: "database routergpt_restore_test_1a2b3c on …" or "in-memory PGlite". */
  target: string;
  differences: string[];
  tables: Record<string, number>;
  durationMs: number;
}

/**
 * Prove a backup restores: into a scratch database (created, filled, checksummed, dropped), never
 * touching the real one. Differences are a result (ok: false); tool or server failures throw.
 */
export async function restoreTest(options: RestoreTestOptions): Promise<RestoreTestResult> {
  const started = performance.now();
  const manifest = readManifest(options.manifestFile);
  const file = backupPathOf(options.manifestFile, manifest);
  const finish = (target: string, actual: Record<string, TableSummary>): RestoreTestResult => {
    const comparison = compareChecksums(summariesOf(manifest), actual);
    return { ok: comparison.identical, target, differences: comparison.differences, tables: rowCounts(actual), durationMs: Math.round(performance.now() - started) };
  };
  if (!options.adminUrl) {
    if (manifest.format !== 'plain') throw new ConfigError('A restore test of a pg_dump archive needs a PostgreSQL server to create a scratch database on.', 'Pass the admin URL of the server (a user allowed to CREATE DATABASE).');
    return finish('in-memory PGlite', await restoreIntoMemory(file));
  }
  const name = `routergpt_restore_test_${randomBytes(4).toString('hex')}`;
  const adminUrl = options.adminUrl;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const scratchUrl = withDatabase(adminUrl, name);
  const pool = createPool({ connectionString: scratchUrl, max: 2, applicationName: 'routergpt-restore-test' });
  try {
    if (manifest.format === 'plain') {
      await replayPlainDump(pool, file, false);
    } else {
      const pgRestore = await requireTool('pg_restore', manifest.pgDumpMajor, `to restore an archive written by pg_dump ${manifest.pgDumpVersion}`, options.tools);
      await runPgRestore(pgRestore, file, pgEnvFromUrl(scratchUrl), options.jobs, options.signal);
    }
    const actual = await checksumTables(pool);
    await options.inspect?.(pool);
    const host = new URL(adminUrl).host;
    return finish(`database ${name} on ${host}`, actual);
  } finally {
    await pool.end().catch(() => {});
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'routergpt-restore-test' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

async function restoreIntoMemory(file: string): Promise<Record<string, TableSummary>> {
  const { PGlite } = await import('@electric-sql/pglite');
  const scratch = await PGlite.create();
  try {
    const major = Math.floor(Number((await scratch.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v) / 10_000);
    const sql = rewritePlainDump(readFileSync(file, 'utf8'), { targetMajor: major });
    await scratch.transaction(async (tx) => {
      await tx.exec(sql);
    });
    return await scratch.transaction(async (tx) => {
      const run: SqlRunner = async (text) => (await tx.query<Record<string, unknown>>(text)).rows;
      return checksumTablesIn(run);
    });
  } finally {
    await scratch.close();
  }
}
