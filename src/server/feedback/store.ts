/** router_feedback (migration 011): one rating per chat session; a later one replaces it. */
import type { Queryable } from '../../db/pool.js';

export interface FeedbackInput {
  sessionId: string;
  rating: number;
  comment: string | null;
  synthetic: boolean;
  release: string | null;
  host: string | null;
  at: Date;
}

export interface FeedbackRow {
  session_id: string;
  rating: number;
  comment: string | null;
  created_at: Date;
  updated_at: Date;
  /** An earlier rating of the session was replaced. */
  replaced: boolean;
}

/** Insert, or replace the session's rating (created_at kept); one statement, so two at once cannot both insert. */
export async function upsertFeedback(db: Queryable, input: FeedbackInput): Promise<FeedbackRow> {
  const { rows } = await db.query<FeedbackRow>(
    `INSERT INTO router_feedback AS f (session_id, rating, comment, synthetic, release, host, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
     ON CONFLICT (session_id) DO UPDATE
        SET rating = EXCLUDED.rating, comment = EXCLUDED.comment, synthetic = EXCLUDED.synthetic,
            release = EXCLUDED.release, host = EXCLUDED.host, updated_at = EXCLUDED.updated_at
     RETURNING f.session_id::text, f.rating::int AS rating, f.comment, f.created_at, f.updated_at, (f.xmax <> 0) AS replaced`,
    [input.sessionId, input.rating, input.comment, input.synthetic, input.release, input.host, input.at],
  );
  return rows[0]!;
}
