/**
 * routergpt's own record of privacy requests, in schema `routergpt` (outside every backup:
 * `pg_dump --exclude-schema=routergpt`), created at run time as routergpt.runs is (journal.ts):
 *
 * - routergpt.privacy_audit — one row per export and erasure: what (counts per table), when, by
 *   whom (an identity, identity.ts), and a keyed hash of the request (HMAC-SHA256 under
 *   routergpt.privacy_key of `customer:jane doe`, `session:<id>`): never the name, never an id of
 *   the person. Whoever holds the request and the database can check that a row answers it
 *   (`routergpt privacy log --customer …`); the row alone says nothing about whom.
 * - routergpt.erasure_ledger — per erasure, the keys to erase again: random session and booking
 *   ids and event ids, the keys of rows that stay in the live database anonymised (no name, no
 *   text, no client HMAC: a restored session brings its own back, and that is what is re-keyed). A restore brings back rows a backup took before the erasure; every restore
 *   re-applies the whole ledger (reapplyErasures, from db/backup/restore.ts), which is idempotent.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { registerSecret } from '../../config/mask.js';
import type { Pool, Queryable } from '../pool.js';
import { withTransaction } from '../pool.js';
import { eraseTargets, type EraseCounts } from './erase.js';
import { targetsOf, type ErasureTargets } from './subject.js';

const DOMAIN = 'routergpt-privacy-request/v1\n';

export async function ensurePrivacyTables(db: Queryable): Promise<void> {
  await db.query('CREATE SCHEMA IF NOT EXISTS routergpt');
  await db.query(`CREATE TABLE IF NOT EXISTS routergpt.privacy_key (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`);
  await db.query(`CREATE TABLE IF NOT EXISTS routergpt.privacy_audit (
    id text PRIMARY KEY,
    env text NOT NULL,
    action text NOT NULL CHECK (action IN ('export', 'erase')),
    at timestamptz NOT NULL,
    by text NOT NULL,
    by_source text NOT NULL,
    selector text NOT NULL,
    request_hmac text NOT NULL,
    counts jsonb NOT NULL,
    outside jsonb NOT NULL DEFAULT '{}'::jsonb,
    run_id text
  )`);
  await db.query(`CREATE TABLE IF NOT EXISTS routergpt.erasure_ledger (
    erasure_id text PRIMARY KEY REFERENCES routergpt.privacy_audit (id),
    erased_at timestamptz NOT NULL,
    targets jsonb NOT NULL,
    reapplied jsonb NOT NULL DEFAULT '[]'::jsonb
  )`);
}

/** The key of the request HMACs: made once per database, kept in routergpt (a restore never rewinds it). A secret. */
export async function privacyKey(db: Queryable): Promise<string> {
  await db.query('INSERT INTO routergpt.privacy_key (id, key) VALUES (true, $1) ON CONFLICT (id) DO NOTHING', [randomBytes(32).toString('hex')]);
  const { rows } = await db.query<{ key: string }>('SELECT key FROM routergpt.privacy_key');
  const key = rows[0]!.key;
  registerSecret(key);
  return key;
}

export function requestHmac(key: string, request: string): string {
  return createHmac('sha256', key).update(DOMAIN + request).digest('hex');
}

export interface AuditRecord {
  id: string;
  env: string;
  action: 'export' | 'erase';
  at: string;
  by: string;
  bySource: string;
  /** Which flag named the person (session, booking, customer) — not its value. */
  selector: string;
  requestHmac: string;
  counts: Record<string, unknown>;
  /** What was scrubbed outside the tables (files, run records), counts only. */
  outside: Record<string, number>;
  runId: string | null;
}

export async function insertAudit(db: Queryable, record: AuditRecord): Promise<void> {
  await db.query(
    `INSERT INTO routergpt.privacy_audit (id, env, action, at, by, by_source, selector, request_hmac, counts, outside, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [record.id, record.env, record.action, record.at, record.by, record.bySource, record.selector, record.requestHmac, JSON.stringify(record.counts), JSON.stringify(record.outside), record.runId],
  );
}

export async function setAuditOutside(db: Queryable, id: string, outside: Record<string, number>): Promise<void> {
  await db.query('UPDATE routergpt.privacy_audit SET outside = $2 WHERE id = $1', [id, JSON.stringify(outside)]);
}

export async function insertLedgerEntry(db: Queryable, erasureId: string, erasedAt: Date, targets: ErasureTargets): Promise<void> {
  const keys: ErasureTargets = { ...targets, clientHmacs: [] };
  await db.query('INSERT INTO routergpt.erasure_ledger (erasure_id, erased_at, targets) VALUES ($1, $2, $3)', [erasureId, erasedAt, JSON.stringify(keys)]);
}

async function hasLedger(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>(`SELECT to_regclass('routergpt.erasure_ledger') IS NOT NULL AS present`);
  return rows[0]?.present === true;
}

export async function listAudit(db: Queryable, env?: string): Promise<AuditRecord[]> {
  const { rows } = await db.query<{ present: boolean }>(`SELECT to_regclass('routergpt.privacy_audit') IS NOT NULL AS present`);
  if (!rows[0]?.present) return [];
  const result = await db.query<Record<string, unknown>>(`SELECT * FROM routergpt.privacy_audit ${env ? 'WHERE env = $1' : ''} ORDER BY at, id`, env ? [env] : []);
  return result.rows.map((r) => ({
    id: String(r.id),
    env: String(r.env),
    action: r.action as AuditRecord['action'],
    at: (r.at as Date).toISOString(),
    by: String(r.by),
    bySource: String(r.by_source),
    selector: String(r.selector),
    requestHmac: String(r.request_hmac),
    counts: r.counts as Record<string, unknown>,
    outside: r.outside as Record<string, number>,
    runId: (r.run_id as string | null) ?? null,
  }));
}

/** One erasure of the ledger, as the loss preview names it (no keys). */
export interface LedgerSummary {
  erasureId: string;
  erasedAt: string;
  sessions: number;
  bookings: number;
}

export async function listLedger(db: Queryable): Promise<Array<LedgerSummary & { targets: ErasureTargets }>> {
  if (!(await hasLedger(db))) return [];
  const { rows } = await db.query<{ erasure_id: string; erased_at: Date; targets: ErasureTargets }>('SELECT erasure_id, erased_at, targets FROM routergpt.erasure_ledger ORDER BY erased_at, erasure_id');
  return rows.map((r) => ({ erasureId: r.erasure_id, erasedAt: r.erased_at.toISOString(), sessions: r.targets.sessions.length, bookings: r.targets.bookings.length, targets: r.targets }));
}

export interface ReapplyErasuresResult {
  /** Erasures in the ledger (every one is applied again). */
  entries: number;
  /** Rows changed per table (0 everywhere: the restored data did not hold any of them). */
  changed: Record<string, number>;
  /** The tables re-applying changed, which therefore no longer match the backup's checksums. */
  tables: string[];
  /** The erasures that found something to erase again (the backup still held their data). */
  erasures: string[];
}

/**
 * After a restore: erase again everything the ledger names, in one transaction (idempotent; a
 * ledger-less database changes nothing). Each erasure that changed something notes the restore.
 */
export async function reapplyErasures(pool: Pool, options: { restoredFrom: string; now?: Date }): Promise<ReapplyErasuresResult> {
  const now = options.now ?? new Date();
  if (!(await hasLedger(pool))) return { entries: 0, changed: {}, tables: [], erasures: [] };
  return withTransaction(pool, async (client) => {
    const ledger = await listLedger(client);
    const changed: Record<string, number> = {};
    const erasures: string[] = [];
    for (const entry of ledger) {
      // What the restored rows link to now (their client HMAC, events written since the lookup), with the events recorded.
      const found = await targetsOf(client, entry.targets.sessions, entry.targets.bookings);
      const targets: ErasureTargets = { ...found, analytics: [...new Set([...found.analytics, ...entry.targets.analytics])], archive: [...new Set([...found.archive, ...entry.targets.archive])] };
      const counts: EraseCounts = await eraseTargets(client, targets, now);
      const total = Object.values(counts).reduce((sum, c) => sum + c.rows, 0);
      for (const [table, c] of Object.entries(counts)) changed[table] = (changed[table] ?? 0) + c.rows;
      if (total > 0) {
        erasures.push(entry.erasureId);
        const note = { at: now.toISOString(), restoredFrom: options.restoredFrom, rows: Object.fromEntries(Object.entries(counts).map(([t, c]) => [t, c.rows])) };
        await client.query(`UPDATE routergpt.erasure_ledger SET reapplied = reapplied || $2::jsonb WHERE erasure_id = $1`, [entry.erasureId, JSON.stringify([note])]);
      }
    }
    const tables = Object.entries(changed).filter(([, n]) => n > 0).map(([t]) => t);
    // Deleting messages or rewriting events also rewrites what the rollups were built from.
    if (tables.some((t) => t.startsWith('router_analytics'))) tables.push('router_analytics_hourly', 'router_analytics_hourly_sessions', 'router_analytics_hourly_gaps', 'router_analytics_hourly_shops', 'router_search_outcomes', 'router_search_delegations', 'router_funnel_hourly', 'router_analytics_rollup_state');
    return { entries: ledger.length, changed, tables: [...new Set(tables)], erasures };
  });
}
