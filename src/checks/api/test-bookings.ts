/**
 * Clean-up of the bookings a check makes (api.chat-router-context where `allow_test_bookings`
 * is set): checks change nothing they did not create, and what they create they undo before
 * they end. Every booking of the check's own chat session is cancelled and its slots deleted in
 * one statement — the 004_bookings contract (status and slots in one transaction), so the time
 * is free again for real customers at once. The rows stay, marked synthetic (migration 010)
 * when the request was, and no metric counts them.
 */
import type { Queryable } from '../../db/pool.js';

export interface CancelledTestBookings {
  /** Bookings of the session that were confirmed and are now cancelled. */
  cancelled: string[];
  slotsFreed: number;
  /** Slots still held by any booking of the session afterwards (0 unless something raced). */
  slotsLeft: number;
}

export async function cancelSessionBookings(db: Queryable, sessionId: string): Promise<CancelledTestBookings> {
  const { rows } = await db.query<{ cancelled: string[]; slots_freed: number }>(
    `WITH c AS (
       UPDATE bookings SET status = 'cancelled' WHERE session_id = $1 AND status = 'confirmed' RETURNING id
     ), d AS (
       DELETE FROM booking_slots WHERE booking_id IN (SELECT id FROM c) RETURNING 1
     )
     SELECT coalesce((SELECT array_agg(id::text) FROM c), '{}') AS cancelled, (SELECT count(*) FROM d)::int AS slots_freed`,
    [sessionId],
  );
  const left = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM booking_slots s JOIN bookings b ON b.id = s.booking_id WHERE b.session_id = $1`, [sessionId]);
  return { cancelled: rows[0]?.cancelled ?? [], slotsFreed: rows[0]?.slots_freed ?? 0, slotsLeft: left.rows[0]?.n ?? 0 };
}
