/**
 * Chat retention (docs/maintenance.md#retention): a chat session older than
 * retention.chat_anonymise_days loses its transcript — its chat_messages are deleted, its intent,
 * router_context and client_hmac cleared, its feedback comment removed (the rating stays), and
 * `anonymised_at` set. The session row and its booking stay: the shop's appointment book, the
 * Success Metrics (a router booking is a booking whose session the router opened) and the
 * analytics (which hold no text) still count them. The booking's customer_name stays with the
 * booking (the shop's record of who comes); an erasure request removes it (`routergpt privacy erase`).
 */
import type { PoolClient, Queryable } from '../pool.js';
import type { BatchOutcome } from './batches.js';

export interface AnonymisableCount {
  sessions: number;
  messages: number;
  oldest: Date | null;
}

/** Sessions created before `cutoff` not anonymised yet, and their messages (the dry run's count). */
export async function countAnonymisable(db: Queryable, cutoff: Date): Promise<AnonymisableCount> {
  const { rows } = await db.query<{ sessions: string; messages: string; oldest: Date | null }>(
    `SELECT count(*) AS sessions, coalesce(sum((SELECT count(*) FROM chat_messages m WHERE m.session_id = s.id)), 0) AS messages, min(s.created_at) AS oldest
       FROM chat_sessions s WHERE s.created_at < $1 AND s.anonymised_at IS NULL`,
    [cutoff],
  );
  const r = rows[0];
  return { sessions: Number(r?.sessions ?? 0), messages: Number(r?.messages ?? 0), oldest: r?.oldest ? new Date(r.oldest) : null };
}

/**
 * One batch: up to `limit` such sessions, oldest first (the partial index
 * chat_sessions_created_at_idx holds exactly the ones not anonymised yet, so no keyset is needed),
 * anonymised in one statement.
 */
export async function anonymiseBatch(client: PoolClient, cutoff: Date, _from: string, limit: number): Promise<BatchOutcome> {
  const { rows } = await client.query<{ sessions: number; messages: number; comments: number }>(
    `WITH picked AS (
       SELECT id FROM chat_sessions
        WHERE created_at < $1 AND anonymised_at IS NULL
        ORDER BY created_at LIMIT $2
        FOR UPDATE SKIP LOCKED
     ), gone AS (
       DELETE FROM chat_messages m USING picked p WHERE m.session_id = p.id RETURNING 1
     ), comments AS (
       UPDATE router_feedback f SET comment = NULL FROM picked p WHERE f.session_id = p.id AND f.comment IS NOT NULL RETURNING 1
     ), done AS (
       UPDATE chat_sessions s SET intent = NULL, router_context = '{}'::jsonb, client_hmac = NULL, anonymised_at = now()
         FROM picked p WHERE s.id = p.id RETURNING 1
     )
     SELECT (SELECT count(*) FROM done)::int AS sessions, (SELECT count(*) FROM gone)::int AS messages, (SELECT count(*) FROM comments)::int AS comments`,
    [cutoff, limit],
  );
  const r = rows[0];
  return { rows: r?.sessions ?? 0, extra: { messages: r?.messages ?? 0, comments: r?.comments ?? 0 } };
}
