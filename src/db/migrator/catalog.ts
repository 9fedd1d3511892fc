/**
 * The current schema's tables, columns (with their types, compared loosely), indexes (and
 * whether they are valid), views and functions, by name — what the objects the migration files
 * create (migration-objects.ts) are looked up in. The exact, normalised schema that
 * `db.schema-drift` compares is src/db/schema/read-schema.ts.
 */
import type { Queryable } from '../pool.js';

const TYPE_ALIASES: Record<string, string> = {
  int8: 'bigint', bigserial: 'bigint', serial8: 'bigint',
  int: 'integer', int4: 'integer', serial: 'integer', serial4: 'integer',
  int2: 'smallint', smallserial: 'smallint', serial2: 'smallint',
  float8: 'double precision', float: 'double precision', float4: 'real',
  bool: 'boolean',
  'timestamp with time zone': 'timestamptz', 'timestamp without time zone': 'timestamp',
  'time with time zone': 'timetz', 'time without time zone': 'time',
  'character varying': 'varchar', character: 'char', bpchar: 'char',
  decimal: 'numeric',
};

/** One spelling per type, without modifiers: `int8`, `bigint` → bigint; `timestamp(3) with time zone` → timestamptz. */
export function canonicalType(type: string): string {
  let t = type.trim().toLowerCase().replace(/\s+/g, ' ');
  const array = /\[\s*\d*\s*\]$|\sarray$/.test(t) ? '[]' : '';
  t = t.replace(/\s*\([^)]*\)/g, '').replace(/\s*\[\s*\d*\s*\]/g, '').replace(/\sarray$/, '').replace(/^(?:pg_catalog|public)\./, '').replace(/^"(.*)"$/, '$1').trim();
  return (TYPE_ALIASES[t] ?? t) + array;
}

/** information_schema's udt_name (`int8`, `_text` for text[]) in canonicalType's spelling. */
export const catalogType = (udt: string) => (udt.startsWith('_') ? `${canonicalType(udt.slice(1))}[]` : canonicalType(udt));

export interface CatalogSnapshot {
  tables: Set<string>;
  /** `table.column` → its type (udt_name) and domain. */
  columns: Map<string, { udt: string; domain: string | null }>;
  /** Index name → whether it is valid (an interrupted concurrent build leaves it invalid). */
  indexes: Map<string, boolean>;
  views: Set<string>;
  functions: Set<string>;
}

/** The current schema's tables, columns, indexes, views and functions, read once. */
export async function readCatalog(db: Queryable): Promise<CatalogSnapshot> {
  // One after another: `db` is often a single client (the migrator's, under its lock), and
  // queries sent to a client already busy are deprecated in pg (a warning on every deploy).
  const tables = await db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`);
  const columns = await db.query<{ table_name: string; column_name: string; udt_name: string; domain_name: string | null }>(`SELECT table_name, column_name, udt_name, domain_name FROM information_schema.columns WHERE table_schema = current_schema()`);
  const indexes = await db.query<{ name: string; valid: boolean }>(`SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()`);
  const views = await db.query<{ name: string }>(`SELECT viewname AS name FROM pg_views WHERE schemaname = current_schema() UNION SELECT matviewname FROM pg_matviews WHERE schemaname = current_schema()`);
  const functions = await db.query<{ name: string }>(`SELECT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()`);
  return {
    tables: new Set(tables.rows.map((r) => r.name)),
    columns: new Map(columns.rows.map((r) => [`${r.table_name}.${r.column_name}`, { udt: r.udt_name, domain: r.domain_name }])),
    indexes: new Map(indexes.rows.map((r) => [r.name, r.valid])),
    views: new Set(views.rows.map((r) => r.name)),
    functions: new Set(functions.rows.map((r) => r.name)),
  };
}
