import { writeFileSync } from 'node:fs';
import type { Pool, PoolClient } from '../pool.js';
import { withTransaction } from '../pool.js';
import type { Ledger, LossPreview } from './ledger.js';

/**
 * `rollback --tier restore --keep-writes`: the bookings and chat rows written since the backup,
 * exported before the restore (to a file in the rollback's run directory, so nothing is lost
 * whatever happens next) and re-applied after it where the restored schema accepts them.
 * A booking travels with its booking_slots: it is re-applied with its slots or not at all, so
 * no slot is ever double-booked.
 */
export interface KeptWrites {
  takenAt: string;
  chatSessions: Array<Record<string, unknown>>;
  bookings: Array<{ row: Record<string, unknown>; slots: Array<Record<string, unknown>>; change: 'inserted' | 'updated' }>;
  chatMessages: Array<Record<string, unknown>>;
}

export interface ReapplyResult {
  kept: string[];
  notKept: string[];
}

async function rows(pool: Pool, sql: string, values: unknown[]): Promise<Array<Record<string, unknown>>> {
  return (await pool.query<{ r: Record<string, unknown> }>(sql, values)).rows.map((x) => x.r);
}

/** Export what the preview found written since the backup; `file` keeps a copy. */
export async function exportWrites(pool: Pool, preview: LossPreview, ledger: Ledger | undefined, file: string): Promise<KeptWrites> {
  const keys = (table: string, which: 'insertedKeys' | 'updatedKeys') => preview.tables.find((t) => t.table === table)?.[which] ?? [];
  const sessions = keys('chat_sessions', 'insertedKeys');
  const changed = [...keys('bookings', 'insertedKeys').map((k) => [k, 'inserted'] as const), ...keys('bookings', 'updatedKeys').map((k) => [k, 'updated'] as const)];
  const bookings: KeptWrites['bookings'] = [];
  for (const [id, change] of changed) {
    const [row] = await rows(pool, 'SELECT to_jsonb(b) AS r FROM bookings b WHERE id = $1', [id]);
    if (!row) continue;
    bookings.push({ row, change, slots: await rows(pool, 'SELECT to_jsonb(s) AS r FROM booking_slots s WHERE booking_id = $1 ORDER BY slot_start', [id]) });
  }
  const messages = ledger?.chat_messages;
  const after = messages?.mode === 'append' && messages.maxKey !== null ? messages.maxKey : '0';
  const kept: KeptWrites = {
    takenAt: new Date().toISOString(),
    chatSessions: sessions.length ? await rows(pool, 'SELECT to_jsonb(s) AS r FROM chat_sessions s WHERE id::text = ANY($1) ORDER BY created_at', [sessions]) : [],
    bookings,
    chatMessages: messages ? await rows(pool, 'SELECT to_jsonb(m) AS r FROM chat_messages m WHERE id > $1::bigint ORDER BY id', [after]) : [],
  };
  writeFileSync(file, `${JSON.stringify(kept, null, 2)}\n`, { mode: 0o600 });
  return kept;
}

async function tryInsert(client: PoolClient, table: string, row: Record<string, unknown>, identity = false): Promise<string | undefined> {
  await client.query('SAVEPOINT keep_row');
  try {
    await client.query(`INSERT INTO ${table} ${identity ? 'OVERRIDING SYSTEM VALUE ' : ''}SELECT * FROM jsonb_populate_record(NULL::${table}, $1::jsonb) ON CONFLICT DO NOTHING`, [JSON.stringify(row)]);
    await client.query('RELEASE SAVEPOINT keep_row');
    return undefined;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT keep_row');
    return (error as Error).message;
  }
}

/** Re-apply kept writes after the restore, one transaction; each row kept or reported, never half. */
export async function reapplyWrites(pool: Pool, kept: KeptWrites): Promise<ReapplyResult> {
  const result: ReapplyResult = { kept: [], notKept: [] };
  await withTransaction(pool, async (client) => {
    for (const session of kept.chatSessions) {
      const problem = await tryInsert(client, 'chat_sessions', session);
      (problem ? result.notKept : result.kept).push(`chat session ${String(session.id)}${problem ? `: ${problem}` : ''}`);
    }
    for (const booking of kept.bookings) {
      const label = `booking ${String(booking.row.id)} (${booking.change}, ${String(booking.row.status)}, starts ${String(booking.row.starts_at)})`;
      await client.query('SAVEPOINT keep_booking');
      try {
        // The restored copy of an updated booking (and its slots, by cascade) gives way to the newer one.
        if (booking.change === 'updated') await client.query('DELETE FROM bookings WHERE id = $1', [booking.row.id]);
        await client.query('INSERT INTO bookings SELECT * FROM jsonb_populate_record(NULL::bookings, $1::jsonb)', [JSON.stringify(booking.row)]);
        for (const slot of booking.slots) await client.query('INSERT INTO booking_slots SELECT * FROM jsonb_populate_record(NULL::booking_slots, $1::jsonb)', [JSON.stringify(slot)]);
        await client.query('RELEASE SAVEPOINT keep_booking');
        result.kept.push(label);
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT keep_booking');
        const e = error as { code?: string; message: string };
        result.notKept.push(`${label}: ${e.code === '23505' ? 'its time is already booked in the restored data' : e.message}`);
      }
    }
    for (const message of kept.chatMessages) {
      const problem = await tryInsert(client, 'chat_messages', message, true);
      if (problem) result.notKept.push(`chat message ${String(message.id)}: ${problem}`);
    }
    if (kept.chatMessages.length) {
      result.kept.push(`${kept.chatMessages.length - result.notKept.filter((n) => n.startsWith('chat message')).length} chat message(s)`);
      // Re-inserted identities lie past the restored sequence: move it on, or the next message collides.
      await client.query(`SELECT setval(pg_get_serial_sequence('chat_messages', 'id'), GREATEST((SELECT max(id) FROM chat_messages), 1))`);
    }
  });
  return result;
}
