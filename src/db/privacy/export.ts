/**
 * `routergpt privacy export`: everything held about one person (subject.ts), table by table, as
 * the rows are stored (to_jsonb), in one read-only snapshot. docs/privacy.md "What an export holds".
 */
import type { Pool, Queryable } from '../pool.js';
import { withTransaction } from '../pool.js';
import { tableExists, type ErasureTargets, type Selector } from './subject.js';

export const EXPORT_FORMAT = 'routergpt.privacy-export/v1';

export interface PrivacyExport {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  env: string;
  request: Selector;
  /** The ids that make up the person (subject.ts "One person"). */
  person: { sessions: string[]; bookings: string[] };
  /** Rows per table, as stored. */
  tables: Record<string, Array<Record<string, unknown>>>;
  /** What some tables mean, for the person reading the file. */
  notes: Record<string, string>;
}

/** The tables an export reads, with the rows of the person in each ($1: the keys named by `by`). */
const QUERIES: ReadonlyArray<{ table: string; by: keyof ErasureTargets; sql: string }> = [
  { table: 'chat_sessions', by: 'sessions', sql: 'SELECT to_jsonb(t) AS r FROM chat_sessions t WHERE id = ANY($1::uuid[]) ORDER BY created_at, id' },
  { table: 'chat_messages', by: 'sessions', sql: 'SELECT to_jsonb(t) AS r FROM chat_messages t WHERE session_id = ANY($1::uuid[]) ORDER BY session_id, id' },
  { table: 'router_feedback', by: 'sessions', sql: 'SELECT to_jsonb(t) AS r FROM router_feedback t WHERE session_id = ANY($1::uuid[]) ORDER BY session_id' },
  { table: 'bookings', by: 'bookings', sql: 'SELECT to_jsonb(t) AS r FROM bookings t WHERE id = ANY($1::uuid[]) ORDER BY created_at, id' },
  { table: 'booking_slots', by: 'bookings', sql: 'SELECT to_jsonb(t) AS r FROM booking_slots t WHERE booking_id = ANY($1::uuid[]) ORDER BY booking_id, slot_start' },
  { table: 'router_analytics', by: 'analytics', sql: 'SELECT to_jsonb(t) AS r FROM router_analytics t WHERE id = ANY($1::bigint[]) ORDER BY id' },
  { table: 'router_analytics_archive', by: 'archive', sql: 'SELECT to_jsonb(t) AS r FROM router_analytics_archive t WHERE id = ANY($1::bigint[]) ORDER BY id' },
  { table: 'router_refusals', by: 'clientHmacs', sql: 'SELECT to_jsonb(t) AS r FROM router_refusals t WHERE client_hmac = ANY($1::text[]) ORDER BY minute, route' },
];

export const EXPORT_NOTES: Record<string, string> = {
  chat_sessions: 'Each conversation with a shop\'s booking assistant: what the router passed on (router_context, intent) and client_hmac, a keyed hash of the client the session was opened from (never an address).',
  chat_messages: 'Everything written in those conversations, by you (user) and by the assistant.',
  router_feedback: 'The rating (and comment) given at the end of a conversation.',
  bookings: 'The appointments made, with the name they were made under.',
  booking_slots: 'The 15-minute slots each booking holds in the shop\'s schedule.',
  router_analytics: 'Usage events recorded about those conversations and bookings (and the location search that led to them, rounded to about 1 km).',
  router_analytics_archive: 'The same kind of events, moved to the archive after the retention period.',
  router_refusals: 'Requests refused (rate limits, bad input) per minute for the client key your conversations came from — a keyed hash, never an address. That key can be shared by other people (ChatGPT calls from shared addresses), so these counts may include their requests too; they hold no content.',
};

/** The document, read in one snapshot: the tables agree with each other even while the API writes. */
export async function collectExport(pool: Pool, targets: ErasureTargets, meta: { env: string; request: Selector; now: Date }): Promise<PrivacyExport> {
  return withTransaction(pool, async (client) => {
    await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return collectExportIn(client, targets, meta);
  });
}

/** The document, read on the caller's connection (inside its transaction: an erasure's own). */
export async function collectExportIn(db: Queryable, targets: ErasureTargets, meta: { env: string; request: Selector; now: Date }): Promise<PrivacyExport> {
  const tables: PrivacyExport['tables'] = {};
  for (const { table, by, sql } of QUERIES) {
    if (!(await tableExists(db, table))) continue;
    const { rows } = await db.query<{ r: Record<string, unknown> }>(sql, [targets[by]]);
    tables[table] = rows.map((x) => x.r);
  }
  return {
    format: EXPORT_FORMAT,
    exportedAt: meta.now.toISOString(),
    env: meta.env,
    request: meta.request,
    person: { sessions: targets.sessions, bookings: targets.bookings },
    tables,
    notes: Object.fromEntries(Object.keys(tables).map((t) => [t, EXPORT_NOTES[t] ?? ''])),
  };
}

/** Rows per table (what export and erase report). */
export function countsOf(doc: PrivacyExport): Record<string, number> {
  return Object.fromEntries(Object.entries(doc.tables).map(([t, rows]) => [t, rows.length]));
}
