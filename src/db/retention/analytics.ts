/**
 * Analytics retention (docs/maintenance.md#retention): events past
 * retention.analytics_archive_days are moved from router_analytics to router_analytics_archive,
 * and events past retention.analytics_delete_days are deleted (from the archive, and from the hot
 * table should any be left there). Both in batches (batches.ts): each batch picks its rows with
 * `FOR UPDATE SKIP LOCKED` in created_at order from where the last one stopped, and moves or
 * deletes them in one statement — a row is in exactly one of the two tables at every instant, so
 * the readers (events-source.ts) see the same events throughout.
 */
import { ANALYTICS_COLUMNS } from '../analytics/events-source.js';
import { ROLLUP_LOCK_KEY } from '../analytics/rollups.js';
import { withAdvisoryLock, withClient, type Pool, type PoolClient, type Queryable } from '../pool.js';
import type { BatchOutcome } from './batches.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The instant before which events are archived: `days` before now. */
export function archiveCutoff(now: Date, days: number): Date {
  return new Date(now.getTime() - days * DAY_MS);
}

/**
 * The instant before which events are deleted: `days` before now, down to the UTC hour — whole
 * hours go, so the rollups of those hours go with them (pruneRollupsBefore) and rolled figures
 * stay equal to raw ones.
 */
export function deleteCutoff(now: Date, days: number): Date {
  return new Date(Math.floor((now.getTime() - days * DAY_MS) / HOUR_MS) * HOUR_MS);
}

export interface TableAge {
  rows: number;
  oldest: Date | null;
}

const ageOf = (r: { rows: unknown; oldest: unknown } | undefined): TableAge => ({ rows: Number(r?.rows ?? 0), oldest: r?.oldest ? new Date(r.oldest as string) : null });

/** The hot table's events older than `cutoff`: what an archive run moves (the dry run's count). */
export async function countArchivable(db: Queryable, cutoff: Date): Promise<TableAge> {
  const { rows } = await db.query<{ rows: string; oldest: Date | null }>('SELECT count(*) AS rows, min(created_at) AS oldest FROM router_analytics WHERE created_at < $1', [cutoff]);
  return ageOf(rows[0]);
}

/** Events older than `cutoff` in the archive and in the hot table: what a delete run removes. */
export async function countDeletable(db: Queryable, cutoff: Date): Promise<{ archive: TableAge; hot: TableAge }> {
  const archive = await db.query<{ rows: string; oldest: Date | null }>('SELECT count(*) AS rows, min(created_at) AS oldest FROM router_analytics_archive WHERE created_at < $1', [cutoff]);
  const hot = await countArchivable(db, cutoff);
  return { archive: ageOf(archive.rows[0]), hot };
}

/** The archive's size and age (the analytics.archive check). */
export async function archiveStats(db: Queryable): Promise<TableAge & { newest: Date | null; bytes: number }> {
  const { rows } = await db.query<{ rows: string; oldest: Date | null; newest: Date | null; bytes: string }>(
    `SELECT count(*) AS rows, min(created_at) AS oldest, max(created_at) AS newest, pg_total_relation_size('router_analytics_archive') AS bytes FROM router_analytics_archive`,
  );
  return { ...ageOf(rows[0]), newest: rows[0]?.newest ? new Date(rows[0].newest) : null, bytes: Number(rows[0]?.bytes ?? 0) };
}

const MOVED_COLUMNS = ANALYTICS_COLUMNS.split(', ').map((c) => `a.${c}`).join(', ');

/**
 * One archive batch: up to `limit` hot events older than `cutoff`, from `from` on in created_at
 * order (rows another transaction holds are skipped, for the next run), deleted from
 * router_analytics and inserted into router_analytics_archive in one statement. No ON CONFLICT:
 * an id already in the archive is an inconsistency to stop at, not a row to drop.
 */
export async function archiveBatch(client: PoolClient, cutoff: Date, from: string, limit: number): Promise<BatchOutcome> {
  const { rows } = await client.query<{ rows: number; next: string | null }>(
    `WITH picked AS (
       SELECT id FROM router_analytics
        WHERE created_at < $1 AND created_at >= $2::timestamptz
        ORDER BY created_at LIMIT $3
        FOR UPDATE SKIP LOCKED
     ), moved AS (
       DELETE FROM router_analytics a USING picked p WHERE a.id = p.id
       RETURNING ${MOVED_COLUMNS}
     ), kept AS (
       INSERT INTO router_analytics_archive (${ANALYTICS_COLUMNS}, archived_at)
       SELECT ${ANALYTICS_COLUMNS}, now() FROM moved
       RETURNING created_at
     )
     SELECT count(*)::int AS rows, max(created_at)::text AS next FROM kept`,
    [cutoff, from, limit],
  );
  return { rows: rows[0]?.rows ?? 0, ...(rows[0]?.next ? { next: rows[0].next } : {}) };
}

/** One delete batch of `table` (the archive, or the hot table's leftovers): events older than `cutoff`. */
export async function deleteBatch(client: PoolClient, table: 'router_analytics_archive' | 'router_analytics', cutoff: Date, from: string, limit: number): Promise<BatchOutcome> {
  const { rows } = await client.query<{ rows: number; next: string | null }>(
    `WITH picked AS (
       SELECT id FROM ${table}
        WHERE created_at < $1 AND created_at >= $2::timestamptz
        ORDER BY created_at LIMIT $3
        FOR UPDATE SKIP LOCKED
     ), gone AS (
       DELETE FROM ${table} a USING picked p WHERE a.id = p.id RETURNING a.created_at
     )
     SELECT count(*)::int AS rows, max(created_at)::text AS next FROM gone`,
    [cutoff, from, limit],
  );
  return { rows: rows[0]?.rows ?? 0, ...(rows[0]?.next ? { next: rows[0].next } : {}) };
}

/**
 * After events before `cutoff` (a whole UTC hour) were deleted: the rollups of those hours go
 * too (migration 012), so a rolled figure never counts an event that is gone — the rollups'
 * hours, sessions and shops before the cutoff, the gaps whose earlier event was before it, and
 * the funnel of the searches made before it. Hours after the cutoff are untouched (a delegation
 * or booking follows its search, so no later outcome depended on a deleted event). Under the
 * refresh's advisory lock; each table in its own statement of one short transaction.
 */
export async function pruneRollupsBefore(pool: Pool, cutoff: Date): Promise<number> {
  return withClient(pool, async (client) => {
    const { rows: present } = await client.query<{ ok: boolean }>(`SELECT to_regclass('router_analytics_rollup_state') IS NOT NULL AS ok`);
    if (!present[0]?.ok) return 0;
    return withAdvisoryLock(client, ROLLUP_LOCK_KEY, { timeoutMs: 600_000 }, async () => {
      await client.query('BEGIN');
      try {
        let removed = 0;
        const del = async (sql: string) => {
          removed += (await client.query(sql, [cutoff])).rowCount ?? 0;
        };
        await del('DELETE FROM router_analytics_hourly WHERE hour < $1');
        await del('DELETE FROM router_analytics_hourly_sessions WHERE hour < $1');
        await del('DELETE FROM router_analytics_hourly_shops WHERE hour < $1');
        await del('DELETE FROM router_analytics_hourly_gaps WHERE hour < $1 OR prev_hour < $1');
        await del('DELETE FROM router_search_delegations WHERE event_id IN (SELECT event_id FROM router_search_outcomes WHERE searched_at < $1)');
        await del('DELETE FROM router_search_outcomes WHERE searched_at < $1');
        await del('DELETE FROM router_funnel_hourly WHERE hour < $1');
        await client.query('COMMIT');
        return removed;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });
  });
}
