import path from 'node:path';
import { DatabaseConnectionLostError, LockHeldError, OperationError, UsageError } from '../../errors.js';
import { connectionLostReason, isConnectionLost } from '../connection-lost.js';
import { AdvisoryLockTimeoutError, describeHolder, withAdvisoryLock, withClient, type LockHolder, type Pool, type PoolClient, type Queryable } from '../pool.js';
import type { MigrationFile } from './files.js';
import { concurrentIndexNames, splitStatements } from './sql-split.js';
import { claimTemplateRows, TEMPLATE_APPLIED_BY } from './template-rows.js';

/** Our bookkeeping table; not created by a migration so that migration 001 can be dropped. */
export const MIGRATIONS_TABLE = 'routergpt_schema_migrations';
/** Session advisory lock key every routergpt migrator takes ("rgpt-mig" as bytes). */
export const MIGRATION_LOCK_KEY = 0x7267_7074_6d69_67n;

export interface AppliedRow {
  version: string;
  name: string;
  checksum: string;
  applied_at: Date;
  execution_ms: number;
  applied_by: string | null;
}

export interface StatusEntry {
  version: string;
  name: string;
  appliedAt?: string;
  file?: string;
}

export interface MigrationStatus {
  applied: StatusEntry[];
  pending: StatusEntry[];
  /** Applied, but the file's checksum changed since. */
  edited: StatusEntry[];
  /** Recorded as applied, but the file is gone. */
  missing: StatusEntry[];
  current: string | null;
}

export type MigrationEvent =
  | { type: 'waiting-for-lock'; holder: LockHolder | undefined }
  | { type: 'applying'; version: string; name: string; direction: 'up' | 'down' }
  /** fromTemplate: it ran in the pre-migrated template this state was copied from (template-rows.ts); ms is that run's. */
  | { type: 'applied'; version: string; name: string; direction: 'up' | 'down'; ms: number; fromTemplate?: boolean }
  | { type: 'retrying'; version: string; reason: string; attempt: number }
  | { type: 'rebuilding-invalid-index'; index: string };

export interface MigratorDeps {
  pool: Pool;
  migrations: MigrationFile[];
  /** lock_timeout for DDL, so a migration waiting on a busy table fails fast instead of queueing writes behind it. */
  lockTimeoutMs: number;
  /** How long to wait for another migrator's advisory lock. */
  lockWaitMs: number;
  retries?: number;
  appliedBy?: string;
  onEvent?: (event: MigrationEvent) => void;
  /**
   * Runs under the migration lock, after the history is read and before anything is applied:
   * a refusal that depends on the schema (an unmanaged one) must not race another migrator.
   */
  beforeApply?: (client: Queryable, status: MigrationStatus) => Promise<void>;
}

export interface MigrateResult {
  direction: 'up' | 'down';
  ran: Array<{ version: string; name: string; ms: number }>;
  status: MigrationStatus;
}

export async function ensureTable(client: Queryable): Promise<void> {
  await client.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
    version text PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    execution_ms integer NOT NULL,
    applied_by text
  )`);
}

export async function readApplied(client: Queryable): Promise<AppliedRow[]> {
  const { rows } = await client.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [MIGRATIONS_TABLE]);
  if (!rows[0]?.exists) return [];
  const result = await client.query<AppliedRow>(`SELECT version, name, checksum, applied_at, execution_ms, applied_by FROM ${MIGRATIONS_TABLE} ORDER BY version`);
  return result.rows;
}

export function computeStatus(migrations: MigrationFile[], applied: AppliedRow[]): MigrationStatus {
  const byVersion = new Map(applied.map((row) => [row.version, row]));
  const files = new Map(migrations.map((m) => [m.version, m]));
  const status: MigrationStatus = { applied: [], pending: [], edited: [], missing: [], current: null };
  for (const m of migrations) {
    const row = byVersion.get(m.version);
    const entry: StatusEntry = { version: m.version, name: m.name, file: path.basename(m.file) };
    if (!row) status.pending.push(entry);
    else {
      entry.appliedAt = row.applied_at.toISOString();
      status.applied.push(entry);
      if (row.checksum !== m.checksum) status.edited.push(entry);
    }
  }
  for (const row of applied) {
    if (!files.has(row.version)) status.missing.push({ version: row.version, name: row.name, appliedAt: row.applied_at.toISOString() });
  }
  status.current = applied.length > 0 ? applied[applied.length - 1]!.version : null;
  return status;
}

export async function getStatus(pool: Pool, migrations: MigrationFile[]): Promise<MigrationStatus> {
  return computeStatus(migrations, await readApplied(pool));
}

export function verifyNoEdits(status: MigrationStatus): void {
  if (status.edited.length > 0) {
    const names = status.edited.map((e) => e.file ?? `${e.version}_${e.name}.sql`).join(', ');
    throw new OperationError(
      `Applied migration${status.edited.length > 1 ? 's were' : ' was'} edited after being applied: ${names}. Its checksum no longer matches the database's record.`,
      `If the database applied an earlier edit and the file as committed is right, run \`${status.edited.map((e) => `routergpt migrate repair --version ${e.version}`).join('` and `')}\` (it checks the live objects against the file first); otherwise restore the original file (git checkout -- migrations/) and put the change in a new migration.`,
    );
  }
}

/** The one row a migration leaves in the migrations table (`up` after running it, `baseline` instead). Returns whether it was new. */
export async function recordApplied(client: Queryable, m: Pick<MigrationFile, 'version' | 'name' | 'checksum'>, ms: number, appliedBy: string | undefined): Promise<boolean> {
  const result = await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum, execution_ms, applied_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (version) DO NOTHING`, [m.version, m.name, m.checksum, Math.round(ms), appliedBy ?? null]);
  return (result.rowCount ?? 0) > 0;
}

/** What `migrate up` would run, grouped into transactions. */
export interface PlanGroup {
  version: string;
  name: string;
  transactional: boolean;
  statements: string[];
}

export function planUp(migrations: MigrationFile[], status: MigrationStatus, to?: string): PlanGroup[] {
  const pending = new Set(status.pending.map((p) => p.version));
  return migrations
    .filter((m) => pending.has(m.version) && (to === undefined || m.version <= to))
    .map((m) => ({ version: m.version, name: m.name, transactional: !m.noTransaction, statements: m.noTransaction ? splitStatements(m.sql) : [m.sql.trim()] }));
}

/** Run fn on one client holding the migrators' advisory lock (`migrate baseline` takes it too). */
export async function withMigrationLock<T>(deps: Pick<MigratorDeps, 'pool' | 'lockWaitMs' | 'onEvent'>, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return withClient(deps.pool, async (client) => {
    try {
      return await withAdvisoryLock(client, MIGRATION_LOCK_KEY, { timeoutMs: deps.lockWaitMs, onWait: (holder) => deps.onEvent?.({ type: 'waiting-for-lock', holder }) }, () => fn(client));
    } catch (error) {
      if (error instanceof AdvisoryLockTimeoutError) {
        throw new LockHeldError(`Another migration run holds the migration lock: ${describeHolder(error.holder)}.`, 'Wait for it to finish, or raise --lock-wait; if it is stuck, end that session with pg_terminate_backend(pid).');
      }
      throw error;
    }
  });
}

function isLockTimeout(error: unknown): boolean {
  return (error as { code?: string }).code === '55P03';
}

function migrationError(m: { version: string; name: string }, file: string, error: unknown, transactional: boolean): OperationError {
  const e = error as { message?: string; position?: string; code?: string };
  const where = e.position ? ` (character ${e.position})` : '';
  const nothing = transactional ? 'nothing from it was applied' : 'statements before the failing one were applied; the file is safe to re-run';
  if (isConnectionLost(error)) {
    // The session ended under the migration (a restart, a failover, pg_terminate_backend): nothing to fix in the file.
    return new DatabaseConnectionLostError(`Migration ${path.basename(file)} failed: database connection lost (${connectionLostReason(error)}); ${nothing}.`, 'Check the database (`routergpt db ping`), then run `routergpt migrate up` again.', { cause: error });
  }
  return new OperationError(`Migration ${path.basename(file)} failed: ${e.message ?? String(error)}${where}; ${nothing}.`, 'Fix the migration and run `routergpt migrate up` again.', { cause: error });
}

async function runTransactional(client: PoolClient, deps: MigratorDeps, sql: string, record: (c: PoolClient) => Promise<boolean>): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = ${Math.max(0, Math.floor(deps.lockTimeoutMs))}`);
    // Re-checked inside the transaction: on the embedded database advisory locks do not
    // exclude, so another process may have applied this version while we waited.
    const proceed = await record(client);
    if (!proceed) {
      await client.query('ROLLBACK');
      return false;
    }
    await client.query(sql);
    await client.query('COMMIT');
    return true;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function dropInvalidIndexes(client: PoolClient, names: string[], deps: MigratorDeps): Promise<void> {
  if (names.length === 0) return;
  const { rows } = await client.query<{ name: string; schema: string }>(
    `SELECT c.relname AS name, n.nspname AS schema FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND c.relname = ANY($1::text[]) AND n.nspname = current_schema()`,
    [names],
  );
  for (const row of rows) {
    deps.onEvent?.({ type: 'rebuilding-invalid-index', index: row.name });
    await client.query(`DROP INDEX CONCURRENTLY IF EXISTS "${row.schema}"."${row.name}"`);
  }
}

async function runNonTransactional(client: PoolClient, deps: MigratorDeps, sql: string): Promise<void> {
  // An index left INVALID by an interrupted CONCURRENTLY build would make IF NOT EXISTS skip it.
  await dropInvalidIndexes(client, concurrentIndexNames(sql), deps);
  await client.query(`SET lock_timeout = ${Math.max(0, Math.floor(deps.lockTimeoutMs))}`);
  try {
    for (const statement of splitStatements(sql)) {
      try {
        await client.query(statement);
      } catch (error) {
        await dropInvalidIndexes(client, concurrentIndexNames(statement), deps);
        throw error;
      }
    }
  } finally {
    await client.query('RESET lock_timeout').catch(() => {});
  }
}

async function withRetries<T>(deps: MigratorDeps, version: string, fn: () => Promise<T>): Promise<T> {
  const retries = deps.retries ?? 3;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      if (!isLockTimeout(error) || attempt > retries) throw error;
      deps.onEvent?.({ type: 'retrying', version, reason: 'lock_timeout: a table it needs is busy', attempt });
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
    }
  }
}

/** A `--to` that names no migration is a usage error (exit 2) — checked before connecting. */
export function requireTarget(migrations: MigrationFile[], to: string | undefined, direction: 'up' | 'down'): void {
  if (to === undefined || (direction === 'down' && to === '000') || migrations.some((m) => m.version === to)) return;
  const versions = migrations.map((m) => m.version).join(', ');
  throw new UsageError(`There is no migration ${to}.`, direction === 'down' ? `Use 000 (everything) or one of ${versions}.` : `Use one of ${versions}.`);
}

export async function migrateUp(deps: MigratorDeps, options: { to?: string } = {}): Promise<MigrateResult> {
  requireTarget(deps.migrations, options.to, 'up');
  return withMigrationLock(deps, async (client) => {
    const applied = await readApplied(client);
    const before = computeStatus(deps.migrations, applied);
    verifyNoEdits(before);
    // Before the history table is created: a refusal leaves the database as it was.
    await deps.beforeApply?.(client, before);
    await ensureTable(client);
    // A fresh embedded state copied from the pre-migrated template: its migrations become this run's.
    const fromTemplate = applied.filter((row) => row.applied_by === TEMPLATE_APPLIED_BY);
    const ran: MigrateResult['ran'] = fromTemplate.length > 0 ? await claimTemplateRows(client, MIGRATIONS_TABLE, fromTemplate, deps.appliedBy, deps.onEvent) : [];
    for (const group of planUp(deps.migrations, before, options.to)) {
      const m = deps.migrations.find((x) => x.version === group.version)!;
      deps.onEvent?.({ type: 'applying', version: m.version, name: m.name, direction: 'up' });
      const started = performance.now();
      const isApplied = async (c: Queryable) => ((await c.query(`SELECT 1 FROM ${MIGRATIONS_TABLE} WHERE version = $1`, [m.version])).rowCount ?? 0) > 0;
      const insert = (c: Queryable, ms: number) => recordApplied(c, m, ms, deps.appliedBy);
      let applied = true;
      try {
        if (m.noTransaction) {
          if (await isApplied(client)) applied = false;
          else {
            await withRetries(deps, m.version, () => runNonTransactional(client, deps, m.sql));
            await insert(client, performance.now() - started);
          }
        } else {
          applied = await withRetries(deps, m.version, () =>
            runTransactional(client, deps, m.sql, async (c) => {
              if (await isApplied(c)) return false;
              // Recorded first, in the same transaction: a crash leaves neither.
              await insert(c, 0);
              return true;
            }),
          );
          if (applied) await client.query(`UPDATE ${MIGRATIONS_TABLE} SET execution_ms = $2 WHERE version = $1`, [m.version, Math.round(performance.now() - started)]);
        }
      } catch (error) {
        throw migrationError(m, m.file, error, !m.noTransaction);
      }
      if (applied) {
        const ms = performance.now() - started;
        ran.push({ version: m.version, name: m.name, ms });
        deps.onEvent?.({ type: 'applied', version: m.version, name: m.name, direction: 'up', ms });
      }
    }
    return { direction: 'up', ran, status: computeStatus(deps.migrations, await readApplied(client)) };
  });
}

export async function migrateDown(deps: MigratorDeps, options: { to: string }): Promise<MigrateResult> {
  const target = options.to;
  requireTarget(deps.migrations, target, 'down');
  return withMigrationLock(deps, async (client) => {
    await ensureTable(client);
    const before = computeStatus(deps.migrations, await readApplied(client));
    verifyNoEdits(before);
    if (before.missing.length > 0) {
      throw new OperationError(`Applied migration${before.missing.length > 1 ? 's' : ''} ${before.missing.map((m) => m.version).join(', ')} no longer exist in the migrations folder, so they cannot be undone.`, 'Restore the files from version control first.');
    }
    const toUndo = deps.migrations.filter((m) => before.applied.some((a) => a.version === m.version) && m.version > target).reverse();
    const withoutDown = toUndo.filter((m) => !m.down);
    if (withoutDown.length > 0) {
      throw new OperationError(`No down file for ${withoutDown.map((m) => path.basename(m.file)).join(', ')}; nothing was rolled back.`, 'Add the NNN_name.down.sql files, or restore from a backup with `routergpt rollback --tier restore`.');
    }
    const ran: MigrateResult['ran'] = [];
    for (const m of toUndo) {
      const down = m.down!;
      deps.onEvent?.({ type: 'applying', version: m.version, name: m.name, direction: 'down' });
      const started = performance.now();
      const remove = (c: Queryable) => c.query(`DELETE FROM ${MIGRATIONS_TABLE} WHERE version = $1`, [m.version]);
      try {
        if (down.noTransaction) {
          await withRetries(deps, m.version, () => runNonTransactional(client, deps, down.sql));
          await remove(client);
        } else {
          await withRetries(deps, m.version, () =>
            runTransactional(client, deps, down.sql, async (c) => ((await remove(c)).rowCount ?? 0) > 0),
          );
        }
      } catch (error) {
        throw migrationError(m, down.file, error, !down.noTransaction);
      }
      const ms = performance.now() - started;
      ran.push({ version: m.version, name: m.name, ms });
      deps.onEvent?.({ type: 'applied', version: m.version, name: m.name, direction: 'down', ms });
    }
    return { direction: 'down', ran, status: computeStatus(deps.migrations, await readApplied(client)) };
  });
}
