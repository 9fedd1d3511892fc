import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, OperationError } from '../../errors.js';
import { noRoomError, noSpaceError, volumeFull } from '../../lib/disk-full.js';
import type { Database } from '../connect.js';
import { withClient } from '../pool.js';
import { checksumTables, checksumTablesIn, compareChecksums, runnerOf, type TableSummary } from './checksums.js';
import { ledgerIn, type Ledger } from './ledger.js';
import { manifestPathFor, sha256Directory, sha256File, writeManifest, type BackupManifest } from './manifest.js';
import { checkPlainDump } from './plain-sql.js';
import { pgEnvFromUrl, readServerVersion, requireTool, runTool, type PgToolOptions } from './pg-tools.js';
import { isProcessAlive } from '../../lib/process-alive.js';

/** The runbook journal's schema (src/runbook/journal.ts), never part of a backup. */
const JOURNAL_SCHEMA = 'routergpt';

export interface CreateBackupOptions {
  db: Database;
  /** Where the backup and its manifest go (created if missing). */
  dir: string;
  /** Part of the file name: `<label>-<timestamp>.dump`. Letters, digits, dot, dash, underscore. */
  label: string;
  /** Real PostgreSQL only; the embedded database always writes plain SQL. Default custom. */
  format?: 'custom' | 'directory';
  /** Parallel dump jobs (directory format only). Default: min(4, cores). */
  jobs?: number;
  now: () => Date;
  /** The environment backed up, recorded in the manifest (a restore refuses another environment's backup). */
  env?: string;
  /** How long pg_dump waits for a table lock before giving up (a busy migration). */
  lockWaitTimeoutMs?: number;
  tools?: PgToolOptions;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface CreateBackupResult {
  manifestFile: string;
  /** Absolute path of the backup (a file, or a folder for the directory format). */
  file: string;
  manifest: BackupManifest;
}

export function backupFileName(label: string, format: 'custom' | 'directory' | 'plain', at: Date): string {
  if (!/^[A-Za-z0-9._-]+$/.test(label)) throw new ConfigError(`Backup label "${label}" may only contain letters, digits, ".", "_" and "-".`, 'Choose a simpler label.');
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${label}-${stamp}${format === 'custom' ? '.dump' : format === 'plain' ? '.sql' : '.dir'}`;
}

/** What `createBackup` would run, for plans (no secrets: the target is the masked display). */
export function describeBackupCommand(db: Database, options: Pick<CreateBackupOptions, 'dir' | 'label' | 'format' | 'jobs' | 'now' | 'lockWaitTimeoutMs'>): { command: string; destination: string } {
  if (db.kind === 'embedded') {
    const destination = path.join(options.dir, backupFileName(options.label, 'plain', options.now()));
    return { command: `pgDump() of @electric-sql/pglite-tools (WebAssembly pg_dump, plain SQL with INSERTs, --no-owner) on ${db.display}`, destination };
  }
  const format = options.format ?? 'custom';
  const destination = path.join(options.dir, backupFileName(options.label, format, options.now()));
  return { command: `pg_dump ${dumpArgs(format, destination, options.jobs, options.lockWaitTimeoutMs).join(' ')}   (connection from PG* variables: ${db.display})`, destination };
}

function dumpArgs(format: 'custom' | 'directory', destination: string, jobs: number | undefined, lockWaitTimeoutMs = 30_000, snapshot?: string): string[] {
  const args = [format === 'custom' ? '-Fc' : '-Fd', '--no-password', `--lock-wait-timeout=${lockWaitTimeoutMs}`, `--exclude-schema=${JOURNAL_SCHEMA}`];
  if (format === 'directory') args.push('-j', String(jobs ?? defaultJobs()));
  if (snapshot) args.push(`--snapshot=${snapshot}`);
  args.push('-f', destination);
  return args;
}

export function defaultJobs(): number {
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

/**
 * Back up the database and write `<backup>.manifest.json` next to it.
 *
 * Real PostgreSQL: the newest pg_dump found (PATH, /usr/lib/postgresql/N/bin), refused when
 * missing or older than the server. The per-table checksums are computed in a REPEATABLE READ
 * transaction whose snapshot pg_dump reuses (--snapshot), so they describe exactly the rows in
 * the dump even while the application keeps writing. Ownership is kept in the archive (custom
 * and directory formats let pg_restore decide: we restore with --no-owner).
 *
 * Embedded: the WebAssembly pg_dump of pglite-tools needs the PGlite instance, which only the
 * process that opened the data directory holds (see embedded.ts); a process that joined the
 * owner's socket (a deploy while `routergpt serve` runs) asks the owner for the dump over its
 * dump channel (embedded-dump.ts) and writes the same file and manifest.
 */
export async function createBackup(options: CreateBackupOptions): Promise<CreateBackupResult> {
  // Backups hold customer data: readable by their owner only.
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  sweepPartials(options.dir, options.log);
  const started = performance.now();
  const createdAt = options.now();
  const result = options.db.kind === 'embedded' ? await dumpEmbedded(options, createdAt) : await dumpServer(options, createdAt);
  const { sha256, sizeBytes, files } = result.format === 'directory' ? await sha256Directory(result.file) : { sha256: await sha256File(result.file), sizeBytes: statSync(result.file).size, files: undefined };
  const manifest: BackupManifest = {
    manifestVersion: 1,
    file: path.basename(result.file),
    format: result.format,
    source: options.db.display,
    sourceKind: options.db.kind,
    label: options.label,
    sizeBytes,
    sha256,
    ...(files ? { files } : {}),
    serverVersion: result.serverVersion,
    serverVersionNum: result.serverVersionNum,
    pgDumpVersion: result.pgDumpVersion,
    pgDumpMajor: result.pgDumpMajor,
    tables: Object.fromEntries(Object.entries(result.summaries).map(([name, s]) => [name, s.rows])),
    perTableChecksums: Object.fromEntries(Object.entries(result.summaries).map(([name, s]) => [name, s.md5])),
    ledger: result.ledger,
    createdAt: createdAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    ...(options.env ? { env: options.env } : {}),
  };
  const manifestFile = manifestPathFor(result.file);
  try {
    writeManifest(manifestFile, manifest);
  } catch (error) {
    // A dump without its manifest is no backup (nothing can verify or restore it): not left behind.
    const full = diskFull(error, manifestFile, 'the backup manifest');
    if (full) rmSync(result.file, { recursive: true, force: true });
    throw full ?? error;
  }
  return { manifestFile, file: result.file, manifest };
}

interface DumpOutcome {
  file: string;
  format: BackupManifest['format'];
  serverVersion: string;
  serverVersionNum: number;
  pgDumpVersion: string;
  pgDumpMajor: number;
  summaries: Record<string, TableSummary>;
  ledger: Ledger;
}

async function dumpServer(options: CreateBackupOptions, createdAt: Date): Promise<DumpOutcome> {
  const { db } = options;
  const format = options.format ?? 'custom';
  const server = await readServerVersion(db.pool);
  const pgDump = await requireTool('pg_dump', server.major, `to back up ${db.display} (PostgreSQL ${server.version})`, options.tools);
  const file = path.join(options.dir, backupFileName(options.label, format, createdAt));
  const partial = partialPath(file);
  options.log?.(`pg_dump ${pgDump.version} (${pgDump.path}) → ${file}`);
  // Created (0600 / 0700) before pg_dump opens it, so the dump is never readable by others, even
  // for a moment, whatever the umask; pg_dump -Fd accepts an existing empty directory.
  if (format === 'directory') mkdirSync(partial, { mode: 0o700 });
  else closeSync(openSync(partial, 'wx', 0o600));
  const pgEnv = pgEnvFromUrl(db.url);
  let ledger: Ledger = {};
  const summaries = await withClient(db.pool, async (client) => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    try {
      // A snapshot shared with pg_dump: the checksums and the dump see the same rows.
      const snapshot = await client
        .query<{ id: string }>('SELECT pg_export_snapshot() AS id')
        .then((r) => r.rows[0]?.id)
        .catch(() => undefined);
      if (!snapshot) {
        // Could not export (unusual); the transaction is aborted, start a plain one.
        await client.query('ROLLBACK');
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      }
      const sums = await checksumTablesIn(runnerOf(client));
      ledger = await ledgerIn(runnerOf(client));
      await runTool(pgDump, dumpArgs(format, partial, options.jobs, options.lockWaitTimeoutMs, snapshot), pgEnv, {
        what: `Backing up ${db.display}`,
        hint: 'Nothing was changed in the database. Fix the cause above and run the backup again.',
        ...(options.signal ? { signal: options.signal } : {}),
      }).catch((error: unknown) => {
        throw diskFull(error, file) ?? error;
      });
      // pg_dump 15 exits 0 with an empty or cut-short archive when its last buffered write meets a
      // full volume (the close is not checked): a dump that leaves the volume without one free
      // block is taken as one that did not fit.
      if (volumeFull(options.dir)) throw diskFull(noSpaceError(file), file) ?? new Error('no room');
      publish(partial, file);
      return sums;
    } catch (error) {
      rmSync(partial, { recursive: true, force: true });
      throw error;
    } finally {
      await client.query('ROLLBACK').catch(() => {});
    }
  });
  return { file, format, serverVersion: server.version, serverVersionNum: server.versionNum, pgDumpVersion: pgDump.version, pgDumpMajor: pgDump.major, summaries, ledger };
}

async function dumpEmbedded(options: CreateBackupOptions, createdAt: Date): Promise<DumpOutcome> {
  const { db } = options;
  const dump = db.embedded?.dump;
  if (!dump) {
    // pg_dump over the socket is no way out: the system's pg_dump (15) refuses a PostgreSQL 18
    // server, and the WebAssembly pg_dump talks to the PGlite object, not to a socket.
    throw new OperationError(
      `Cannot back up the embedded database: it is served by another process (pid ${db.embedded?.ownerPid ?? '?'}), which offers no dump channel, and only the process that opened it can run the WebAssembly pg_dump.`,
      `Stop that process (for example the API server started with \`routergpt serve\`), then run the backup again.`,
    );
  }
  if (!db.embedded?.owner) options.log?.(`asking the process serving the embedded database (pid ${db.embedded?.ownerPid ?? '?'}) for the WebAssembly pg_dump`);
  const server = await readServerVersion(db.pool);
  const file = path.join(options.dir, backupFileName(options.label, 'plain', createdAt));
  const before = await checksumTables(db.pool);
  const ledger = await ledgerIn(async (text) => (await db.pool.query(text)).rows as Array<Record<string, unknown>>);
  // The runbook's journal (schema routergpt) is not part of the data: a restore must not rewind it.
  // In the owner this runs on its PGlite; a process that joined asks the owner (embedded-dump.ts).
  const sql = await dump(['--no-owner', `--exclude-schema=${JOURNAL_SCHEMA}`]);
  const after = await checksumTables(db.pool);
  const changed = compareChecksums(before, after, { expected: 'before the dump', actual: 'after it' });
  if (!changed.identical) {
    throw new OperationError(`The embedded database changed while it was being dumped:\n  ${changed.differences.join('\n  ')}`, 'Stop the processes writing to it (the API server) and run the backup again.');
  }
  const problem = checkPlainDump(sql);
  if (problem) throw new OperationError(`The WebAssembly pg_dump produced an unusable dump: ${problem}.`, 'Run the backup again; if it persists, report it with `routergpt --version`.');
  const partial = partialPath(file);
  try {
    const fd = openSync(partial, 'wx', 0o600);
    try {
      // writeFileSync, not writeSync: a write the volume takes only in part is finished or fails, never cut short.
      writeFileSync(fd, sql);
    } finally {
      closeSync(fd);
    }
    publish(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    throw diskFull(error, file) ?? error;
  }
  return {
    file,
    format: 'plain',
    serverVersion: server.version,
    serverVersionNum: server.versionNum,
    pgDumpVersion: `pglite-tools pg_dump ${/Dumped by pg_dump version (\S+)/.exec(sql)?.[1] ?? server.version}`,
    pgDumpMajor: server.major,
    summaries: before,
    ledger,
  };
}

/**
 * A backup is written under a hidden name that says whose it is (`.<name>.partial-<pid>`), synced,
 * and renamed to its final name only when complete: an interrupted run never leaves a
 * complete-looking dump (one the inventory would list, or retention never remove).
 */
const PARTIAL = /^\.(.+)\.partial-(\d+)$/;

function partialPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.partial-${process.pid}`);
}

function fsyncPath(target: string): void {
  const fd = openSync(target, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Sync the finished dump (each file of a directory dump), rename it into place, and sync the folder so the rename survives a crash. */
function publish(partial: string, file: string): void {
  if (statSync(partial).isDirectory()) for (const f of readdirSync(partial)) fsyncPath(path.join(partial, f));
  fsyncPath(partial);
  renameSync(partial, file);
  fsyncPath(path.dirname(file));
}

/** Remove what interrupted backups left (their process is gone), saying so. */
export function sweepPartials(dir: string, log?: (line: string) => void): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = PARTIAL.exec(name);
    if (!m || isProcessAlive(Number(m[2]))) continue;
    rmSync(path.join(dir, name), { recursive: true, force: true });
    removed.push(m[1]!);
  }
  if (removed.length > 0) log?.(`removed ${removed.length} unfinished backup(s) left by interrupted runs: ${removed.join(', ')}`);
  return removed;
}

/** A full disk as the operational error it is: the file, and the space left where it was written. */
function diskFull(error: unknown, file: string, what = 'the backup'): OperationError | undefined {
  const noRoom = noRoomError(error, what, file, 'Free space there, or point backup.dir (ROUTERGPT_BACKUP_DIR) at a volume with room for the dump, and run the backup again.');
  return noRoom && new OperationError(`${noRoom.message} Nothing was changed in the database, and the unfinished file was removed.`, noRoom.hint, { cause: error });
}
