/**
 * The live schema as a normalised, deterministic map: what `db.schema-drift` compares with the
 * committed snapshot (migrations/routergpt.schema.json) and what `migrate hash --schema-from`
 * writes into it.
 *
 * Read from the catalogs, schema `public` only; routergpt's own objects (schema `routergpt`, the
 * migrations table) and objects that belong to an extension are left out. Ownership, grants,
 * comments, OIDs and column order are not part of it: two databases built by the same migrations
 * read the same, whatever order their columns were added in. Definitions come from the server's
 * own deparsers (format_type, pg_get_expr, pg_get_indexdef, pg_get_constraintdef,
 * pg_get_viewdef, pg_get_triggerdef), read with `search_path = public` so that names are
 * qualified the same way on every server. Function bodies are compared by MD5 (they are stored
 * verbatim, so a changed body is a changed function).
 *
 * Not read: sequences (identity and serial columns show as their column's identity/default),
 * partitions' inheritance, row-level security policies, grants.
 */
import { MIGRATIONS_TABLE } from '../migrator/migrator.js';
import { withClient, type Pool } from '../pool.js';

export type SchemaObjectKind = 'table' | 'column' | 'index' | 'constraint' | 'view' | 'function' | 'trigger' | 'type';

/** One object's normalised definition: a few named string fields (`type`, `nullable`, `definition`…). */
export type ObjectDefinition = Record<string, string>;

/**
 * Keyed `<kind> <name>`: `table shops`, `column shops.latitude`, `index idx_shops_lat`,
 * `constraint shops.shops_pkey`, `view router_usage_summary`, `function f(integer)`,
 * `trigger shops.t`, `type mood`. Objects that belong to a table carry it in the `table` field.
 */
export type NormalisedSchema = Record<string, ObjectDefinition>;

export const SCHEMA = 'public';

/** The server's major version (15, 18…): view definitions are only comparable within one. */
export async function serverMajor(pool: Pick<Pool, 'query'>): Promise<number> {
  const { rows } = await pool.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
  return Math.floor(Number(rows[0]!.v) / 10_000);
}

export function objectKind(key: string): SchemaObjectKind {
  return key.slice(0, key.indexOf(' ')) as SchemaObjectKind;
}

export function objectName(key: string): string {
  return key.slice(key.indexOf(' ') + 1);
}

// Every query is parameterised by $1 = the schema and $2 = the migrations table's name.
const NOT_EXTENSION_MEMBER = (classid: string, objid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${classid}'::regclass AND d.objid = ${objid} AND d.deptype = 'e')`;

const TABLES = `
  SELECT c.relname AS name, c.relkind::text AS relkind, c.relpersistence::text AS persistence
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2 AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}`;

const COLUMNS = `
  SELECT c.relname AS table_name, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
         pg_get_expr(ad.adbin, ad.adrelid) AS default_expr, a.attidentity::text AS identity, a.attgenerated::text AS generated,
         CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    LEFT JOIN pg_collation co ON co.oid = a.attcollation
   WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2 AND a.attnum > 0 AND NOT a.attisdropped
     AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}`;

// Indexes that implement a primary key, unique or exclusion constraint are the constraint's.
const INDEXES = `
  SELECT ic.relname AS name, tc.relname AS table_name, pg_get_indexdef(i.indexrelid) AS definition, i.indisvalid AS valid
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = tc.relnamespace
   WHERE n.nspname = $1 AND tc.relname <> $2 AND tc.relkind IN ('r', 'p', 'm')
     AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
     AND ${NOT_EXTENSION_MEMBER('pg_class', 'tc.oid')}`;

// NOT NULL constraints (catalogued from PostgreSQL 18) are the columns' nullability.
const CONSTRAINTS = `
  SELECT k.conname AS name, c.relname AS table_name, k.contype::text AS type, pg_get_constraintdef(k.oid) AS definition
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relname <> $2 AND k.contype IN ('p', 'u', 'f', 'c', 'x')
     AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}`;

// A view's columns in their order (its output is positional), apart from its query: the deparsed
// query's spelling changes between major versions (16 dropped the table prefixes), the columns do not.
const VIEWS = `
  SELECT c.relname AS name, c.relkind::text AS relkind, pg_get_viewdef(c.oid) AS definition,
         (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
            FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relkind IN ('v', 'm') AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}`;

const FUNCTIONS = `
  SELECT p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result,
         p.prokind::text AS prokind, l.lanname AS language, p.provolatile::text AS volatility, p.prosecdef AS security_definer,
         md5(CASE WHEN p.prosrc IS NULL OR p.prosrc = '' THEN pg_get_functiondef(p.oid) ELSE p.prosrc END) AS body
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
   WHERE n.nspname = $1 AND p.prokind IN ('f', 'p', 'w') AND ${NOT_EXTENSION_MEMBER('pg_proc', 'p.oid')}`;

const TRIGGERS = `
  SELECT t.tgname AS name, c.relname AS table_name, pg_get_triggerdef(t.oid) AS definition
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND NOT t.tgisinternal AND c.relname <> $2`;

// Enums and domains; a table's row type is the table.
const TYPES = `
  SELECT t.typname AS name, t.typtype::text AS typtype,
         CASE t.typtype WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
                        WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
                                      || coalesce(' ' || (SELECT string_agg(pg_get_constraintdef(k.oid), ' ' ORDER BY k.conname) FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'), '')
         END AS definition
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = $1 AND t.typtype IN ('e', 'd') AND ${NOT_EXTENSION_MEMBER('pg_type', 't.oid')}`;

const RELKIND: Record<string, string> = { r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view' };
const CONTYPE: Record<string, string> = { p: 'primary key', u: 'unique', f: 'foreign key', c: 'check', x: 'exclusion' };
const PROKIND: Record<string, string> = { f: 'function', p: 'procedure', w: 'window function' };
const VOLATILITY: Record<string, string> = { i: 'immutable', s: 'stable', v: 'volatile' };

/** Whitespace runs collapsed and trimmed: deparsers indent, the meaning is the same. */
const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Keys in code-unit order and fields in a fixed order, so the JSON is the same byte for byte. */
export function sortSchema(schema: NormalisedSchema): NormalisedSchema {
  const sorted: NormalisedSchema = {};
  for (const key of Object.keys(schema).sort()) {
    const def = schema[key]!;
    sorted[key] = Object.fromEntries(Object.keys(def).sort().map((f) => [f, def[f]!]));
  }
  return sorted;
}

/**
 * Read the normalised schema of `public` on one connection, inside a read-only transaction with
 * `search_path = public, pg_catalog` (so deparsed names are qualified the same way everywhere).
 */
export async function readNormalisedSchema(pool: Pool): Promise<NormalisedSchema> {
  return withClient(pool, async (client) => {
    await client.query('BEGIN READ ONLY');
    try {
      await client.query(`SET LOCAL search_path = ${SCHEMA}, pg_catalog`);
      const params = [SCHEMA, MIGRATIONS_TABLE];
      // One connection runs one statement at a time: sequential on purpose.
      const tables = await client.query<{ name: string; relkind: string; persistence: string }>(TABLES, params);
      const columns = await client.query<{ table_name: string; name: string; type: string; not_null: boolean; default_expr: string | null; identity: string; generated: string; collation: string | null }>(COLUMNS, params);
      const indexes = await client.query<{ name: string; table_name: string; definition: string; valid: boolean }>(INDEXES, params);
      const constraints = await client.query<{ name: string; table_name: string; type: string; definition: string }>(CONSTRAINTS, params);
      const views = await client.query<{ name: string; relkind: string; definition: string; columns: string | null }>(VIEWS, [SCHEMA]);
      const functions = await client.query<{ name: string; args: string; result: string | null; prokind: string; language: string; volatility: string; security_definer: boolean; body: string }>(FUNCTIONS, [SCHEMA]);
      const triggers = await client.query<{ name: string; table_name: string; definition: string }>(TRIGGERS, params);
      const types = await client.query<{ name: string; typtype: string; definition: string | null }>(TYPES, [SCHEMA]);
      await client.query('COMMIT');

      const schema: NormalisedSchema = {};
      for (const t of tables.rows) schema[`table ${t.name}`] = { kind: (t.persistence === 'u' ? 'unlogged ' : '') + (RELKIND[t.relkind] ?? t.relkind) };
      for (const c of columns.rows) {
        const def: ObjectDefinition = { table: c.table_name, type: c.type, nullable: c.not_null ? 'NOT NULL' : 'NULL' };
        if (c.default_expr !== null) def[c.generated === 's' ? 'generated' : 'default'] = squash(c.default_expr);
        if (c.identity === 'a') def.identity = 'GENERATED ALWAYS AS IDENTITY';
        else if (c.identity === 'd') def.identity = 'GENERATED BY DEFAULT AS IDENTITY';
        if (c.collation) def.collation = c.collation;
        schema[`column ${c.table_name}.${c.name}`] = def;
      }
      for (const i of indexes.rows) schema[`index ${i.name}`] = { table: i.table_name, definition: squash(i.definition), ...(i.valid ? {} : { valid: 'INVALID' }) };
      for (const k of constraints.rows) schema[`constraint ${k.table_name}.${k.name}`] = { table: k.table_name, type: CONTYPE[k.type] ?? k.type, definition: squash(k.definition) };
      for (const v of views.rows) schema[`view ${v.name}`] = { kind: RELKIND[v.relkind] ?? v.relkind, columns: v.columns ?? '', definition: squash(v.definition) };
      for (const f of functions.rows) {
        schema[`function ${f.name}(${f.args})`] = {
          kind: PROKIND[f.prokind] ?? f.prokind,
          returns: f.result ?? '',
          language: f.language,
          volatility: VOLATILITY[f.volatility] ?? f.volatility,
          ...(f.security_definer ? { security: 'SECURITY DEFINER' } : {}),
          body: `md5:${f.body}`,
        };
      }
      for (const t of triggers.rows) schema[`trigger ${t.table_name}.${t.name}`] = { table: t.table_name, definition: squash(t.definition) };
      for (const t of types.rows) schema[`type ${t.name}`] = { kind: t.typtype === 'e' ? 'enum' : 'domain', definition: t.definition ?? '' };
      return sortSchema(schema);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  });
}
