import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from '../pg-driver.js';
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
  /** Scratch databases of earlier restore tests older than this, with nobody connected, are dropped first (default 10 min). */
  staleAfterMs?: number;
  signal?: AbortSignal;
}

export interface RestoreTestResult {
  ok: boolean;
  /** Where it was restored: "database routergpt_restore_test_1a2b3c on …" or "in-memory PGlite". */
  target: string;
  differences: string[];
  tables: Record<string, number>;
  durationMs: number;
  /** The scratch database could not be dropped (a full copy of the data left on the server): its name and why. */
  leftover?: { name: string; error: string };
  /** Scratch databases of earlier runs (nobody connected) dropped before this one. */
  swept?: string[];
}

/** What restore tests name their scratch databases; db.drop-stale-restore-tests drops leftovers by it. */
export const RESTORE_TEST_PREFIX = 'routergpt_restore_test_';

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
  // The creation time is in the name (seconds, base 36): a sweep never takes a scratch database
  // another restore test created a moment ago and has not connected to yet.
  const name = `${RESTORE_TEST_PREFIX}${Math.floor(Date.now() / 1000).toString(36)}_${randomBytes(4).toString('hex')}`;
  const adminUrl = options.adminUrl;
  const swept = await sweepStaleScratch(adminUrl, options.staleAfterMs ?? 10 * 60_000);
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
    await pool.end().catch(() => {});
    const leftover = await dropScratch(adminUrl, name);
    return { ...finish(`database ${name} on ${host}`, actual), ...(leftover ? { leftover: { name, error: leftover } } : {}), ...(swept.length ? { swept } : {}) };
  } catch (error) {
    await pool.end().catch(() => {});
    await dropScratch(adminUrl, name);
    throw error;
  }
}

/**
 * Drop a scratch database, retrying: `WITH (FORCE)` is refused while a connection the role may not
 * terminate (autovacuum, for a role that is not a superuser) is in it, which passes in a moment.
 * The error of the last attempt when it never went (the caller reports the name), else undefined.
 */
async function dropScratch(adminUrl: string, name: string, delaysMs: readonly number[] = [200, 500, 1000, 2000, 4000]): Promise<string | undefined> {
  let last = '';
  for (let attempt = 0; attempt <= delaysMs.length; attempt++) {
    try {
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      return undefined;
    } catch (error) {
      last = (error as Error).message.split('\n')[0]!;
      if (attempt < delaysMs.length) await new Promise((r) => setTimeout(r, delaysMs[attempt]));
    }
  }
  return last;
}

/** Scratch databases a killed or refused earlier restore test left behind (nobody connected), dropped now: best effort. */
async function sweepStaleScratch(adminUrl: string, staleAfterMs: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'routergpt-restore-test' });
  // A session ended under us must reject the query, not crash the process on an unhandled 'error'.
  client.on('error', () => {});
  const dropped: string[] = [];
  try {
    await client.connect();
    const { rows } = await client.query<{ datname: string }>(
      `SELECT d.datname FROM pg_database d
        WHERE d.datname LIKE $1 || '%' AND d.datname ~ '^[a-z0-9_]+$'
          AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)`,
      [RESTORE_TEST_PREFIX],
    );
    for (const { datname } of rows) {
      // Names before the creation time was in them (routergpt_restore_test_<8 hex>) are old by definition.
      const created = /^routergpt_restore_test_([0-9a-z]+)_[0-9a-f]{8}$/.exec(datname)?.[1];
      if (created && Date.now() - parseInt(created, 36) * 1000 < staleAfterMs) continue;
      // Matched ^[a-z0-9_]+$ above: safe as an identifier.
      if (await client.query(`DROP DATABASE IF EXISTS ${datname}`).then(() => true, () => false)) dropped.push(datname);
    }
  } catch {
    /* the sweep is a courtesy; the restore test itself reports what matters */
  } finally {
    await client.end().catch(() => {});
  }
  return dropped;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'routergpt-restore-test' });
  client.on('error', () => {}); // the query rejects; no unhandled 'error' event
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
