import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { noRoomError } from '../lib/disk-full.js';
import { LockHeldError } from '../errors.js';
import { describeHolder, type Pool, type PoolClient, type Queryable } from '../db/pool.js';
import { isProcessAlive } from '../lib/process-alive.js';

export interface RunLock {
  release(): Promise<void>;
  /**
   * Why the lock is no longer held, once its session ended under the run (pg_terminate_backend,
   * a restart, a failover): the server let the advisory lock go, so another run may start.
   */
  lost(): Error | undefined;
}

interface LockFileInfo {
  pid: number;
  runId: string;
  startedAt: string;
  by: string;
}


/** Two-int advisory lock key: (hashtext('routergpt.run'), hashtext(env)). */
const LOCK_SQL = `SELECT pg_try_advisory_lock(hashtext('routergpt.run'), hashtext($1)) AS locked`;

/**
 * One run per environment at a time. On a real server: a session advisory lock on a dedicated
 * connection held for the whole run (another operator's machine sees it too). On the embedded
 * database advisory locks do not exclude, so a lock file with the pid guards it instead.
 */
export async function acquireRunLock(options: { pool: Pool; embedded: boolean; env: string; dir: string; runId: string; by: string }): Promise<RunLock> {
  const fileLock = acquireFileLock(path.join(options.dir, 'run.lock'), { pid: process.pid, runId: options.runId, startedAt: new Date().toISOString(), by: options.by }, options.env);
  if (options.embedded) return { release: async () => fileLock.release(), lost: () => undefined };
  let client: PoolClient | undefined;
  try {
    client = await options.pool.connect();
    // The session sits idle for the whole run: a server-wide idle_session_timeout (meant for
    // leaked sessions) would end it, and the lock with it. PostgreSQL 13 has no such setting.
    await client.query('SET idle_session_timeout = 0').catch(() => {});
    const { rows } = await client.query<{ locked: boolean }>(LOCK_SQL, [options.env]);
    if (!rows[0]?.locked) {
      const running = await client
        .query<{ id: string; started_by: string; started_at: Date }>(`SELECT id, started_by, started_at FROM routergpt.runs WHERE env = $1 AND status = 'running' ORDER BY started_at DESC LIMIT 1`, [options.env])
        .catch(() => ({ rows: [] as Array<{ id: string; started_by: string; started_at: Date }> }));
      const run = running.rows[0];
      const who = await client.query<{ pid: number; application_name: string; backend_start: Date }>(
        `SELECT a.pid, a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid = hashtext('routergpt.run')::oid AND l.objid = hashtext($1)::oid LIMIT 1`,
        [options.env],
      ).catch(() => ({ rows: [] as Array<{ pid: number; application_name: string; backend_start: Date }> }));
      const w = who.rows[0];
      const desc = run ? `run ${run.id} by ${run.started_by} since ${new Date(run.started_at).toISOString()}` : describeHolder(w ? { pid: w.pid, applicationName: w.application_name, since: w.backend_start, clientAddr: null } : undefined);
      throw new LockHeldError(`Another run is in progress on ${options.env}: ${desc}.`, 'Wait for it to finish (`routergpt status --env ' + options.env + '`), then try again.');
    }
  } catch (error) {
    client?.release();
    fileLock.release();
    throw error;
  }
  const held = client;
  let lostWith: Error | undefined;
  const onError = (error: Error) => {
    lostWith ??= error;
  };
  held.on('error', onError);
  return {
    release: async () => {
      held.removeListener('error', onError);
      if (!lostWith) await held.query(`SELECT pg_advisory_unlock(hashtext('routergpt.run'), hashtext($1))`, [options.env]).catch(() => {});
      // A dead session is dropped, not handed back to the pool.
      held.release(lostWith);
      fileLock.release();
    },
    lost: () => lostWith,
  };
}

function acquireFileLock(file: string, info: LockFileInfo, env: string): { release(): void } {
  mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, JSON.stringify(info));
      } catch (error) {
        // A full disk: no half-written lock left behind, and an error that names the file.
        closeSync(fd);
        unlinkSync(file);
        throw noRoomError(error, 'the run lock', file, `Free space in ${path.dirname(file)}; nothing was started.`) ?? error;
      }
      closeSync(fd);
      return {
        release: () => {
          try {
            unlinkSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: LockFileInfo | undefined;
      try {
        holder = JSON.parse(readFileSync(file, 'utf8')) as LockFileInfo;
      } catch {
        holder = undefined;
      }
      if (holder && isProcessAlive(holder.pid)) {
        throw new LockHeldError(`Another run is in progress on ${env}: run ${holder.runId} by ${holder.by} (pid ${holder.pid}) since ${holder.startedAt}.`, `Wait for it to finish (\`routergpt status --env ${env}\`), then try again.`);
      }
      unlinkSync(file); // stale: its process died (SIGKILL); `--resume` picks the run up
    }
  }
  throw new LockHeldError(`Could not take the run lock ${file}.`, 'Try again.');
}

/**
 * Whether some process holds the environment's run lock: the lock file's pid is alive, or (on
 * a real server) any session holds the advisory lock — another operator's machine included.
 */
export async function isRunLockHeld(options: { pool: Queryable | undefined; embedded: boolean; env: string; dir: string }): Promise<boolean> {
  try {
    const holder = JSON.parse(readFileSync(path.join(options.dir, 'run.lock'), 'utf8')) as LockFileInfo;
    if (isProcessAlive(holder.pid)) return true;
  } catch {
    /* no lock file, or a torn one: not held here */
  }
  if (options.embedded || !options.pool) return false;
  const { rows } = await options.pool
    // Advisory locks belong to a database: another database on the same server (another
    // environment, another test) holding the same key is not this environment's run.
    .query<{ held: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND classid = hashtext('routergpt.run')::oid AND objid = hashtext($1)::oid) AS held`, [options.env])
    .catch(() => ({ rows: [{ held: false }] }));
  return Boolean(rows[0]?.held);
}
