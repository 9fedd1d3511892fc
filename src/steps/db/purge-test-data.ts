import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fail, pass } from '../../checks/define-check.js';
import { OperationError } from '../../errors.js';
import { withTransaction, type Queryable } from '../../db/pool.js';
import { invalidateAnalyticsRollups } from '../../db/analytics/rollups.js';
import { TEST_SHOP_SLUGS } from '../../db/seed.js';
import { defineStep, type StepContext, type StepResult } from '../define-step.js';
import { numberListParam, stringListParam } from './params.js';

const ID = 'db.purge-test-data';

/**
 * Remove the checklist's test shops (the five slugs) and shops whose slug matches the configured
 * LIKE patterns (params.patterns, e.g. ['%test%']), with everything that cascades from them.
 *
 * Safety, in order:
 *  - plan lists exactly the shops (id, slug, name) and their dependent rows;
 *  - run lists them again, asks for confirmation (typed in protected environments), then in ONE
 *    transaction locks the matching shops (FOR UPDATE) and refuses — deleting nothing — when the
 *    set differs from the one confirmed, or from params.expectedIds (the ids the plan showed,
 *    passed on by the runbook);
 *  - before the DELETE, every row that will disappear (or lose its reference: ON DELETE SET NULL)
 *    is written to `${runDir}/purge-<timestamp>.json`, whose path and SHA-256 are the step's
 *    outputs. rollback re-inserts those rows with their original ids in one transaction.
 * The record holds customer data (names, chat messages): it is written with mode 0600.
 */
export interface PurgeTarget {
  id: string;
  slug: string;
  name: string;
  services: number;
  hours: number;
  sessions: number;
  messages: number;
  bookings: number;
}

/** Tables removed by the cascade, in foreign-key order (parents first), with how to find the rows. */
const CASCADE: ReadonlyArray<{ table: string; where: string; identity: boolean }> = [
  { table: 'shops', where: 'id = ANY($1::bigint[])', identity: true },
  { table: 'services', where: 'shop_id = ANY($1::bigint[])', identity: true },
  { table: 'opening_hours', where: 'shop_id = ANY($1::bigint[])', identity: false },
  { table: 'chat_sessions', where: 'shop_id = ANY($1::bigint[])', identity: false },
  { table: 'chat_messages', where: 'session_id IN (SELECT id FROM chat_sessions WHERE shop_id = ANY($1::bigint[]))', identity: true },
  { table: 'bookings', where: 'shop_id = ANY($1::bigint[]) OR service_id IN (SELECT id FROM services WHERE shop_id = ANY($1::bigint[]))', identity: false },
  { table: 'booking_slots', where: 'booking_id IN (SELECT id FROM bookings WHERE shop_id = ANY($1::bigint[]) OR service_id IN (SELECT id FROM services WHERE shop_id = ANY($1::bigint[])))', identity: false },
];

/** References set to NULL by the delete (rows that stay): rollback puts the value back. */
const SET_NULL: ReadonlyArray<{ table: string; column: string; where: string; value: string }> = [
  { table: 'router_analytics', column: 'shop_id', where: 'shop_id = ANY($1::bigint[])', value: 'shop_id' },
  { table: 'bookings', column: 'session_id', where: 'session_id IN (SELECT id FROM chat_sessions WHERE shop_id = ANY($1::bigint[])) AND shop_id <> ALL($1::bigint[])', value: 'session_id' },
];

const MATCH = `slug = ANY($1::text[]) OR slug LIKE ANY($2::text[])`;

export function purgePatterns(ctx: Pick<StepContext, 'params'>): string[] {
  return stringListParam(ID, ctx.params, 'patterns') ?? [];
}

/** The shops the purge would delete, with their dependent row counts (ordered by id). */
export async function listPurgeTargets(db: Queryable, patterns: readonly string[]): Promise<PurgeTarget[]> {
  const { rows } = await db.query<PurgeTarget>(
    `SELECT s.id::text, s.slug, s.name,
            (SELECT count(*)::int FROM services x WHERE x.shop_id = s.id) AS services,
            (SELECT count(*)::int FROM opening_hours x WHERE x.shop_id = s.id) AS hours,
            (SELECT count(*)::int FROM chat_sessions x WHERE x.shop_id = s.id) AS sessions,
            (SELECT count(*)::int FROM chat_messages m JOIN chat_sessions x ON x.id = m.session_id WHERE x.shop_id = s.id) AS messages,
            (SELECT count(*)::int FROM bookings x WHERE x.shop_id = s.id) AS bookings
       FROM shops s WHERE ${MATCH} ORDER BY s.id`,
    [[...TEST_SHOP_SLUGS], [...patterns]],
  );
  return rows;
}

function describe(t: PurgeTarget): string {
  return `#${t.id} ${t.slug} — ${t.name} (services ${t.services}, hours ${t.hours}, sessions ${t.sessions}, messages ${t.messages}, bookings ${t.bookings})`;
}

async function existingTables(db: Queryable, tables: string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ name: string }>(`SELECT t AS name FROM unnest($1::text[]) t WHERE to_regclass('public.' || quote_ident(t)) IS NOT NULL`, [tables]);
  return new Set(rows.map((r) => r.name));
}

interface PurgeRecord {
  step: typeof ID;
  runId: string;
  createdAt: string;
  shopIds: string[];
  /** Full rows per table, as to_jsonb gives them (exact round trip through jsonb_populate_recordset). */
  rows: Record<string, unknown[]>;
  /** Rows that stay but had a reference set to NULL. */
  nulled: Array<{ table: string; column: string; key: unknown; value: unknown }>;
}

const sameIds = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

export const dbPurgeTestDataStep = defineStep({
  id: ID,
  params: ['patterns', 'expectedIds'],
  title: 'Remove test data (the checklist\'s test shops and configured patterns)',
  changesData: 'user-data',
  needs: ['db'],

  async plan(ctx) {
    const patterns = purgePatterns(ctx);
    const targets = await listPurgeTargets(ctx.db.pool, patterns);
    const criteria = `slug in (${TEST_SHOP_SLUGS.join(', ')})${patterns.length ? ` or slug LIKE ${patterns.map((p) => `'${p}'`).join(' / ')}` : ''}`;
    if (targets.length === 0) return [`No shop matches ${criteria}: nothing to delete.`];
    return [
      `Would delete ${targets.length} shop(s) matching ${criteria}, with their dependent rows, in one transaction:`,
      ...targets.map((t) => `  ${describe(t)}`),
      `Expected ids: ${targets.map((t) => t.id).join(', ')} (the run refuses if the set differs)`,
      `Every deleted row is kept in ${path.join(ctx.runDir, 'purge-<timestamp>.json')} so the step can be rolled back.`,
    ];
  },

  async run(ctx) {
    const patterns = purgePatterns(ctx);
    const listed = await listPurgeTargets(ctx.db.pool, patterns);
    const listedIds = listed.map((t) => t.id);
    const expected = numberListParam(ID, ctx.params, 'expectedIds')?.map(String);
    if (expected && !sameIds(expected, listedIds)) {
      throw new OperationError(
        `Refusing to purge: the plan showed ${expected.length} shop(s) (ids ${expected.join(', ') || 'none'}), now ${listedIds.length} match (ids ${listedIds.join(', ') || 'none'}). Nothing was deleted.`,
        'Review the new plan (`routergpt deploy --dry-run`) and run again.',
      );
    }
    if (listed.length === 0) return { status: 'skipped', summary: 'No test data to delete', outputs: { deletedIds: [] } };
    await ctx.confirm(`Delete ${listed.length} shop(s) and their dependent rows from ${ctx.db.display}: ${listed.map((t) => t.slug).join(', ')}?`);

    const createdAt = ctx.now();
    const recordFile = path.join(ctx.runDir, `purge-${createdAt.toISOString().replace(/[-:.]/g, '')}.json`);
    const { sha256, deleted } = await withTransaction(ctx.db.pool, async (client) => {
      const locked = (await client.query<{ id: string }>(`SELECT id::text FROM shops WHERE ${MATCH} ORDER BY id FOR UPDATE`, [[...TEST_SHOP_SLUGS], [...patterns]])).rows.map((r) => r.id);
      if (!sameIds(locked, listedIds)) {
        throw new OperationError(
          `Refusing to purge: ${listedIds.length} shop(s) were confirmed (ids ${listedIds.join(', ')}), but ${locked.length} match now (ids ${locked.join(', ') || 'none'}). Nothing was deleted.`,
          'Someone changed the shops meanwhile. Review the plan again and re-run the step.',
        );
      }
      const tables = await existingTables(client, [...CASCADE.map((c) => c.table), ...SET_NULL.map((s) => s.table)]);
      const record: PurgeRecord = { step: ID, runId: ctx.runId, createdAt: createdAt.toISOString(), shopIds: locked, rows: {}, nulled: [] };
      for (const { table, where } of CASCADE) {
        if (!tables.has(table)) continue;
        record.rows[table] = (await client.query<{ row: unknown }>(`SELECT to_jsonb(t) AS row FROM ${table} t WHERE ${where}`, [locked])).rows.map((r) => r.row);
      }
      for (const { table, column, where, value } of SET_NULL) {
        if (!tables.has(table)) continue;
        const { rows } = await client.query<{ key: unknown; value: unknown }>(`SELECT id AS key, ${value} AS value FROM ${table} WHERE ${where}`, [locked]);
        record.nulled.push(...rows.map((r) => ({ table, column, key: r.key, value: r.value })));
      }
      // Written before the DELETE: if the file cannot be written, nothing is deleted.
      mkdirSync(ctx.runDir, { recursive: true, mode: 0o700 });
      const text = `${JSON.stringify(record, null, 1)}\n`;
      writeFileSync(recordFile, text, { mode: 0o600 });
      const { rowCount } = await client.query('DELETE FROM shops WHERE id = ANY($1::bigint[])', [locked]);
      if (rowCount !== locked.length) throw new OperationError(`Deleted ${rowCount} shops instead of ${locked.length}; rolled back, nothing was deleted.`, 'Report this; re-run the step.');
      // The SET NULL rewrote those shops' analytics events: the rollups from the oldest on are rebuilt.
      await invalidateRollupsFor(client, record.nulled);
      return { sha256: createHash('sha256').update(text).digest('hex'), deleted: record };
    });
    const counts = Object.entries(deleted.rows).map(([table, rows]) => `${table}: ${rows.length}`);
    return {
      status: 'done',
      summary: `Deleted ${listed.length} test shop(s) and their dependent rows (${counts.join(', ')})`,
      details: [...listed.map(describe), `record: ${recordFile}`],
      outputs: { record: recordFile, recordSha256: sha256, deletedIds: listedIds, deletedSlugs: listed.map((t) => t.slug) },
    };
  },

  async verify(ctx, result) {
    const left = await listPurgeTargets(ctx.db.pool, purgePatterns(ctx));
    if (left.length > 0) return fail(`${left.length} test shop(s) are still there`, { details: left.map(describe), hint: 'Re-run the purge step.' });
    return pass(`No test shops left${result.outputs?.record ? ` (deleted rows kept in ${String(result.outputs.record)})` : ''}`);
  },

  /** Rollback tier `purge`: put the purged rows back from the run's record, original ids. */
  undo: {
    tier: 'purge',
    title: 'Put the purged test rows back from the run record',
    applies: (source) => (source.state === 'done' || source.state === 'warn') && typeof source.outputs.record === 'string',
    async plan(_ctx, source) {
      const ids = Array.isArray(source.outputs.deletedSlugs) ? source.outputs.deletedSlugs.join(', ') : '';
      return [`Re-insert the rows recorded in ${String(source.outputs.record)} (one transaction, original ids): ${ids}`];
    },
    async run(ctx, source) {
      const count = Array.isArray(source.outputs.deletedIds) ? source.outputs.deletedIds.length : 0;
      await ctx.confirm(`Put the ${count} purged shop(s) back on ${ctx.config.name}?`);
      return restorePurged(ctx, source.outputs);
    },
  },
});

async function restorePurged(ctx: StepContext, outputs: Record<string, unknown>): Promise<StepResult> {
  const recordFile = outputs.record;
  if (typeof recordFile !== 'string') return { status: 'skipped', summary: 'The purge deleted nothing; nothing to restore' };
  const text = readFileSync(recordFile, 'utf8');
  if (typeof outputs.recordSha256 === 'string' && createHash('sha256').update(text).digest('hex') !== outputs.recordSha256) {
    throw new OperationError(`The purge record ${recordFile} was changed since the purge (SHA-256 differs); refusing to restore from it.`, 'Restore from the pre-deploy backup instead (`routergpt rollback --tier restore`).');
  }
  const record = JSON.parse(text) as PurgeRecord;
  const restored = await withTransaction(ctx.db.pool, async (client) => {
    const counts: Record<string, number> = {};
    for (const { table, identity } of CASCADE) {
      const rows = record.rows[table];
      if (!rows || rows.length === 0) continue;
      try {
        const { rowCount } = await client.query(
          `INSERT INTO ${table} ${identity ? 'OVERRIDING SYSTEM VALUE ' : ''}SELECT * FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb)`,
          [JSON.stringify(rows)],
        );
        counts[table] = rowCount ?? 0;
      } catch (error) {
        const e = error as { code?: string; message: string };
        if (e.code === '23505') throw new OperationError(`Cannot restore the purged rows: ${table} already has one of them again (${e.message}). Nothing was restored.`, 'A shop with the same slug or id was created since the purge; remove it first, or restore from the pre-deploy backup.');
        throw error;
      }
    }
    for (const { table, column, key, value } of record.nulled) {
      await client.query(`UPDATE ${table} SET ${column} = $2 WHERE id = $1 AND ${column} IS NULL`, [key, value]);
    }
    await invalidateRollupsFor(client, record.nulled);
    return counts;
  });
  return {
    status: 'done',
    summary: `Restored ${restored.shops ?? 0} shop(s) and their rows from ${recordFile} (${Object.entries(restored).map(([t, n]) => `${t}: ${n}`).join(', ')})`,
    outputs: { restored },
  };
}

export default dbPurgeTestDataStep;

/** After router_analytics rows were rewritten (shop_id nulled or put back): invalidate the analytics rollups from the oldest. */
async function invalidateRollupsFor(client: Queryable, nulled: PurgeRecord['nulled']): Promise<void> {
  const ids = nulled.filter((n) => n.table === 'router_analytics').map((n) => String(n.key));
  if (ids.length === 0) return;
  const { rows } = await client.query<{ oldest: Date | null }>('SELECT min(created_at) AS oldest FROM router_analytics WHERE id = ANY($1::bigint[])', [ids]);
  if (rows[0]?.oldest) await invalidateAnalyticsRollups(client, rows[0].oldest);
}
