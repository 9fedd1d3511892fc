import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { IO } from '../../cli/io.js';
import type { Prompter } from '../../cli/prompter.js';
import { parseAge } from '../../config/duration.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { openDatabase, type Database } from '../../db/connect.js';
import { withTransaction, type Queryable } from '../../db/pool.js';
import { backupsHolding, type BackupExposure, type PersonFootprint } from '../../db/privacy/backups.js';
import { countTargets, eraseTargets, type EraseCounts } from '../../db/privacy/erase.js';
import { collectExport, collectExportIn, countsOf, type PrivacyExport } from '../../db/privacy/export.js';
import { ensurePrivacyTables, insertAudit, insertLedgerEntry, listAudit, privacyKey, requestHmac, type AuditRecord } from '../../db/privacy/ledger.js';
import { applyFileScrub, needlesOf, planFileScrub, scrubRunRecords, type ScrubCounts } from '../../db/privacy/scrub-records.js';
import { describeGroup, findSubject, requestText, type ErasureTargets, type Selector } from '../../db/privacy/subject.js';
import { ConfigError, OperationError, UsageError } from '../../errors.js';
import { resolveIdentity, type Identity } from '../../runbook/identity.js';
import { newRunId, runsDir } from '../../runbook/journal.js';
import { loadEnvChecklist } from '../../runbook/known-ids.js';
import { acquireRunLock } from '../../runbook/lock.js';
import { journalOneStep } from '../../runbook/one-step-run.js';

export interface PrivacyOptions {
  config: EnvironmentConfig;
  io: IO;
  cwd: string;
  selector: Selector;
  /** `--as`: who is acting (identity.ts). */
  as?: string;
  now?: () => Date;
}

export interface ExportOptions extends PrivacyOptions {
  /** Write here (created 0600; an existing file is refused) instead of returning the document for stdout. */
  output?: string;
}

export interface ExportResult {
  document: PrivacyExport;
  file?: string;
  auditId: string;
}

export interface EraseOptions extends PrivacyOptions {
  dryRun: boolean;
  yes: boolean;
  prompter?: Prompter;
  /** The checklist whose backup.age max_age estimates the days until retention (default checklists/<env>.yaml). */
  checklistFile?: string;
}

export interface ErasePlan {
  env: string;
  /** Which flag named the person (its value is not repeated). */
  selector: Selector['kind'];
  person: { sessions: string[]; bookings: string[] };
  /** Per table: what happens and to how many rows. */
  tables: EraseCounts;
  /** The ids per table (sessions, bookings, events). */
  ids: { chat_sessions: string[]; bookings: string[]; router_analytics: string[]; router_analytics_archive: string[] };
  /** Files under the runs directory that would be rewritten (routergpt.runs rows are counted when it runs). */
  outside: Omit<ScrubCounts, 'runRecords'>;
  backups: BackupExposure;
}

export interface EraseResult {
  dryRun: boolean;
  plan: ErasePlan;
  /** After the erasure. */
  erased?: { runId: string; journalFile: string; auditId: string; at: string; by: string; tables: EraseCounts; outside: ScrubCounts };
}

/** Migration 013 gave chat_sessions.anonymised_at and router_analytics_archive: without them nothing can be erased as documented. */
async function requireSchema(db: Queryable, env: string): Promise<void> {
  const { rows } = await db.query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'chat_sessions' AND column_name = 'anonymised_at') AS ok`,
  );
  if (!rows[0]?.ok) throw new ConfigError(`The database of ${env} has no chat_sessions.anonymised_at: it is behind this release's migrations (013).`, `Run \`routergpt migrate up --env ${env}\` first; nothing was changed.`);
}

/** The one person the selector names; nobody is exit 1, several exit 2 with their ids only. Nothing is changed either way. */
const BY_NAME = { export: '`routergpt privacy export --customer TEXT`', erase: '`routergpt privacy erase --customer TEXT`' } as const;
const BY_ID = { export: '`routergpt privacy export --session ID` or `routergpt privacy export --booking ID`', erase: '`routergpt privacy erase --session ID` or `routergpt privacy erase --booking ID`' } as const;

async function findOne(db: Queryable, selector: Selector, command: 'export' | 'erase'): Promise<ErasureTargets> {
  const match = await findSubject(db, selector);
  if (match.kind === 'none') {
    const what = selector.kind === 'customer' ? 'No booking matches the customer name given (names are matched exactly, ignoring case)' : `No ${selector.kind === 'session' ? 'chat session' : 'booking'} has the id ${selector.value}`;
    throw new OperationError(`${what}; nothing was changed.`, selector.kind === 'customer' ? 'Check the spelling against the booking, or name the person by --session ID or --booking ID.' : `Check the id; ${BY_NAME[command]} finds a person by the name booked under.`);
  }
  if (match.kind === 'many') {
    throw new UsageError(
      `The customer name given matches ${match.groups.length} people (bookings not linked by one chat session); nothing was changed:\n  ${match.groups.map(describeGroup).join('\n  ')}`,
      `Re-run with the one meant: ${BY_ID[command]} (once per person, if all of them are meant).`,
    );
  }
  return match.targets;
}

async function footprintOf(db: Queryable, targets: ErasureTargets): Promise<PersonFootprint> {
  const { rows } = await db.query<{ since: Date | null; min_message: string | null }>(
    `SELECT least((SELECT min(created_at) FROM chat_sessions WHERE id = ANY($1::uuid[])), (SELECT min(created_at) FROM bookings WHERE id = ANY($2::uuid[]))) AS since,
            (SELECT min(id)::text FROM chat_messages WHERE session_id = ANY($1::uuid[])) AS min_message`,
    [targets.sessions, targets.bookings],
  );
  return { since: rows[0]?.since ?? null, minMessageId: rows[0]?.min_message ?? null };
}

/** The weekly review's backup.age max_age from the environment's checklist (default 8d), for "days until retention". */
function backupMaxAgeMs(config: EnvironmentConfig, cwd: string, checklistFile: string | undefined): number {
  try {
    const checklist = loadEnvChecklist(config, cwd, checklistFile);
    for (const item of checklist.phases.flatMap((p) => p.items)) {
      if (item.kind === 'check' && item.checks.includes('backup.age') && item.params.max_age !== undefined) return parseAge(String(item.params.max_age), 'backup.age params.max_age');
    }
  } catch {
    // No checklist for the environment: the check's default.
  }
  return 8 * 86_400_000;
}

function identityOf(options: PrivacyOptions): Promise<Identity> {
  return resolveIdentity({ flag: options.as, env: options.io.env, cwd: options.cwd });
}

async function audit(db: Queryable, options: PrivacyOptions, record: Omit<AuditRecord, 'requestHmac' | 'env' | 'selector'>): Promise<AuditRecord> {
  await ensurePrivacyTables(db);
  const key = await privacyKey(db);
  const full: AuditRecord = { ...record, env: options.config.name, selector: options.selector.kind, requestHmac: requestHmac(key, requestText(options.selector)) };
  await insertAudit(db, full);
  return full;
}

async function withDb<T>(config: EnvironmentConfig, fn: (db: Database) => Promise<T>): Promise<T> {
  // Three: the run lock holds one on a server, the erasure's transaction another, the journal a third.
  const db = await openDatabase(config, { applicationName: 'routergpt privacy', poolSize: 3 });
  try {
    await requireSchema(db.pool, config.name);
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Refuse an --output that exists (never overwritten silently) or whose folder does not, before reading anything. */
export function checkOutputFile(file: string, cwd: string): string {
  const full = path.resolve(cwd, file);
  if (existsSync(full)) throw new UsageError(`${file} already exists; an export never overwrites a file.`, 'Choose a new file name, or move the old export away; nothing was written.');
  if (!existsSync(path.dirname(full))) throw new UsageError(`The folder of ${file} does not exist.`, 'Create it first, or choose another --output; nothing was written.');
  return full;
}

/** `routergpt privacy export`: everything held about the person, audited (counts, no personal data). */
export async function runPrivacyExport(options: ExportOptions): Promise<ExportResult> {
  const now = options.now ?? (() => new Date());
  const file = options.output !== undefined ? checkOutputFile(options.output, options.cwd) : undefined;
  const identity = await identityOf(options);
  return withDb(options.config, async (db) => {
    const targets = await findOne(db.pool, options.selector, 'export');
    const document = await collectExport(db.pool, targets, { env: options.config.name, request: options.selector, now: now() });
    if (file) {
      // O_EXCL: created here, owner-only, or refused (a file that appeared meanwhile is not overwritten).
      let fd: number;
      try {
        fd = openSync(file, 'wx', 0o600);
      } catch (error) {
        throw new UsageError(`Could not create ${options.output}: ${(error as Error).message}.`, 'Choose another --output; nothing was written.');
      }
      try {
        writeSync(fd, `${JSON.stringify(document, null, 2)}\n`);
      } finally {
        closeSync(fd);
      }
    }
    const record = await audit(db.pool, options, { id: newRunId('privacy', now()), action: 'export', at: now().toISOString(), by: identity.id, bySource: identity.source, counts: countsOf(document), outside: {}, runId: null });
    return { document, ...(file ? { file } : {}), auditId: record.id };
  });
}

async function planOf(db: Database, options: EraseOptions, targets: ErasureTargets, now: Date): Promise<ErasePlan> {
  const document = await collectExport(db.pool, targets, { env: options.config.name, request: options.selector, now });
  const files = planFileScrub({ runsDir: runsDir(options.config.stateDir.value, options.config.name), targets, needles: needlesOf(document), now });
  const backups = backupsHolding({ dir: options.config.backupDir.value, env: options.config.name, targets, footprint: await footprintOf(db.pool, targets), retention: options.config.backupRetention.value, maxAgeMs: backupMaxAgeMs(options.config, options.cwd, options.checklistFile), erasedAt: now });
  return {
    env: options.config.name,
    selector: options.selector.kind,
    person: { sessions: targets.sessions, bookings: targets.bookings },
    tables: await countTargets(db.pool, targets),
    ids: { chat_sessions: targets.sessions, bookings: targets.bookings, router_analytics: targets.analytics, router_analytics_archive: targets.archive },
    outside: files.counts,
    backups,
  };
}

/** The confirmation question: counts and ids, never the name. */
export function confirmationOf(plan: ErasePlan): string {
  const rows = Object.entries(plan.tables).filter(([, c]) => c.rows > 0).map(([t, c]) => `${t}: ${c.rows} ${c.action}`);
  return `Erase the data of one person on ${plan.env} (session(s) ${plan.person.sessions.join(', ') || 'none'}; booking(s) ${plan.person.bookings.join(', ') || 'none'}): ${rows.join(', ')}?`;
}

/**
 * `routergpt privacy erase`: in ONE transaction the person's rows are removed or anonymised
 * (erase.ts), routergpt.runs scrubbed, the audit record and the ledger entry written; the run
 * journals, purge records and kept-writes files are rewritten just before it commits. Journaled
 * as a `privacy` run under the environment's run lock.
 */
export async function runPrivacyErase(options: EraseOptions): Promise<EraseResult> {
  const { config, io } = options;
  const now = options.now ?? (() => new Date());
  const identity = await identityOf(options);
  return withDb(config, async (db) => {
    const first = await findOne(db.pool, options.selector, 'erase');
    const plan = await planOf(db, options, first, now());
    if (options.dryRun) return { dryRun: true, plan };
    const { confirmOrThrow } = await import('../../cli/confirm.js');
    await confirmOrThrow({ io, yes: options.yes, ...(config.protected.value ? { typed: config.name } : {}), message: confirmationOf(plan), ...(options.prompter ? { prompter: options.prompter } : {}) });

    const dir = runsDir(config.stateDir.value, config.name);
    const id = newRunId('privacy', now());
    const lock = await acquireRunLock({ pool: db.pool, embedded: db.kind === 'embedded', env: config.name, dir, runId: id, by: identity.id });
    try {
      const done = await journalOneStep(
        { id, kind: 'privacy', env: config.name, stateDir: config.stateDir.value, db: db.pool, itemId: 'privacy.erase', phase: 'privacy', title: "Erase one person's data (privacy erase)", command: 'privacy erase', startedBy: identity.id, now, onWarning: (line) => io.stderr.write(`${line}\n`), notify: config.notify.value },
        async (runId) => {
          const at = now();
          const result = await withTransaction(db.pool, async (client) => {
            // Found again inside the transaction: what was confirmed may have changed meanwhile.
            const targets = await findOne(client, options.selector, 'erase');
            if (targets.sessions.join() !== first.sessions.join() || targets.bookings.join() !== first.bookings.join()) {
              throw new OperationError("The person's sessions or bookings changed since the plan was shown; nothing was erased.", 'Run the erase again and confirm the new plan (`--dry-run` shows it).');
            }
            const document = await collectExportIn(client, targets, { env: config.name, request: options.selector, now: at });
            const tables = await eraseTargets(client, targets, at);
            const files = planFileScrub({ runsDir: dir, targets, needles: needlesOf(document), now: at });
            const runRecords = await scrubRunRecords(client, files);
            const outside: ScrubCounts = { ...files.counts, runRecords };
            const counts = Object.fromEntries(Object.entries(tables).map(([t, c]) => [t, { action: c.action, rows: c.rows }]));
            const record = await audit(client, options, { id: runId, action: 'erase', at: at.toISOString(), by: identity.id, bySource: identity.source, counts, outside: { ...outside }, runId });
            await insertLedgerEntry(client, record.id, at, targets);
            // Files last, before COMMIT: if writing one fails, nothing is erased; once written, the commit follows.
            applyFileScrub(files);
            return { tables, outside, auditId: record.id };
          });
          const summary = Object.entries(result.tables).filter(([, c]) => c.rows > 0).map(([t, c]) => `${t}: ${c.rows} ${c.action}`).join(', ');
          return {
            value: { auditId: result.auditId, at: at.toISOString(), tables: result.tables, outside: result.outside },
            state: 'done',
            summary: `Erased one person's data (${summary || 'nothing left to change'})`,
            details: [`audit record ${result.auditId} in routergpt.privacy_audit; ledger entry in routergpt.erasure_ledger (re-applied after every restore)`],
            outputs: { auditId: result.auditId, tables: Object.fromEntries(Object.entries(result.tables).map(([t, c]) => [t, c.rows])), outside: result.outside },
          };
        },
      );
      return { dryRun: false, plan, erased: { runId: done.runId, journalFile: done.journalFile, auditId: done.auditId, at: done.at, by: identity.id, tables: done.tables, outside: done.outside } };
    } finally {
      await lock.release();
    }
  });
}

/** `routergpt privacy log`: the audit records (no personal data); with a selector, only those that answer that request (by its keyed hash). */
export async function runPrivacyLog(options: Omit<PrivacyOptions, 'selector'> & { selector?: Selector }): Promise<{ env: string; records: AuditRecord[] }> {
  return withDb(options.config, async (db) => {
    let records = await listAudit(db.pool, options.config.name);
    if (options.selector && records.length) {
      const hmac = requestHmac(await privacyKey(db.pool), requestText(options.selector));
      records = records.filter((r) => r.requestHmac === hmac);
    }
    return { env: options.config.name, records };
  });
}
