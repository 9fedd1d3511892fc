/**
 * `routergpt privacy export` (and an erasure) on the embedded database, the default `local`
 * environment, through the real CLI: what an export holds for each selector, the refusals (several
 * people: exit 2 with ids only; nobody: exit 1), `--output` created 0600 and never overwritten,
 * the audit of exports; and an erase on the embedded database, re-applied by a restore.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/resolve.js';
import { openDatabase } from '../../src/db/connect.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { person, personSql, scanSql, TEXT_COLUMNS_SQL } from '../helpers/privacy-fixture.js';

interface ExportDoc {
  format: string;
  env: string;
  request: { kind: string; value: string };
  person: { sessions: string[]; bookings: string[] };
  tables: Record<string, Array<Record<string, unknown>>>;
  notes: Record<string, string>;
}

describe('routergpt privacy export on the embedded database', () => {
  const dir = tempDir('routergpt-privacy-');
  const cli = (args: string[]) => runCli(args, { cwd: dir });
  const zelda = person('Zelda Quixote');
  const namesake = person('ZELDA quixote', { withSession: false });
  const other = person('Oscar Control');

  /** Every text/json column of schemas public and routergpt that holds one of the needles (the embedded database opened in-process, then closed). */
  async function scan(needles: readonly string[]): Promise<string[]> {
    const { config } = loadConfig({ flags: {}, cwd: dir, env: {} });
    const db = await openDatabase(config, { poolSize: 1 });
    try {
      const hits: string[] = [];
      for (const c of (await db.pool.query<{ schema: string; table: string; column: string }>(TEXT_COLUMNS_SQL)).rows) {
        for (const needle of needles) if ((await db.pool.query<{ n: number }>(scanSql(c.schema, c.table, c.column), [needle])).rows[0]!.n > 0) hits.push(`${c.schema}.${c.table}.${c.column}: ${needle}`);
      }
      return hits;
    } finally {
      await db.close();
    }
  }

  beforeAll(async () => {
    expect((await cli(['migrate', 'up', '--yes'])).exitCode).toBe(0);
    expect((await cli(['db', 'seed', '--demo'])).exitCode).toBe(0);
    const file = path.join(dir, 'people.sql');
    writeFileSync(file, [personSql(zelda), personSql(namesake), personSql(other, 1)].join('\n'));
    const seeded = await cli(['db', 'psql', '--', '-v', 'ON_ERROR_STOP=1', '-q', '-f', file]);
    expect(seeded.exitCode, seeded.stderr).toBe(0);
  }, 180_000);

  it('--session exports every table that holds the person, as stored, in routergpt.privacy-export/v1', async () => {
    const result = await cli(['privacy', 'export', '--session', zelda.session!]);
    expect(result.exitCode, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as ExportDoc;
    expect(doc).toMatchObject({ format: 'routergpt.privacy-export/v1', env: 'local', request: { kind: 'session', value: zelda.session }, person: { sessions: [zelda.session], bookings: [zelda.booking] } });
    const counts = Object.fromEntries(Object.entries(doc.tables).map(([t, rows]) => [t, rows.length]));
    expect(counts).toEqual({ chat_sessions: 1, chat_messages: 4, router_feedback: 1, bookings: 1, booking_slots: 2, router_analytics: 5, router_analytics_archive: 1, router_refusals: 1 });
    expect(doc.tables.chat_sessions![0]).toMatchObject({ id: zelda.session, intent: zelda.texts[3], client_hmac: zelda.clientHmac, router_context: { location: { label: '12 Elm Street' } } });
    expect(doc.tables.chat_messages!.map((m) => m.content)).toEqual(['Hi! How can I help?', zelda.texts[0], zelda.texts[1], `Booked for ${zelda.name}.`]);
    expect(doc.tables.router_feedback![0]).toMatchObject({ rating: 5, comment: zelda.texts[2] });
    expect(doc.tables.bookings![0]).toMatchObject({ id: zelda.booking, customer_name: zelda.name, session_id: zelda.session });
    // The search that led to the session is theirs too (by its search_id), with the booking event by the booking's id.
    expect(doc.tables.router_analytics!.map((e) => e.event_type)).toEqual(['search', 'delegate', 'chat_message', 'booking', 'feedback']);
    expect(doc.tables.router_analytics!.find((e) => e.event_type === 'booking')!.payload).toMatchObject({ booking_id: zelda.booking });
    expect(doc.tables.router_refusals![0]).toMatchObject({ client_hmac: zelda.clientHmac, count: 4 });
    expect(doc.notes.router_refusals).toMatch(/may include their requests too/);
    // Nothing of the others.
    expect(result.stdout).not.toContain(other.name);
    expect(result.stdout).not.toContain(namesake.booking);
  }, 60_000);

  it('--booking finds the same person through the booking\'s session; --customer a name only one person booked under', async () => {
    const byBooking = JSON.parse((await cli(['privacy', 'export', '--booking', zelda.booking])).stdout) as ExportDoc;
    expect(byBooking.person).toEqual({ sessions: [zelda.session], bookings: [zelda.booking] });
    expect(byBooking.tables.chat_messages).toHaveLength(4);
    const byName = await cli(['privacy', 'export', '--customer', 'oscar CONTROL']);
    expect(byName.exitCode, byName.stderr).toBe(0);
    const doc = JSON.parse(byName.stdout) as ExportDoc;
    expect(doc.person).toEqual({ sessions: [other.session], bookings: [other.booking] });
    expect(doc.tables.bookings![0]!.customer_name).toBe(other.name);
  }, 60_000);

  it('a name several unlinked people booked under is exit 2 listing ids only; nobody is exit 1; a bad id exit 2', async () => {
    const many = await cli(['privacy', 'export', '--customer', 'zelda quixote']);
    expect(many.exitCode, many.stderr).toBe(2);
    expect(many.stdout).toBe('');
    expect(many.stderr).toContain(`session ${zelda.session}; booking(s) ${zelda.booking}`);
    expect(many.stderr).toContain(`no chat session; booking(s) ${namesake.booking}`);
    expect(many.stderr.toLowerCase()).not.toContain('zelda');
    expect(many.stderr).not.toContain(zelda.texts[0]);
    const none = await cli(['privacy', 'export', '--customer', 'Nobody Atall']);
    expect(none.exitCode).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/No booking matches the customer name given[^\n]*; nothing was changed\.\n {2}→ /);
    const bad = await cli(['privacy', 'export', '--session', 'abc']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--session "abc" is not a session id');
    const neither = await cli(['privacy', 'export']);
    expect(neither.exitCode).toBe(2);
    expect(neither.stderr).toContain('needs the person: --session ID, --booking ID or --customer TEXT');
  }, 60_000);

  it('--output FILE is created owner-only (0600) and never overwritten; every export leaves an audit record without personal data', async () => {
    const file = path.join(dir, 'zelda-export.json');
    const first = await cli(['privacy', 'export', '--session', zelda.session!, '--output', file]);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Exported to .*zelda-export\.json \(0600\): chat_sessions: 1, chat_messages: 4/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect((JSON.parse(text) as ExportDoc).tables.chat_messages).toHaveLength(4);
    const again = await cli(['privacy', 'export', '--booking', zelda.booking, '--output', file]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('already exists; an export never overwrites a file');
    expect(readFileSync(file, 'utf8')).toBe(text);

    const log = await cli(['privacy', 'log', '--json']);
    expect(log.exitCode, log.stderr).toBe(0);
    const { records } = JSON.parse(log.stdout) as { records: Array<Record<string, unknown>> };
    expect(records.length).toBeGreaterThanOrEqual(4);
    expect(records.every((r) => r.action === 'export')).toBe(true);
    expect(records[0]).toMatchObject({ env: 'local', selector: 'session', requestHmac: expect.stringMatching(/^[0-9a-f]{64}$/), counts: expect.objectContaining({ chat_messages: 4 }) });
    const logged = JSON.stringify(records).toLowerCase();
    for (const needle of [zelda.name, other.name, zelda.session!, zelda.booking, zelda.texts[0]!, zelda.token]) expect(logged).not.toContain(needle.toLowerCase());
    const mine = JSON.parse((await cli(['privacy', 'log', '--customer', 'Oscar Control', '--json'])).stdout) as { records: unknown[] };
    expect(mine.records).toHaveLength(1);
  }, 60_000);

  it('erase works on the embedded database too, and a restore of an older backup erases the person again', async () => {
    const backup = await cli(['backup', '--label', 'before', '--json']);
    expect(backup.exitCode, backup.stderr).toBe(0);
    const backupFile = (JSON.parse(backup.stdout) as { file: string }).file;
    const erase = await cli(['privacy', 'erase', '--session', zelda.session!, '--yes']);
    expect(erase.exitCode, erase.stderr).toBe(0);
    expect(erase.stdout).toMatch(/^Erased the data of one person on local:$/m);
    expect(erase.stdout).toMatch(/^ {2}chat_messages +4 deleted$/m);
    expect(erase.stdout).toContain(`${backupFile} (taken `);
    const trace = [zelda.name, ...zelda.texts, zelda.token, zelda.clientHmac];
    // The namesake (another person) keeps their booking under the name: scan for what only Zelda wrote.
    expect(await scan(trace.slice(1))).toEqual([]);
    const rollback = await cli(['rollback', '--tier', 'restore', '--backup', backupFile, '--yes', '--no-verify']);
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    expect(rollback.stderr).toContain('re-applied 1 erasure(s) from the ledger');
    expect(await scan(trace.slice(1))).toEqual([]);
    expect((await scan([other.token])).length).toBeGreaterThan(0);
  }, 180_000);
});
