import type * as PG from 'pg';
import pg from './pg-driver.js';
import { isConnectionLost } from './connection-lost.js';

export type Pool = PG.Pool;
export type PoolClient = PG.PoolClient;
/** Anything that can run a query: a pool or a checked-out client. */
export type Queryable = Pick<PG.Pool, 'query'>;

export interface CreatePoolOptions {
  connectionString: string;
  max?: number;
  applicationName?: string;
  connectionTimeoutMillis?: number;
}

export function createPool({ connectionString, max = 10, applicationName = 'routergpt', connectionTimeoutMillis = 10_000 }: CreatePoolOptions): Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: applicationName, connectionTimeoutMillis });
  // An idle client losing its connection (server restart) must not crash the process;
  // the next query reports the problem where it can be handled.
  pool.on('error', () => {});
  // pg-pool listens for a client's 'error' only while it sits idle in the pool: a checked-out
  // client whose session ends (pg_terminate_backend, a restart, a failover) emits an 'error'
  // nobody handles, and the process dies with the run journaled `running` and pg_dump orphaned.
  // The query in flight rejects with the error, and the next one fails "not queryable": the
  // caller sees it where it can be handled (the run marks the item "database connection lost").
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}

/** Check out a client for the duration of fn, always releasing it (STYLE.md §9). */
export async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await fn(client);
  } catch (error) {
    // A connection-level failure means the client must not go back into the pool.
    if (error instanceof Error && isConnectionLost(error)) broken = error;
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Run fn in a transaction: COMMIT when it resolves, ROLLBACK when it throws. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  });
}

export interface LockHolder {
  pid: number;
  applicationName: string;
  since: Date | null;
  clientAddr: string | null;
}

export interface AdvisoryLockOptions {
  /** Give up after this long; 0 tries once. */
  timeoutMs: number;
  pollMs?: number;
  /** Called once when the lock is busy, with who holds it. */
  onWait?: (holder: LockHolder | undefined) => void;
}

export class AdvisoryLockTimeoutError extends Error {
  constructor(
    readonly key: bigint,
    readonly holder: LockHolder | undefined,
  ) {
    super(`advisory lock ${key} is held by ${describeHolder(holder)}`);
  }
}

export function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return 'another session';
  const since = holder.since ? ` since ${holder.since.toISOString()}` : '';
  return `pid ${holder.pid} (${holder.applicationName || 'unnamed client'}${holder.clientAddr ? ` from ${holder.clientAddr}` : ''})${since}`;
}

export async function findLockHolder(client: Queryable, key: bigint): Promise<LockHolder | undefined> {
  const { rows } = await client.query<{ pid: number; application_name: string; backend_start: Date | null; client_addr: string | null }>(
    `SELECT a.pid, a.application_name, a.backend_start, a.client_addr::text AS client_addr
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint
      LIMIT 1`,
    [key.toString()],
  );
  const row = rows[0];
  return row ? { pid: row.pid, applicationName: row.application_name, since: row.backend_start, clientAddr: row.client_addr } : undefined;
}

/**
 * Hold a session-level advisory lock while fn runs. The lock is taken by polling
 * pg_try_advisory_lock outside any transaction (a blocking pg_advisory_lock inside one would
 * hold a snapshot and could deadlock with DDL), and released in finally.
 */
export async function withAdvisoryLock<T>(client: PoolClient, key: bigint, options: AdvisoryLockOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let reported = false;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key.toString()]);
    if (rows[0]?.locked) break;
    const holder = await findLockHolder(client, key);
    if (Date.now() >= deadline) throw new AdvisoryLockTimeoutError(key, holder);
    if (!reported) {
      options.onWait?.(holder);
      reported = true;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 200));
  }
  try {
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [key.toString()]).catch(() => {});
  }
}
