/**
 * `routergpt privacy erase` on a real PostgreSQL, through the real CLI: refusals that change
 * nothing (several people, nobody, no terminal), the dry run, the erasure itself — no trace of the
 * person's name or words in any text or json column of schemas public and routergpt, nor in the
 * run journals, purge records and kept-writes exports on disk — the audit record without personal
 * data, the backups still holding the data, and a restore of an older backup that erases them again
 * (its loss preview lists the erasure).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumTables } from '../../src/db/backup/checksums.js';
import { openDatabase } from '../../src/db/connect.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { dbRestoreStep } from '../../src/steps/db/restore.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import { runCli } from '../helpers/cli.js';
import { person, personSql, scanSql, TEXT_COLUMNS_SQL, type Person } from '../helpers/privacy-fixture.js';
import { createWorkspace, type Workspace } from '../helpers/workspace.js';
import { realConfig, stepContext } from '../steps/context.js';
import { scriptedPrompter } from '../helpers/prompter.js';
import { runPrivacyErase } from '../../src/commands/privacy/run-privacy.js';
import { CancelledError } from '../../src/errors.js';

const DPO = 'dpo@example.com';

/** Where each needle (any case) appears: `schema.table.column` per hit. */
async function scan(pool: Pool, needles: readonly string[]): Promise<string[]> {
  const { rows: columns } = await pool.query<{ schema: string; table: string; column: string }>(TEXT_COLUMNS_SQL);
  const hits: string[] = [];
  for (const c of columns) {
    for (const needle of needles) {
      const { rows } = await pool.query<{ n: number }>(scanSql(c.schema, c.table, c.column), [needle]);
      if (rows[0]!.n > 0) hits.push(`${c.schema}.${c.table}.${c.column} holds ${JSON.stringify(needle)}`);
    }
  }
  return hits;
}

const traceOf = (p: Person) => [p.name, ...p.texts, p.token];

describe('routergpt privacy erase on a real PostgreSQL', () => {
  let ws: Workspace;
  let pool: Pool;
  const cli = (args: string[]) => runCli(['--as', DPO, ...args], { cwd: ws.dir, env: ws.env });
  // Two people booked under one name (one via a chat, one without), and someone else.
  const zelda = person('Zelda Quixote');
  const namesake = person('zelda QUIXOTE', { withSession: false });
  const other = person('Oscar Control');
  let backupFile: string;
  let runsDir: string;
  let purgeFile: string;
  let keptFile: string;
  let journalFile: string;
  let logFile: string;
  const erased: string[] = [];

  beforeAll(async () => {
    ws = await createWorkspace({ withServer: false });
    expect((await cli(['migrate', 'up', '--yes'])).exitCode).toBe(0);
    expect((await cli(['db', 'seed', '--demo'])).exitCode).toBe(0);
    pool = createPool({ connectionString: ws.db.url, max: 2 });
    await pool.query([personSql(zelda), personSql(namesake), personSql(other, 1)].join('\n'));
    // A backup that holds the data (taken after it was written, before the erasure).
    const backup = await cli(['backup', '--label', 'before-erasure', '--json']);
    expect(backup.exitCode, backup.stderr).toBe(0);
    backupFile = (JSON.parse(backup.stdout) as { file: string }).file;

    // What routergpt keeps outside the tables: a deploy that purged Zelda's rows with its record,
    // a rollback's kept-writes export, the local API's log, and the runs table's copy of the journal.
    runsDir = path.join(ws.dir, '.routergpt', 'runs', 'staging');
    const row = async (sql: string, values: unknown[]) => (await pool.query<{ r: Record<string, unknown> }>(sql, values)).rows.map((r) => r.r);
    const sessionRows = await row('SELECT to_jsonb(t) AS r FROM chat_sessions t WHERE id = $1', [zelda.session]);
    const messageRows = await row('SELECT to_jsonb(t) AS r FROM chat_messages t WHERE session_id = $1 ORDER BY id', [zelda.session]);
    const bookingRows = await row('SELECT to_jsonb(t) AS r FROM bookings t WHERE id = $1', [zelda.booking]);
    const runId = '20261130T120000Z-deploy-ab12';
    mkdirSync(path.join(runsDir, runId), { recursive: true });
    purgeFile = path.join(runsDir, runId, 'purge-20261130T120100000Z.json');
    const purgeText = `${JSON.stringify({ step: 'db.purge-test-data', runId, createdAt: '2026-11-30T12:01:00.000Z', shopIds: ['1'], rows: { chat_sessions: sessionRows, chat_messages: messageRows, bookings: bookingRows }, nulled: [] }, null, 1)}\n`;
    writeFileSync(purgeFile, purgeText, { mode: 0o600 });
    keptFile = path.join(runsDir, '20261130T130000Z-rollback-cd34', 'kept-writes.json');
    mkdirSync(path.dirname(keptFile), { recursive: true });
    writeFileSync(keptFile, `${JSON.stringify({ takenAt: '2026-11-30T13:00:00.000Z', chatSessions: sessionRows, bookings: [{ row: bookingRows[0], slots: [], change: 'inserted' }], chatMessages: messageRows }, null, 2)}\n`, { mode: 0o600 });
    logFile = path.join(runsDir, runId, 'server.log');
    writeFileSync(logFile, `{"level":30,"msg":"[BOOKING] booked for ${zelda.name}"}\n{"level":30,"msg":"[ROUTER] search found 2 shop(s)"}\n`);
    const record: RunRecord = {
      schema: 'routergpt.run/v1', id: runId, kind: 'deploy', env: 'staging', checklist: { name: 'loopback', file: 'loopback.yaml' }, status: 'succeeded',
      startedAt: '2026-11-30T12:00:00.000Z', finishedAt: '2026-11-30T12:05:00.000Z', startedBy: 'ops@example.com', host: 'h', pid: 1, resumes: [],
      items: [{ id: 'db.purge-test-data', kind: 'step', phase: 'data', title: 'purge', state: 'done', attempts: 1, summary: 'Deleted 1 test shop(s)', details: [`a note about ${zelda.name.toUpperCase()}`, `message: ${zelda.texts[0]}`], outputs: { record: purgeFile, recordSha256: createHash('sha256').update(purgeText).digest('hex'), deletedIds: ['1'] } }],
    };
    journalFile = path.join(runsDir, `${runId}.json`);
    writeFileSync(journalFile, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    await pool.query(`INSERT INTO routergpt.runs (id, kind, env, status, started_at, finished_at, started_by, record) VALUES ($1, 'deploy', 'staging', 'succeeded', $2, $3, 'ops@example.com', $4)`, [runId, record.startedAt, record.finishedAt, JSON.stringify(record)]);
  }, 180_000);

  afterAll(async () => {
    await pool?.end();
    await ws?.stop();
  });

  const fingerprint = async () => ({ tables: await checksumTables(pool), files: [journalFile, purgeFile, keptFile, logFile].map((f) => readFileSync(f, 'utf8')) });

  it('a name two unlinked people booked under is refused with their ids only (exit 2); nothing changes', async () => {
    const before = await fingerprint();
    const result = await cli(['privacy', 'erase', '--customer', 'ZELDA quixote', '--yes']);
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toContain('matches 2 people');
    // Listed in booking order (the same instant here: any order), ids only.
    expect(result.stderr).toMatch(new RegExp(`^  person [12]: session ${zelda.session}; booking\\(s\\) ${zelda.booking}$`, 'm'));
    expect(result.stderr).toMatch(new RegExp(`^  person [12]: no chat session; booking\\(s\\) ${namesake.booking}$`, 'm'));
    expect(result.stderr).toMatch(/→ Re-run with the one meant: `routergpt privacy erase --session ID`/);
    expect(`${result.stdout}${result.stderr}`.toLowerCase()).not.toContain('zelda');
    expect(await fingerprint()).toEqual(before);
  });

  it('nobody matched is exit 1, a malformed id exit 2, and without a terminal --yes is required (exit 2); nothing changes', async () => {
    const before = await fingerprint();
    const nobody = await cli(['privacy', 'erase', '--customer', 'Nobody Atall', '--yes']);
    expect(nobody.exitCode, nobody.stderr).toBe(1);
    expect(nobody.stderr).toContain('No booking matches the customer name given');
    const unknown = await cli(['privacy', 'erase', '--session', '00000000-0000-4000-8000-000000000000', '--yes']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('No chat session has the id 00000000-0000-4000-8000-000000000000');
    const bad = await cli(['privacy', 'erase', '--booking', 'twelve', '--yes']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--booking "twelve" is not a booking id');
    const two = await cli(['privacy', 'erase', '--booking', zelda.booking, '--session', zelda.session!, '--yes']);
    expect(two.exitCode).toBe(2);
    expect(two.stderr).toContain('Give one of --session, --booking and --customer, not --session and --booking');
    const unconfirmed = await cli(['privacy', 'erase', '--session', zelda.session!]);
    expect(unconfirmed.exitCode, unconfirmed.stderr).toBe(2);
    expect(unconfirmed.stderr).toContain('there is no terminal to ask on');
    expect(unconfirmed.stderr).toContain('Re-run with --yes');
    expect(await fingerprint()).toEqual(before);
  });

  it('--dry-run shows the counts and ids per table, the files and the backups holding the data, and changes nothing', async () => {
    const before = await fingerprint();
    const result = await cli(['privacy', 'erase', '--session', zelda.session!, '--dry-run', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const { dryRun, plan } = JSON.parse(result.stdout) as { dryRun: boolean; plan: { person: { sessions: string[]; bookings: string[] }; tables: Record<string, { action: string; rows: number }>; ids: Record<string, string[]>; outside: Record<string, number>; backups: { retention: number; holding: Array<{ file: string; backupsUntilDeleted: number; daysUntilDeletedAtMost: number; by: string }> } } };
    expect(dryRun).toBe(true);
    expect(plan.person).toEqual({ sessions: [zelda.session], bookings: [zelda.booking] });
    expect(plan.tables).toEqual({
      chat_messages: { action: 'deleted', rows: 4 },
      router_feedback: { action: 'deleted', rows: 1 },
      chat_sessions: { action: 'anonymised', rows: 1 },
      bookings: { action: 'name removed', rows: 1 },
      router_analytics: { action: 'scrubbed', rows: 5 },
      router_analytics_archive: { action: 'scrubbed', rows: 1 },
      router_refusals: { action: 're-keyed', rows: 1 },
    });
    expect(plan.ids.router_analytics).toHaveLength(5);
    expect(plan.outside).toEqual({ journalFiles: 1, purgeRecords: 1, keptWrites: 1, otherFiles: 1 });
    // The one backup (retention 5, the newest): five more backups until retention deletes it; backup.age's 8 days each at most.
    expect(plan.backups.holding).toEqual([{ file: backupFile, createdAt: expect.any(String), label: 'before-erasure', by: 'ledger', backupsUntilDeleted: 5, daysUntilDeletedAtMost: 40 }]);
    const human = await cli(['privacy', 'erase', '--session', zelda.session!, '--dry-run']);
    expect(human.stdout).toMatch(/^Dry run — would erase the data of one person on staging \(nothing was changed\):$/m);
    expect(human.stdout).toMatch(/^ {2}chat_messages +4 deleted$/m);
    expect(human.stdout).toContain(`${backupFile} (taken `);
    expect(human.stdout.toLowerCase()).not.toContain('zelda');
    expect(await fingerprint()).toEqual(before);
  });

  it('erases the person by --booking in one run: no trace of their name or words is left in the live database or on disk; the other person stays', async () => {
    const result = await cli(['privacy', 'erase', '--booking', zelda.booking, '--yes', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { erased: { runId: string; auditId: string; by: string; tables: Record<string, { rows: number }>; outside: Record<string, number> } };
    erased.push(out.erased.auditId);
    expect(out.erased.by).toBe(DPO);
    expect(Object.fromEntries(Object.entries(out.erased.tables).map(([t, c]) => [t, c.rows]))).toEqual({ chat_messages: 4, router_feedback: 1, chat_sessions: 1, bookings: 1, router_analytics: 5, router_analytics_archive: 1, router_refusals: 1 });
    expect(out.erased.outside).toEqual({ journalFiles: 1, purgeRecords: 1, keptWrites: 1, otherFiles: 1, runRecords: 1 });

    // The namesake is another person: now the name is theirs alone, and --customer erases them.
    const second = await cli(['privacy', 'erase', '--customer', 'Zelda Quixote', '--yes', '--json']);
    expect(second.exitCode, second.stderr).toBe(0);
    erased.push((JSON.parse(second.stdout) as { erased: { auditId: string } }).erased.auditId);

    expect(await scan(pool, [...traceOf(zelda), zelda.clientHmac, ...traceOf(namesake)])).toEqual([]);
    // What stays: the session (anonymised) and the booking (for the shop's schedule, its slots too).
    const [session] = (await pool.query('SELECT intent, router_context, search_id, client_hmac, anonymised_at FROM chat_sessions WHERE id = $1', [zelda.session])).rows;
    expect(session).toMatchObject({ intent: null, router_context: {}, search_id: null, client_hmac: null, anonymised_at: expect.any(Date) });
    expect((await pool.query('SELECT customer_name, status FROM bookings WHERE id = ANY($1)', [[zelda.booking, namesake.booking]])).rows).toEqual([{ customer_name: null, status: 'confirmed' }, { customer_name: null, status: 'confirmed' }]);
    expect((await pool.query('SELECT count(*)::int AS n FROM booking_slots WHERE booking_id = $1', [zelda.booking])).rows[0].n).toBe(2);
    const events = (await pool.query<{ session_id: string | null; search_id: string | null; payload: Record<string, unknown> }>(`SELECT session_id, search_id, payload FROM router_analytics WHERE payload @> '{"erased": true}' ORDER BY id`)).rows;
    expect(events.map((e) => [e.session_id, e.search_id])).toEqual(Array(5).fill([null, null]));
    expect(events.map((e) => Object.keys(e.payload).sort())).toEqual([['category', 'erased', 'radius_miles', 'result_count', 'shop_ids'], ['erased', 'source'], ['assistant', 'booked', 'erased'], ['erased', 'service'], ['erased', 'has_comment', 'rating', 'replaced']]);
    const refusals = (await pool.query<{ client_hmac: string; count: number }>('SELECT client_hmac, count FROM router_refusals')).rows;
    expect(refusals).toHaveLength(2);
    expect(refusals).toEqual(expect.arrayContaining([{ client_hmac: other.clientHmac, count: 4 }, { client_hmac: 'overflow', count: 4 }]));
    // The other person is untouched.
    expect((await scan(pool, [other.name, ...other.texts])).length).toBeGreaterThan(0);
    expect((await pool.query('SELECT count(*)::int AS n FROM chat_messages WHERE session_id = $1', [other.session])).rows[0].n).toBe(4);

    // On disk: journals, the purge record (still accepted by its rollback), the kept writes, the log.
    const onDisk = [journalFile, purgeFile, keptFile, logFile].map((f) => readFileSync(f, 'utf8')).join('\n').toLowerCase();
    for (const needle of [...traceOf(zelda), zelda.clientHmac]) expect(onDisk).not.toContain(needle.toLowerCase());
    const purge = JSON.parse(readFileSync(purgeFile, 'utf8')) as { rows: Record<string, Array<Record<string, unknown>>> };
    expect(purge.rows.chat_messages).toEqual([]);
    expect(purge.rows.chat_sessions![0]).toMatchObject({ id: zelda.session, intent: null, router_context: {}, client_hmac: null });
    expect(purge.rows.bookings![0]).toMatchObject({ id: zelda.booking, customer_name: null });
    const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as RunRecord;
    expect(journal.items[0]!.outputs!.recordSha256).toBe(createHash('sha256').update(readFileSync(purgeFile, 'utf8')).digest('hex'));
    expect(journal.items[0]!.details).toEqual(['a note about [erased]', 'message: [erased]']);
    const kept = JSON.parse(readFileSync(keptFile, 'utf8')) as { chatMessages: unknown[]; bookings: Array<{ row: { customer_name: string | null } }> };
    expect(kept.chatMessages).toEqual([]);
    expect(kept.bookings[0]!.row.customer_name).toBeNull();
    // The erase is a journaled privacy run, and its own journal says nothing about whom.
    const run = JSON.parse(readFileSync(path.join(runsDir, `${out.erased.runId}.json`), 'utf8')) as RunRecord;
    expect(run).toMatchObject({ kind: 'privacy', status: 'succeeded', startedBy: DPO, items: [{ id: 'privacy.erase', state: 'done' }] });
    expect(JSON.stringify(run).toLowerCase()).not.toContain('zelda');
  }, 60_000);

  it('the audit records hold counts, when, by whom and a keyed hash of the request — no personal data — and `privacy log` finds a request by it', async () => {
    const { rows } = await pool.query<{ r: Record<string, unknown> }>(`SELECT to_jsonb(a) AS r FROM routergpt.privacy_audit a WHERE action = 'erase' ORDER BY at`);
    expect(rows.map((r) => r.r.id)).toEqual(erased);
    const text = JSON.stringify(rows).toLowerCase();
    for (const needle of [...traceOf(zelda), zelda.session!, zelda.booking, zelda.clientHmac, namesake.booking, 'quixote']) expect(text).not.toContain(needle.toLowerCase());
    expect(rows[0]!.r).toMatchObject({ env: 'staging', action: 'erase', by: DPO, by_source: 'flag', selector: 'booking', request_hmac: expect.stringMatching(/^[0-9a-f]{64}$/), counts: { chat_messages: { action: 'deleted', rows: 4 } } });
    const log = await cli(['privacy', 'log', '--customer', 'ZELDA QUIXOTE', '--json']);
    expect(log.exitCode, log.stderr).toBe(0);
    expect((JSON.parse(log.stdout) as { records: Array<{ id: string }> }).records.map((r) => r.id)).toEqual([erased[1]]);
    const byBooking = await cli(['privacy', 'log', '--booking', zelda.booking, '--json']);
    expect((JSON.parse(byBooking.stdout) as { records: Array<{ id: string }> }).records.map((r) => r.id)).toEqual([erased[0]]);
    // The ledger holds keys only (random ids, event ids, client HMACs), no name or text.
    const ledger = JSON.stringify((await pool.query('SELECT targets FROM routergpt.erasure_ledger')).rows).toLowerCase();
    for (const needle of traceOf(zelda)) expect(ledger).not.toContain(needle.toLowerCase());
  });

  it('a restore of the backup taken before the erasure lists the erasures in its loss preview and erases the people again', async () => {
    const preview = await cli(['rollback', '--tier', 'restore', '--backup', backupFile, '--dry-run']);
    expect(preview.exitCode, preview.stderr).toBe(0);
    for (const id of erased) expect(`${preview.stdout}${preview.stderr}`).toMatch(new RegExp(`re-apply: erasure ${id} of .* — the backup still holds that person's data; it is erased again right after the restore`));
    const rollback = await cli(['rollback', '--tier', 'restore', '--backup', backupFile, '--yes', '--no-verify']);
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    expect(rollback.stderr).toContain('re-applied 2 erasure(s) from the ledger');
    expect(await scan(pool, [...traceOf(zelda), zelda.clientHmac, ...traceOf(namesake)])).toEqual([]);
    expect((await pool.query('SELECT count(*)::int AS n FROM chat_messages WHERE session_id = $1', [other.session])).rows[0].n).toBe(4);
    const { rows } = await pool.query<{ reapplied: Array<{ restoredFrom: string; rows: Record<string, number> }> }>('SELECT reapplied FROM routergpt.erasure_ledger ORDER BY erased_at');
    expect(rows[0]!.reapplied).toEqual([{ at: expect.any(String), restoredFrom: path.basename(backupFile), rows: expect.objectContaining({ chat_messages: 4, bookings: 1 }) }]);
  }, 120_000);

  it('the db.restore step re-applies the ledger too, and its verification leaves the tables it changed out, naming them', async () => {
    const config = realConfig(ws.db.url);
    const db = await openDatabase(config, { poolSize: 2 });
    try {
      const ctx = stepContext(config, db, { params: { manifest: `${backupFile}.manifest.json` } });
      const restored = await dbRestoreStep.run(ctx);
      expect(restored.summary).toMatch(/re-applied 2 erasure\(s\) from the ledger \(routergpt\.erasure_ledger\) that the backup predates/);
      expect(restored.outputs?.erasuresReapplied).toEqual(erased);
      const verdict = await dbRestoreStep.verify!(ctx, restored);
      expect(verdict.status, JSON.stringify(verdict)).toBe('pass');
      expect(verdict.details?.join('\n')).toMatch(/^not compared: .*chat_messages.*bookings.* \(erasures re-applied after the restore\)$/m);
    } finally {
      await db.close();
    }
    expect(await scan(pool, [...traceOf(zelda), zelda.clientHmac, ...traceOf(namesake)])).toEqual([]);
  }, 120_000);

  it('on a protected environment the confirmation is the environment\'s name typed: a wrong one changes nothing (cancelled), the right one erases', async () => {
    const base = realConfig(ws.db.url);
    const config = { ...base, protected: { ...base.protected, value: true } };
    const io = { stdout: process.stdout, stderr: process.stderr, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, env: {}, cwd: ws.dir };
    const options = { config, io, cwd: ws.dir, selector: { kind: 'session' as const, value: other.session! }, as: DPO, dryRun: false, yes: false };
    const before = await checksumTables(pool);
    const wrong = scriptedPrompter(['prod']);
    await expect(runPrivacyErase({ ...options, prompter: wrong })).rejects.toBeInstanceOf(CancelledError);
    expect(wrong.questions[0]).toMatch(new RegExp(`^Erase the data of one person on staging \\(session\\(s\\) ${other.session}; booking\\(s\\) ${other.booking}\\): chat_messages: 4 deleted, .*\\?\\nType the environment name \\(staging\\) to confirm:$`));
    expect(wrong.questions[0]).not.toContain(other.name);
    expect(await checksumTables(pool)).toEqual(before);
    const right = scriptedPrompter(['staging']);
    const result = await runPrivacyErase({ ...options, prompter: right });
    right.assertDone();
    expect(result.erased?.tables.chat_messages).toEqual({ action: 'deleted', rows: 4 });
    expect(await scan(pool, [other.name, ...other.texts, other.token])).toEqual([]);
  }, 60_000);
});
