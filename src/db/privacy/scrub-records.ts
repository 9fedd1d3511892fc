/**
 * What routergpt keeps outside the tables that can hold a person's data, scrubbed by an erasure:
 *
 * - run journals (`<stateDir>/runs/<env>/*.json`) and their copies in routergpt.runs — item
 *   summaries, details and outputs (a rollback's "kept: booking …" lines, anything a step logged);
 * - purge records (`<run>/purge-*.json`, db.purge-test-data): full rows of what a purge deleted,
 *   which a purge rollback re-inserts — the person's rows in them are erased as in the tables (a
 *   message dropped, a session anonymised, a name removed) and the record's SHA-256 in its run's
 *   journal is updated, so the rollback still accepts the record;
 * - kept-writes exports (`<run>/kept-writes.json`, rollback --keep-writes) — the same;
 * - any other file of a run's directory (the local API's server.log): text replaced.
 *
 * Structured rows are erased by key; everything else by the person's text (their names, what
 * they wrote, their intents), replaced with "[erased]". Random ids stay: they key rows that stay
 * in the live database, anonymised.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Queryable } from '../pool.js';
import { KEEP_PAYLOAD_KEYS } from './erase.js';
import type { PrivacyExport } from './export.js';
import type { ErasureTargets } from './subject.js';

export const ERASED = '[erased]';

export interface ScrubCounts {
  journalFiles: number;
  purgeRecords: number;
  keptWrites: number;
  otherFiles: number;
  runRecords: number;
}

export interface Needles {
  names: string[];
  texts: string[];
}

/** The person's text to look for outside the tables: names (whole words, any case), and what they wrote (exact, 8+ characters). */
export function needlesOf(doc: PrivacyExport): Needles {
  const rows = (t: string) => doc.tables[t] ?? [];
  const names = [...new Set(rows('bookings').map((b) => b.customer_name).filter((n): n is string => typeof n === 'string' && n.trim() !== '').map((n) => n.trim()))];
  const texts = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.trim().length >= 8) texts.add(v.trim());
    else if (v && typeof v === 'object') for (const x of Object.values(v)) add(x);
  };
  for (const m of rows('chat_messages')) if (m.role === 'user') add(m.content);
  for (const s of rows('chat_sessions')) {
    add(s.intent);
    add(s.router_context);
  }
  for (const f of rows('router_feedback')) add(f.comment);
  for (const s of rows('chat_sessions')) if (typeof s.client_hmac === 'string') texts.add(s.client_hmac);
  return { names, texts: [...texts].sort((a, b) => b.length - a.length) };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function textScrubber(needles: Needles): (text: string) => string {
  // What they wrote first (it may contain their name: replaced whole, not around a name already gone), longest first.
  const patterns: RegExp[] = [];
  if (needles.texts.length) patterns.push(new RegExp(needles.texts.map(escape).join('|'), 'gu'));
  if (needles.names.length) patterns.push(new RegExp(`(?<![\\p{L}\\p{N}])(?:${needles.names.map(escape).join('|')})(?![\\p{L}\\p{N}])`, 'giu'));
  return (text) => patterns.reduce((t, re) => t.replace(re, ERASED), text);
}

/** Every string in a JSON value through `scrub` (keys too: a table keyed by name would keep it). */
function walk(value: unknown, scrub: (s: string) => string): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, scrub));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrub(k), walk(v, scrub)]));
  return value;
}

type Row = Record<string, unknown>;

/** One table's rows from a record (purge, kept writes), erased as eraseTargets erases the table. */
export function eraseRows(table: string, rows: Row[], targets: ErasureTargets, now: Date): Row[] {
  const sessions = new Set(targets.sessions);
  const bookings = new Set(targets.bookings);
  const events = new Set([...targets.analytics, ...targets.archive]);
  switch (table) {
    case 'chat_messages':
    case 'router_feedback':
      return rows.filter((r) => !sessions.has(String(r.session_id)));
    case 'chat_sessions':
      return rows.map((r) => (sessions.has(String(r.id)) ? { ...r, intent: null, router_context: {}, search_id: null, client_hmac: null, anonymised_at: r.anonymised_at ?? now.toISOString() } : r));
    case 'bookings':
      return rows.map((r) => (bookings.has(String(r.id)) ? { ...r, customer_name: null, ...('customer_phone' in r ? { customer_phone: null } : {}) } : r));
    case 'router_analytics':
    case 'router_analytics_archive':
      return rows.map((r) => {
        if (!events.has(String(r.id)) && !sessions.has(String(r.session_id))) return r;
        const payload = Object.fromEntries(Object.entries((r.payload ?? {}) as Row).filter(([k]) => (KEEP_PAYLOAD_KEYS as readonly string[]).includes(k)));
        return { ...r, session_id: null, search_id: null, payload: { ...payload, erased: true } };
      });
    default:
      return rows;
  }
}

function writeAtomically(file: string, text: string): void {
  const aside = `${file}.${process.pid}.scrub.tmp`;
  writeFileSync(aside, text, { mode: statSync(file).mode & 0o777 });
  renameSync(aside, file);
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(full);
    return e.isFile() && !e.name.endsWith('.tmp') && e.name !== 'run.lock' ? [full] : [];
  });
}

interface PurgeRecordShape {
  step: string;
  rows: Record<string, Row[]>;
}
interface KeptWritesShape {
  chatSessions: Row[];
  bookings: Array<{ row: Row; slots: Row[]; change: string }>;
  chatMessages: Row[];
}

const isPurgeRecord = (v: unknown): v is PurgeRecordShape => typeof v === 'object' && v !== null && (v as PurgeRecordShape).step === 'db.purge-test-data' && typeof (v as PurgeRecordShape).rows === 'object';
const isKeptWrites = (v: unknown): v is KeptWritesShape => typeof v === 'object' && v !== null && Array.isArray((v as KeptWritesShape).chatSessions) && Array.isArray((v as KeptWritesShape).chatMessages) && Array.isArray((v as KeptWritesShape).bookings);
const isRunRecord = (v: unknown): v is { schema: string; items: Array<{ outputs?: Row }> } => typeof v === 'object' && v !== null && (v as { schema?: string }).schema === 'routergpt.run/v1';

/** A run record with its purge items pointing at rewritten records given their new SHA-256. */
function withNewPurgeHashes<T>(record: T, hashes: Map<string, string>): T {
  if (!isRunRecord(record) || hashes.size === 0) return record;
  return {
    ...record,
    items: record.items.map((item) => {
      const file = item.outputs?.record;
      const sha = typeof file === 'string' ? hashes.get(path.resolve(file)) : undefined;
      return sha ? { ...item, outputs: { ...item.outputs, recordSha256: sha } } : item;
    }),
  } as T;
}

/** The files an erasure rewrites, worked out before anything is written. */
export interface FileScrubPlan {
  writes: Array<{ file: string; text: string }>;
  /** New SHA-256 of each rewritten purge record (absolute path), for the journals that point at it. */
  hashes: Map<string, string>;
  counts: Omit<ScrubCounts, 'runRecords'>;
  scrub: (text: string) => string;
}

/** What scrubbing the environment's run directory would rewrite (nothing is written). */
export function planFileScrub(options: { runsDir: string; targets: ErasureTargets; needles: Needles; now: Date }): FileScrubPlan {
  const { targets, now } = options;
  const scrub = textScrubber(options.needles);
  const counts = { journalFiles: 0, purgeRecords: 0, keptWrites: 0, otherFiles: 0 };
  const writes: FileScrubPlan['writes'] = [];
  const hashes = new Map<string, string>();
  const journals: Array<{ file: string; text: string; value: unknown }> = [];
  for (const file of filesUnder(options.runsDir)) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.json')) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      if (isRunRecord(value)) {
        journals.push({ file, text, value });
        continue;
      }
      if (isPurgeRecord(value)) {
        const rows = Object.fromEntries(Object.entries(value.rows).map(([t, r]) => [t, eraseRows(t, r, targets, now)]));
        // The purge step writes `JSON.stringify(record, null, 1)`: kept so, and hashed as its rollback checks.
        const out = `${JSON.stringify(walk({ ...value, rows }, scrub), null, 1)}\n`;
        if (out !== text) {
          writes.push({ file, text: out });
          hashes.set(path.resolve(file), createHash('sha256').update(out).digest('hex'));
          counts.purgeRecords += 1;
        }
        continue;
      }
      if (isKeptWrites(value)) {
        const next = {
          ...value,
          chatSessions: eraseRows('chat_sessions', value.chatSessions, targets, now),
          chatMessages: eraseRows('chat_messages', value.chatMessages, targets, now),
          bookings: value.bookings.map((b) => ({ ...b, row: eraseRows('bookings', [b.row], targets, now)[0] })),
        };
        const out = `${JSON.stringify(walk(next, scrub), null, 2)}\n`;
        if (out !== text) {
          writes.push({ file, text: out });
          counts.keptWrites += 1;
        }
        continue;
      }
    }
    if (text.includes('\u0000')) continue;
    const out = scrub(text);
    if (out !== text) {
      writes.push({ file, text: out });
      counts.otherFiles += 1;
    }
  }
  for (const { file, text, value } of journals) {
    const out = `${JSON.stringify(walk(withNewPurgeHashes(value, hashes), scrub), null, 2)}\n`;
    if (out !== text) {
      writes.push({ file, text: out });
      counts.journalFiles += 1;
    }
  }
  return { writes, hashes, counts, scrub };
}

export function applyFileScrub(plan: FileScrubPlan): void {
  for (const { file, text } of plan.writes) writeAtomically(file, text);
}

/** routergpt.runs (every row: the table is per database), as the journal files are scrubbed. Returns the rows changed. */
export async function scrubRunRecords(db: Queryable, plan: Pick<FileScrubPlan, 'hashes' | 'scrub'>): Promise<number> {
  return scrubRunRows(db, (record) => walk(withNewPurgeHashes(record, plan.hashes), plan.scrub));
}

async function scrubRunRows(db: Queryable, transform: (record: unknown) => unknown): Promise<number> {
  const { rows: present } = await db.query<{ present: boolean }>(`SELECT to_regclass('routergpt.runs') IS NOT NULL AS present`);
  if (!present[0]?.present) return 0;
  const { rows } = await db.query<{ id: string; record: unknown; approvals: unknown }>('SELECT id, record, approvals FROM routergpt.runs');
  let changed = 0;
  for (const row of rows) {
    const record = transform(row.record);
    const approvals = transform(row.approvals);
    if (JSON.stringify(record) === JSON.stringify(row.record) && JSON.stringify(approvals) === JSON.stringify(row.approvals)) continue;
    await db.query('UPDATE routergpt.runs SET record = $2, approvals = $3 WHERE id = $1', [row.id, JSON.stringify(record), JSON.stringify(approvals)]);
    changed += 1;
  }
  return changed;
}
