import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, OperationError } from '../../errors.js';
import { withTrackedChild } from '../../lib/children.js';
import type { Queryable } from '../pool.js';

/**
 * Finding the PostgreSQL client programs (pg_dump, pg_restore) and talking to them safely.
 *
 * The connection reaches them through PG* environment variables, never argv: a URL in argv
 * carries the password and is visible to every user in `ps`.
 */

export type PgTool = 'pg_dump' | 'pg_restore';

export interface PgToolOptions {
  /**
   * Directories to search, in order. Default: the PATH, then /usr/lib/postgresql/<N>/bin
   * (Debian/Ubuntu keep several major versions side by side there).
   */
  dirs?: string[];
}

export interface FoundTool {
  path: string;
  /** "15.20" */
  version: string;
  /** 15 (or 9.6 for the old two-part numbering). */
  major: number;
}

export function defaultToolDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromPath = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const base = '/usr/lib/postgresql';
  const versioned = existsSync(base)
    ? readdirSync(base)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => path.join(base, v, 'bin'))
    : [];
  return [...fromPath, ...versioned];
}

/** "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" → { version: '15.20', major: 15 }. */
export function parseToolVersion(output: string): { version: string; major: number } | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  const first = Number(match[1]);
  const second = match[2] === undefined ? undefined : Number(match[2]);
  const major = first >= 10 || second === undefined ? first : Number(`${first}.${second}`);
  return { version: second === undefined ? String(first) : `${first}.${second}`, major };
}

/** server_version_num 150020 → 15; 90624 → 9.6. */
export function serverMajor(versionNum: number): number {
  return versionNum >= 100_000 ? Math.floor(versionNum / 10_000) : Math.floor(versionNum / 10_000) + (Math.floor(versionNum / 100) % 100) / 10;
}

export async function readServerVersion(db: Queryable): Promise<{ version: string; versionNum: number; major: number }> {
  const { rows } = await db.query<{ server_version: string; server_version_num: string }>(
    "SELECT current_setting('server_version') AS server_version, current_setting('server_version_num') AS server_version_num",
  );
  const versionNum = Number(rows[0]?.server_version_num);
  return { version: rows[0]?.server_version ?? String(versionNum), versionNum, major: serverMajor(versionNum) };
}

/** Every copy of the tool in the search directories, newest major first. */
export async function findTools(tool: PgTool, options: PgToolOptions = {}): Promise<FoundTool[]> {
  const seen = new Set<string>();
  const found: FoundTool[] = [];
  for (const dir of options.dirs ?? defaultToolDirs()) {
    const candidate = path.join(dir, tool);
    if (seen.has(candidate) || !existsSync(candidate)) continue;
    seen.add(candidate);
    const { execa } = await import('execa');
    // Detached like runTool's: a Ctrl-C during the search must not make an installed tool look missing.
    const result = await withTrackedChild(execa(candidate, ['--version'], { reject: false, timeout: 10_000, stdin: 'ignore', detached: true }));
    const parsed = parseToolVersion(String(result.stdout));
    if (result.exitCode === 0 && parsed) found.push({ path: candidate, ...parsed });
  }
  // Stable sort: among equal majors the earlier directory (PATH first) wins.
  return found.sort((a, b) => b.major - a.major);
}

/**
 * The newest copy of the tool whose major version is at least `minMajor`, or a ConfigError
 * that says what to install. pg_dump refuses (or worse, half-works) against a newer server;
 * pg_restore cannot read archives written by a newer pg_dump.
 */
export async function requireTool(tool: PgTool, minMajor: number, why: string, options: PgToolOptions = {}): Promise<FoundTool> {
  const found = await findTools(tool, options);
  const best = found[0];
  const install = `Install the PostgreSQL ${Math.ceil(minMajor)} client programs or newer (Debian/Ubuntu: apt-get install postgresql-client-${Math.ceil(minMajor)}, from apt.postgresql.org if your release lacks it), or put a newer ${tool} first on PATH.`;
  if (!best) {
    throw new ConfigError(`${tool} was not found on PATH or in /usr/lib/postgresql/*/bin; it is needed ${why}.`, install);
  }
  if (best.major < minMajor) {
    throw new ConfigError(
      `${tool} ${best.version} (${best.path}) is older than ${why.includes('archive') ? 'the archive needs' : 'the server'} (PostgreSQL ${minMajor}); it is needed ${why}.`,
      install,
    );
  }
  return best;
}

/** PG* variables for libpq programs, from a connection URL (the password travels as PGPASSWORD). */
export function pgEnvFromUrl(url: string): Record<string, string> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('The database URL cannot be parsed, so pg_dump/pg_restore cannot be pointed at it.', 'Check the database URL in your configuration (`routergpt config show`).');
  }
  const env: Record<string, string> = {};
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host) env.PGHOST = decodeURIComponent(host);
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database) env.PGDATABASE = database;
  const params: Record<string, string> = {
    host: 'PGHOST',
    port: 'PGPORT',
    sslmode: 'PGSSLMODE',
    sslrootcert: 'PGSSLROOTCERT',
    sslcert: 'PGSSLCERT',
    sslkey: 'PGSSLKEY',
    application_name: 'PGAPPNAME',
    options: 'PGOPTIONS',
    connect_timeout: 'PGCONNECT_TIMEOUT',
  };
  for (const [key, value] of u.searchParams) {
    const variable = params[key];
    if (variable) env[variable] = value;
  }
  return env;
}

/** The process environment without inherited PG* settings (PGSERVICE, PGPASSFILE…), plus ours. */
export function toolEnv(pgEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('PG')) env[key] = value;
  return { ...env, PGAPPNAME: 'routergpt-backup', ...pgEnv, PGCONNECT_TIMEOUT: pgEnv.PGCONNECT_TIMEOUT ?? '10' };
}

/** Run a PostgreSQL client program; a failure becomes an OperationError with its stderr (never the env). */
export interface RunToolOptions {
  /** "The backup", "The restore": starts the error message. */
  what: string;
  /** The next action when it fails. */
  hint: string;
  signal?: AbortSignal;
}

export async function runTool(tool: FoundTool, args: string[], pgEnv: Record<string, string>, { what, hint, signal }: RunToolOptions): Promise<string> {
  const { execa } = await import('execa'); // loaded when a tool runs: `verify` reads backups without spawning one (issue 16)
  const result = await withTrackedChild(
    execa(tool.path, args, {
      env: toolEnv(pgEnv),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      // Its own process group: the terminal's Ctrl-C stops the runbook between items and must
      // not kill a pg_restore halfway through (after the schema was already dropped). Tracked,
      // so a second Ctrl-C can stop it rather than leave it running after we exit.
      detached: true,
      ...(signal ? { cancelSignal: signal } : {}),
    }),
  );
  if (result.exitCode !== 0) {
    const stderr = String(result.stderr).trim().split('\n').slice(-15).join('\n');
    throw new OperationError(`${what} failed (${path.basename(tool.path)} exited with ${result.exitCode ?? result.signal ?? 'an error'}):\n${stderr}`, hint);
  }
  return String(result.stdout);
}
