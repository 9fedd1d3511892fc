import type { Pool, PoolClient } from '../pool.js';
import { withTransaction } from '../pool.js';

/** Run one statement, get its rows: adapts a pg client and a PGlite transaction alike. */
export type SqlRunner = (text: string) => Promise<Array<Record<string, unknown>>>;

export function runnerOf(client: Pick<PoolClient, 'query'>): SqlRunner {
  return async (text) => (await client.query(text)).rows as Array<Record<string, unknown>>;
}

/**
 * Per-table content checksums: the proof that a restore brought back exactly what was backed up.
 *
 * For every table in schema public (which holds our migrations table too):
 *   SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text COLLATE "C")) FROM tbl t
 *
 * Cost: one sequential scan of each table plus a sort of its rows as text (in work_mem, spilling
 * to disk past it), and the aggregated string held in memory — roughly the table's size. That is
 * a second or two for the tens of thousands of rows this service keeps; a table of several GB
 * would need a chunked variant (hash per primary-key range), which we do not need yet.
 *
 * The text form of a row depends on session settings, so they are pinned (SET LOCAL) to values
 * that are the same on PostgreSQL 15 and on PGlite (18): the same data gives the same checksum
 * on both, which lets an embedded backup be checked after a restore into a real server.
 * `COLLATE "C"` makes the order independent of the database's collation.
 */
export interface TableSummary {
  rows: number;
  md5: string;
}

const PINNED_SETTINGS = [
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = 'postgres'",
  'SET LOCAL extra_float_digits = 1',
  "SET LOCAL bytea_output = 'hex'",
];

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export async function listPublicTables(run: SqlRunner): Promise<string[]> {
  const rows = await run(
    `SELECT c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
      ORDER BY c.relname COLLATE "C"`,
  );
  return rows.map((r) => String(r.name));
}

/** Checksums inside the caller's transaction (so they can share a snapshot with pg_dump). */
export async function checksumTablesIn(run: SqlRunner): Promise<Record<string, TableSummary>> {
  for (const statement of PINNED_SETTINGS) await run(statement);
  const result: Record<string, TableSummary> = {};
  for (const table of await listPublicTables(run)) {
    const rows = await run(
      `SELECT count(*)::text AS n, md5(coalesce(string_agg(t::text, ',' ORDER BY t::text COLLATE "C"), '')) AS md5 FROM public.${quoteIdent(table)} t`,
    );
    result[table] = { rows: Number(rows[0]?.n ?? 0), md5: String(rows[0]?.md5 ?? '') };
  }
  return result;
}

export async function checksumTables(pool: Pool): Promise<Record<string, TableSummary>> {
  return withTransaction(pool, async (client) => {
    await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return checksumTablesIn(runnerOf(client));
  });
}

export interface ChecksumComparison {
  identical: boolean;
  /** One line per difference: "shops: 30 rows (md5 …) in the backup, 25 rows (md5 …) now". */
  differences: string[];
}

export function compareChecksums(expected: Record<string, TableSummary>, actual: Record<string, TableSummary>, labels = { expected: 'in the backup', actual: 'after restore' }): ChecksumComparison {
  const differences: string[] = [];
  const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  for (const name of names) {
    const e = expected[name];
    const a = actual[name];
    if (!a) differences.push(`${name}: present ${labels.expected} (${e?.rows} rows), missing ${labels.actual}`);
    else if (!e) differences.push(`${name}: not ${labels.expected}, present ${labels.actual} (${a.rows} rows)`);
    else if (e.md5 !== a.md5 || e.rows !== a.rows) differences.push(`${name}: ${e.rows} rows (md5 ${e.md5.slice(0, 8)}) ${labels.expected}, ${a.rows} rows (md5 ${a.md5.slice(0, 8)}) ${labels.actual}`);
  }
  return { identical: differences.length === 0, differences };
}
