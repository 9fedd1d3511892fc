import type { Queryable } from '../pool.js';
import { quoteIdent, type SqlRunner } from './checksums.js';
import { listLedger, type LedgerSummary } from '../privacy/ledger.js';

/**
 * The write ledger of a backup: for the tables people write to while the service runs, enough
 * to say later, row by row, what a restore of this backup would lose. Taken on the dump's own
 * snapshot, so it describes exactly the rows in the backup.
 *
 * - `rows` tables (bookings, booking_slots, chat_sessions): an md5 per row by key — a booking
 *   cancelled since (an update) is told apart from one made since (an insert) or deleted since.
 * - `append` tables (chat_messages, router_analytics): identity keys only grow, so the newest key
 *   and the count say what was inserted (and deleted); rows are never updated in place.
 */
export interface WriteTable {
  name: string;
  /** SQL expression of the row's key, as text. */
  key: string;
  mode: 'rows' | 'append';
  /** The column that dates a row (its newest value is shown in the preview). */
  time: string;
}

export const WRITE_TABLES: readonly WriteTable[] = [
  { name: 'bookings', key: 'id::text', mode: 'rows', time: 'created_at' },
  { name: 'booking_slots', key: "shop_id::text || '@' || slot_start::text", mode: 'rows', time: 'slot_start' },
  { name: 'chat_sessions', key: 'id::text', mode: 'rows', time: 'created_at' },
  { name: 'chat_messages', key: 'id', mode: 'append', time: 'created_at' },
  { name: 'router_analytics', key: 'id', mode: 'append', time: 'created_at' },
];

export type LedgerEntry = { mode: 'rows'; rows: Record<string, string> } | { mode: 'append'; count: number; maxKey: string | null };
export type Ledger = Record<string, LedgerEntry>;

async function tableExists(run: SqlRunner, name: string): Promise<boolean> {
  const rows = await run(`SELECT to_regclass('public.${quoteIdent(name)}') IS NOT NULL AS exists`);
  return rows[0]?.exists === true;
}

/** The ledger inside the caller's transaction (the one whose snapshot pg_dump uses). */
export async function ledgerIn(run: SqlRunner): Promise<Ledger> {
  const ledger: Ledger = {};
  for (const table of WRITE_TABLES) {
    if (!(await tableExists(run, table.name))) continue;
    const from = `public.${quoteIdent(table.name)} t`;
    if (table.mode === 'rows') {
      const rows = await run(`SELECT ${table.key} AS k, md5(t::text) AS h FROM ${from}`);
      ledger[table.name] = { mode: 'rows', rows: Object.fromEntries(rows.map((r) => [String(r.k), String(r.h)])) };
    } else {
      const rows = await run(`SELECT count(*)::text AS n, max(${table.key})::text AS k FROM ${from}`);
      ledger[table.name] = { mode: 'append', count: Number(rows[0]?.n ?? 0), maxKey: rows[0]?.k === null || rows[0]?.k === undefined ? null : String(rows[0].k) };
    }
  }
  return ledger;
}

/** What a restore of the backup would lose in one table, compared with the rows there now. */
export interface TableLoss {
  table: string;
  inserted: number;
  updated: number;
  deleted: number;
  /** The newest date of a row written since the backup. */
  newest: string | null;
  /** Keys of the rows inserted / updated since (for `--keep-writes`). */
  insertedKeys: string[];
  updatedKeys: string[];
}

export interface LossPreview {
  takenAt: string;
  tables: TableLoss[];
  /** Tables the backup has no ledger for (an older manifest): only their row counts are compared. */
  untracked: string[];
  total: number;
  /**
   * The erasure ledger (routergpt.erasure_ledger), re-applied after the restore: `afterBackup`
   * erasures were made since the backup was taken (it still holds those people's data).
   */
  erasures: Array<LedgerSummary & { afterBackup: boolean }>;
}

async function tableLoss(db: Queryable, table: WriteTable, entry: LedgerEntry): Promise<TableLoss> {
  const from = `public.${quoteIdent(table.name)} t`;
  if (entry.mode === 'rows') {
    const { rows } = await db.query<{ k: string; h: string; at: string | null }>(`SELECT ${table.key} AS k, md5(t::text) AS h, t.${quoteIdent(table.time)}::text AS at FROM ${from}`);
    const now = new Map(rows.map((r) => [r.k, r]));
    const insertedKeys = rows.filter((r) => !(r.k in entry.rows)).map((r) => r.k);
    const updatedKeys = rows.filter((r) => r.k in entry.rows && entry.rows[r.k] !== r.h).map((r) => r.k);
    const deleted = Object.keys(entry.rows).filter((k) => !now.has(k)).length;
    const dates = [...insertedKeys, ...updatedKeys].map((k) => now.get(k)?.at).filter((d): d is string => Boolean(d)).sort();
    return { table: table.name, inserted: insertedKeys.length, updated: updatedKeys.length, deleted, newest: dates.at(-1) ?? null, insertedKeys, updatedKeys };
  }
  // Rows past the backup's newest identity key were inserted since; the rest were there.
  const after = entry.maxKey !== null && /^\d+$/.test(entry.maxKey) ? `${table.key} > ${entry.maxKey}` : 'true';
  const { rows } = await db.query<{ n: string; at: string | null; kept: string }>(
    `SELECT count(*) FILTER (WHERE ${after})::text AS n, max(t.${quoteIdent(table.time)}) FILTER (WHERE ${after})::text AS at, count(*) FILTER (WHERE NOT (${after}))::text AS kept FROM ${from}`,
  );
  const inserted = Number(rows[0]?.n ?? 0);
  const kept = Number(rows[0]?.kept ?? 0);
  return { table: table.name, inserted, updated: 0, deleted: Math.max(0, entry.count - kept), newest: rows[0]?.at ?? null, insertedKeys: [], updatedKeys: [] };
}

/** Compare the database now with a backup's ledger: what restoring that backup would lose. */
export async function previewLoss(db: Queryable, ledger: Ledger | undefined, takenAt: string, rowCounts: Record<string, number>): Promise<LossPreview> {
  const tables: TableLoss[] = [];
  const untracked: string[] = [];
  const run: SqlRunner = async (text) => (await db.query(text)).rows as Array<Record<string, unknown>>;
  for (const table of WRITE_TABLES) {
    if (!(await tableExists(run, table.name))) continue;
    const entry = ledger?.[table.name];
    if (entry) {
      tables.push(await tableLoss(db, table, entry));
      continue;
    }
    // Not in the backup at all (created by a later migration): every row in it is lost.
    const inBackup = table.name in rowCounts;
    const { rows } = await db.query<{ n: string; at: string | null }>(`SELECT count(*)::text AS n, max(${quoteIdent(table.time)})::text AS at FROM public.${quoteIdent(table.name)}`);
    const n = Number(rows[0]?.n ?? 0);
    if (inBackup && !ledger) untracked.push(table.name);
    tables.push({ table: table.name, inserted: inBackup ? Math.max(0, n - (rowCounts[table.name] ?? 0)) : n, updated: 0, deleted: inBackup ? Math.max(0, (rowCounts[table.name] ?? 0) - n) : 0, newest: rows[0]?.at ?? null, insertedKeys: [], updatedKeys: [] });
  }
  const erasures = (await listLedger(db)).map(({ targets: _keys, ...e }) => ({ ...e, afterBackup: e.erasedAt >= takenAt }));
  return { takenAt, tables, untracked, total: tables.reduce((sum, t) => sum + t.inserted + t.updated + t.deleted, 0), erasures };
}

/** "bookings: 1 inserted, 1 updated (newest 2026-12-01 10:02:11+00)" — one line per table that changed. */
export function describeLoss(preview: LossPreview): string[] {
  const lines = preview.tables
    .filter((t) => t.inserted + t.updated + t.deleted > 0)
    .map((t) => `lose: ${t.table}: ${[t.inserted && `${t.inserted} inserted`, t.updated && `${t.updated} updated`, t.deleted && `${t.deleted} deleted`].filter(Boolean).join(', ')} since the backup${t.newest ? ` (newest ${t.newest.slice(0, 19)})` : ''}`);
  if (preview.untracked.length) lines.push(`(the backup predates row tracking: ${preview.untracked.join(', ')} compared by row count only)`);
  const out = lines.length ? lines : [`lose: nothing written since the backup of ${preview.takenAt} (bookings, chat and analytics unchanged)`];
  return [...out, ...describeErasures(preview.erasures)];
}

/** "re-apply: erasure … of 2026-12-01 10:02 (1 session, 2 bookings) — the backup still holds it": the ledger, as the restore applies it again. */
export function describeErasures(erasures: LossPreview['erasures']): string[] {
  const after = erasures.filter((e) => e.afterBackup);
  const before = erasures.length - after.length;
  return [
    ...after.map((e) => `re-apply: erasure ${e.erasureId} of ${e.erasedAt.slice(0, 16).replace('T', ' ')} (${e.sessions} session(s), ${e.bookings} booking(s)) — the backup still holds that person's data; it is erased again right after the restore`),
    ...(before ? [`re-apply: ${before} earlier erasure(s) from the ledger (routergpt.erasure_ledger) are applied again too (the backup should not hold their data)`] : []),
  ];
}
