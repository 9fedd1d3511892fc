/**
 * Adopting a database whose schema was built without routergpt (the migration files applied
 * with `psql -f`, nothing in the migrations table): which migrations' objects are there, and
 * `migrate baseline`, which records 001…NNN as applied without running them.
 *
 * The files are read for what they create with a pragmatic parser — regexes over each statement
 * with its comments and literals blanked, not a SQL grammar: CREATE TABLE (its columns and
 * their types), ALTER TABLE … ADD/DROP COLUMN, CREATE INDEX, CREATE VIEW, CREATE FUNCTION, and
 * the DROPs of those. Constraints, rows, grants, renames and type changes are not checked.
 */
import { ConfigError, OperationError, UsageError } from '../../errors.js';
import type { Queryable } from '../pool.js';
import type { MigrationFile } from './files.js';
import { computeStatus, ensureTable, readApplied, recordApplied, verifyNoEdits, withMigrationLock, type MigratorDeps } from './migrator.js';
import { splitStatements } from './sql-split.js';

export type SchemaObject =
  | { kind: 'table'; name: string }
  | { kind: 'column'; table: string; name: string; type: string }
  | { kind: 'index'; name: string; table: string }
  | { kind: 'view'; name: string }
  | { kind: 'function'; name: string };

export interface SchemaChange {
  op: 'create' | 'drop';
  object: SchemaObject;
}

// ---------------------------------------------------------------------------------------------
// Parsing the migration files

/** Comments become a space, string and dollar-quoted literals `''`: what is left is code and identifiers. */
function blankCommentsAndLiterals(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
      out += ' ';
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
      out += ' ';
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === ch && sql[j + 1] === ch) j += 2;
        else if (sql[j] === ch) break;
        else j += 1;
      }
      // Quoted identifiers are names: keep them.
      out += ch === '"' ? sql.slice(i, j + 1) : "''";
      i = j + 1;
    } else if (ch === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))?.[0];
      if (tag) {
        const end = sql.indexOf(tag, i + tag.length);
        i = end === -1 ? sql.length : end + tag.length;
        out += "''";
      } else {
        out += ch;
        i += 1;
      }
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
const NAME = String.raw`(${IDENT}(?:\s*\.\s*${IDENT})?)`;

const unquote = (part: string) => (part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part.toLowerCase());

/** `public.shops`, `"Shops"`, `shops` → the name in the current schema; undefined for another schema's object. */
function objectName(raw: string): string | undefined {
  const parts = (raw.match(new RegExp(IDENT, 'g')) ?? []).map(unquote);
  if (parts.length === 2 && parts[0] !== 'public') return undefined;
  return parts[parts.length - 1];
}

/** Split on commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === '(') depth += 1;
    else if (ch === ')') depth -= 1;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((p) => p.length > 0);
}

/** The text between the parenthesis at `open` and its match. */
function parenBody(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    if (text[i] === '(') depth += 1;
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

const TABLE_CONSTRAINT = /^(?:CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN|EXCLUDE|LIKE)\b/i;
const COLUMN_CONSTRAINT = /\s(?:NOT|NULL|DEFAULT|PRIMARY|REFERENCES|GENERATED|CONSTRAINT|CHECK|UNIQUE|COLLATE|STORAGE|COMPRESSION)\b/i;
const COLUMN_DEF = new RegExp(String.raw`^(${IDENT})\s+([\s\S]+)$`);

/** `latitude double precision CONSTRAINT … CHECK (…)` → latitude, double precision. */
function parseColumn(def: string): { name: string; type: string } | undefined {
  const m = COLUMN_DEF.exec(def.trim());
  if (!m) return undefined;
  const rest = ` ${m[2]!}`;
  const cut = rest.search(COLUMN_CONSTRAINT);
  const type = (cut === -1 ? rest : rest.slice(0, cut)).trim().replace(/\s+/g, ' ');
  return type ? { name: unquote(m[1]!), type } : undefined;
}

const CREATE_TABLE = new RegExp(String.raw`^CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?((?:TEMP|TEMPORARY)\s+)?(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?${NAME}\s*(\()?`, 'i');
const ALTER_TABLE = new RegExp(String.raw`^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?${NAME}\s+([\s\S]+)$`, 'i');
const ADD_COLUMN = /^ADD\s+(?!(?:CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN|EXCLUDE)\b)(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?([\s\S]+)$/i;
const DROP_COLUMN = new RegExp(String.raw`^DROP\s+(?!CONSTRAINT\b)(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?(${IDENT})`, 'i');
const CREATE_INDEX = new RegExp(String.raw`^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?!ON\s)${NAME}\s+ON\s+(?:ONLY\s+)?${NAME}`, 'i');
const CREATE_VIEW = new RegExp(String.raw`^CREATE\s+(?:OR\s+REPLACE\s+)?((?:TEMP|TEMPORARY)\s+)?(?:RECURSIVE\s+)?(?:MATERIALIZED\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?${NAME}`, 'i');
const CREATE_FUNCTION = new RegExp(String.raw`^CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE)\s+${NAME}\s*\(`, 'i');
const DROP_OBJECT = /^DROP\s+(TABLE|VIEW|MATERIALIZED\s+VIEW|INDEX|FUNCTION|PROCEDURE)\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?([\s\S]+?)(?:\s+(?:CASCADE|RESTRICT))?$/i;
const LEADING_NAME = new RegExp(String.raw`^${NAME}`);

function parseStatement(s: string): SchemaChange[] {
  const create = (object: SchemaObject): SchemaChange => ({ op: 'create', object });
  let m: RegExpExecArray | null;
  if ((m = CREATE_TABLE.exec(s))) {
    const table = objectName(m[2]!);
    if (m[1] || !table) return [];
    const changes = [create({ kind: 'table', name: table })];
    if (m[3]) {
      for (const element of splitTopLevel(parenBody(s, m.index + m[0].length - 1))) {
        const column = TABLE_CONSTRAINT.test(element) ? undefined : parseColumn(element);
        if (column) changes.push(create({ kind: 'column', table, ...column }));
      }
    }
    return changes;
  }
  if ((m = ALTER_TABLE.exec(s))) {
    const table = objectName(m[1]!);
    if (!table) return [];
    return splitTopLevel(m[2]!).flatMap((action): SchemaChange[] => {
      const add = ADD_COLUMN.exec(action);
      const column = add ? parseColumn(add[1]!) : undefined;
      if (column) return [create({ kind: 'column', table, ...column })];
      const drop = DROP_COLUMN.exec(action);
      return drop ? [{ op: 'drop', object: { kind: 'column', table, name: unquote(drop[1]!), type: '' } }] : [];
    });
  }
  if ((m = CREATE_INDEX.exec(s))) {
    const [name, table] = [objectName(m[1]!), objectName(m[2]!)];
    return name && table ? [create({ kind: 'index', name, table })] : [];
  }
  if ((m = CREATE_VIEW.exec(s))) {
    const name = objectName(m[2]!);
    return !m[1] && name ? [create({ kind: 'view', name })] : [];
  }
  if ((m = CREATE_FUNCTION.exec(s))) {
    const name = objectName(m[1]!);
    return name ? [create({ kind: 'function', name })] : [];
  }
  if ((m = DROP_OBJECT.exec(s))) {
    const word = m[1]!.toUpperCase();
    const kind = word === 'TABLE' ? 'table' : word === 'INDEX' ? 'index' : word === 'FUNCTION' || word === 'PROCEDURE' ? 'function' : 'view';
    return splitTopLevel(m[2]!).flatMap((part): SchemaChange[] => {
      const raw = LEADING_NAME.exec(part)?.[1];
      const name = raw ? objectName(raw) : undefined;
      if (!name) return [];
      return [{ op: 'drop', object: kind === 'index' ? { kind, name, table: '' } : { kind, name } }];
    });
  }
  return [];
}

/** What one migration file does to the schema, as far as the parser can tell. */
export function parseSchemaChanges(sql: string): SchemaChange[] {
  return splitStatements(blankCommentsAndLiterals(sql)).flatMap((statement) => parseStatement(statement.trim()));
}

// ---------------------------------------------------------------------------------------------
// What the schema should look like after 001…NNN

interface Expectation {
  object: SchemaObject;
  /** The file that creates it (or, for an absent object, drops it): `004_bookings`. */
  by: string;
}

export interface ExpectedSchema {
  present: Map<string, Expectation>;
  /** Objects an earlier migration created and a later one dropped. */
  absent: Map<string, Expectation>;
}

export interface ParsedMigration {
  migration: MigrationFile;
  changes: SchemaChange[];
}

export function parseMigrations(migrations: MigrationFile[]): ParsedMigration[] {
  return migrations.map((migration) => ({ migration, changes: parseSchemaChanges(migration.sql) }));
}

const labelOf = (m: MigrationFile) => `${m.version}_${m.name}`;
const keyOf = (o: SchemaObject) => (o.kind === 'column' ? `column:${o.table}.${o.name}` : `${o.kind}:${o.name}`);

export function expectedAfter(parsed: ParsedMigration[], to: string): ExpectedSchema {
  const expected: ExpectedSchema = { present: new Map(), absent: new Map() };
  for (const { migration, changes } of parsed.filter((p) => p.migration.version <= to)) {
    const by = labelOf(migration);
    for (const { op, object } of changes) {
      const key = keyOf(object);
      if (op === 'create') {
        expected.present.set(key, { object, by });
        expected.absent.delete(key);
        continue;
      }
      const had = expected.present.get(key);
      if (!had) continue; // DROP … IF EXISTS of something no migration made: nothing to check.
      expected.present.delete(key);
      expected.absent.set(key, { object: had.object, by });
      if (object.kind === 'table') {
        for (const [k, e] of expected.present) if ((e.object.kind === 'column' || e.object.kind === 'index') && e.object.table === object.name) expected.present.delete(k);
      }
    }
  }
  return expected;
}

// ---------------------------------------------------------------------------------------------
// The catalogs, and comparing

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
const catalogType = (udt: string) => (udt.startsWith('_') ? `${canonicalType(udt.slice(1))}[]` : canonicalType(udt));

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
  const [tables, columns, indexes, views, functions] = await Promise.all([
    db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`),
    db.query<{ table_name: string; column_name: string; udt_name: string; domain_name: string | null }>(`SELECT table_name, column_name, udt_name, domain_name FROM information_schema.columns WHERE table_schema = current_schema()`),
    db.query<{ name: string; valid: boolean }>(`SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()`),
    db.query<{ name: string }>(`SELECT viewname AS name FROM pg_views WHERE schemaname = current_schema() UNION SELECT matviewname FROM pg_matviews WHERE schemaname = current_schema()`),
    db.query<{ name: string }>(`SELECT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()`),
  ]);
  return {
    tables: new Set(tables.rows.map((r) => r.name)),
    columns: new Map(columns.rows.map((r) => [`${r.table_name}.${r.column_name}`, { udt: r.udt_name, domain: r.domain_name }])),
    indexes: new Map(indexes.rows.map((r) => [r.name, r.valid])),
    views: new Set(views.rows.map((r) => r.name)),
    functions: new Set(functions.rows.map((r) => r.name)),
  };
}

function presenceProblem({ object: o, by }: Expectation, catalog: CatalogSnapshot, expected: ExpectedSchema): string | undefined {
  switch (o.kind) {
    case 'table':
      return catalog.tables.has(o.name) ? undefined : `table ${o.name} does not exist (${by} creates it)`;
    case 'column': {
      // A missing table is reported once, not once per column.
      if (!catalog.tables.has(o.table) && expected.present.has(`table:${o.table}`)) return undefined;
      const actual = catalog.columns.get(`${o.table}.${o.name}`);
      if (!actual) return `table ${o.table} has no column ${o.name} (${by} adds it as ${o.type})`;
      const want = canonicalType(o.type);
      const have = catalogType(actual.udt);
      if (want === have || (actual.domain !== null && canonicalType(actual.domain) === want)) return undefined;
      return `column ${o.table}.${o.name} is ${have}, but ${by} makes it ${want}`;
    }
    case 'index': {
      const valid = catalog.indexes.get(o.name);
      if (valid === undefined) return `index ${o.name} does not exist (${by} creates it)`;
      return valid ? undefined : `index ${o.name} is invalid, left by an interrupted concurrent build (${by} creates it)`;
    }
    case 'view':
      return catalog.views.has(o.name) ? undefined : `view ${o.name} does not exist (${by} creates it)`;
    case 'function':
      return catalog.functions.has(o.name) ? undefined : `function ${o.name}() does not exist (${by} creates it)`;
  }
}

function absenceProblem({ object: o, by }: Expectation, catalog: CatalogSnapshot): string | undefined {
  const exists = o.kind === 'table' ? catalog.tables.has(o.name) : o.kind === 'column' ? catalog.columns.has(`${o.table}.${o.name}`) : o.kind === 'index' ? catalog.indexes.has(o.name) : o.kind === 'view' ? catalog.views.has(o.name) : catalog.functions.has(o.name);
  if (!exists) return undefined;
  return o.kind === 'column' ? `table ${o.table} still has column ${o.name}, but ${by} drops it` : `${o.kind} ${o.name} still exists, but ${by} drops it`;
}

/** Every way the database differs from what 001…NNN leave (empty: it matches); `only` keeps one file's expectations. */
export function schemaProblems(expected: ExpectedSchema, catalog: CatalogSnapshot, only?: string): string[] {
  const mine = (e: Expectation) => only === undefined || e.by === only;
  return [
    ...[...expected.present.values()].filter(mine).map((e) => presenceProblem(e, catalog, expected)),
    ...[...expected.absent.values()].filter(mine).map((e) => absenceProblem(e, catalog)),
  ].filter((p): p is string => p !== undefined);
}

/** What is wrong with one migration's own objects (not the earlier ones'), in the schema as it stands after it. */
const ownProblems = (parsed: ParsedMigration[], p: ParsedMigration, catalog: CatalogSnapshot) => schemaProblems(expectedAfter(parsed, p.migration.version), catalog, labelOf(p.migration));

/**
 * The highest migration whose own objects all exist. Not "everything up to it": when 004 lost
 * a column but 005's table is there, 005 is the answer, and `baseline --to 005` then names the
 * missing column — where "003" would send `migrate up` into "relation bookings already exists".
 * A migration the parser sees nothing in (rows only) leaves no trace to find: never the answer.
 */
export function inferApplied(parsed: ParsedMigration[], catalog: CatalogSnapshot): { inferred: string | undefined; nextProblems: string[] } {
  let inferred: string | undefined;
  for (const p of parsed) if (p.changes.length > 0 && ownProblems(parsed, p, catalog).length === 0) inferred = p.migration.version;
  const next = parsed.find((p) => p.changes.length > 0 && (inferred === undefined || p.migration.version > inferred));
  return { inferred, nextProblems: next && inferred === undefined ? ownProblems(parsed, next, catalog) : [] };
}

// ---------------------------------------------------------------------------------------------
// Detection (`migrate status`, deploy's db.migrate) and its messages

export interface UnmanagedSchema {
  /** Tables the migrations create that exist, in migration order. */
  tables: string[];
  /** The highest migration whose objects all exist; undefined: not even 001's. */
  inferred: string | undefined;
  /** Why the migration after `inferred` does not look applied. */
  nextProblems: string[];
}

/**
 * A schema routergpt does not manage yet: tables of the migrations exist, but the migrations
 * table is missing or empty — applying 001 would fail on "relation shops already exists".
 */
export async function detectUnmanaged(db: Queryable, migrations: MigrationFile[]): Promise<UnmanagedSchema | undefined> {
  if ((await readApplied(db)).length > 0) return undefined;
  const catalog = await readCatalog(db);
  const parsed = parseMigrations(migrations);
  const created = parsed.flatMap((p) => p.changes.filter((c) => c.op === 'create' && c.object.kind === 'table').map((c) => c.object.name));
  const tables = [...new Set(created)].filter((t) => catalog.tables.has(t));
  if (tables.length === 0) return undefined;
  return { tables, ...inferApplied(parsed, catalog) };
}

export const baselineCommand = (version: string, env?: string) => `routergpt migrate baseline --to ${version}${env ? ` --env ${env}` : ''}`;

function tablesExist(tables: string[]): string {
  const list = tables.length <= 4 ? tables.join(', ') : `${tables.slice(0, 3).join(', ')}, … (${tables.length} tables)`;
  return tables.length === 1 ? `table ${list} exists` : `tables ${list} exist`;
}

/** The next action for an unmanaged schema. */
export function unmanagedAdvice(u: UnmanagedSchema, env?: string): string {
  if (u.inferred) return `run \`${baselineCommand(u.inferred, env)}\``;
  return `repair the schema from migrations/ (${u.nextProblems.slice(0, 3).join('; ')}), then run \`${baselineCommand('NNN', env)}\``;
}

/** "tables shops, … exist but no migration is recorded; it looks like 005 is applied" */
export function unmanagedSummary(u: UnmanagedSchema): string {
  return `${tablesExist(u.tables)} but no migration is recorded${u.inferred ? `; it looks like ${u.inferred} is applied` : ", and not even 001's objects are all there"}`;
}

/** "unmanaged schema: tables shops, … exist but no migration is recorded; it looks like 005 is applied → run `…`" */
export function describeUnmanaged(u: UnmanagedSchema, env?: string): string {
  return `unmanaged schema: ${unmanagedSummary(u)} → ${unmanagedAdvice(u, env)}`;
}

/** What applying migrations refuses with on an unmanaged schema, instead of failing on "relation … already exists". */
export function unmanagedError(u: UnmanagedSchema, env?: string): OperationError {
  return new OperationError(
    `Unmanaged schema: ${unmanagedSummary(u)}. Applying 001 would fail on the existing tables; nothing was changed.`,
    `${unmanagedAdvice(u, env).replace(/^./, (c) => c.toUpperCase())}, then try again.`,
  );
}

/**
 * migrateUp's `beforeApply`: refuses an unmanaged schema under the migration lock. Checked
 * before the lock, a concurrent `migrate up` that committed 001 between our two reads would
 * look like an unmanaged schema.
 */
export function refuseUnmanaged(migrations: MigrationFile[], env?: string): NonNullable<MigratorDeps['beforeApply']> {
  return async (client, status) => {
    if (status.applied.length > 0) return;
    const unmanaged = await detectUnmanaged(client, migrations);
    if (unmanaged) throw unmanagedError(unmanaged, env);
  };
}

// ---------------------------------------------------------------------------------------------
// `migrate baseline`

export type BaselineDeps = Pick<MigratorDeps, 'pool' | 'migrations' | 'lockWaitMs' | 'onEvent' | 'appliedBy'>;

export interface BaselineResult {
  to: string;
  /** The highest version recorded before (null: none). */
  before: string | null;
  /** Recorded by this call (on a dry run: what would be). Empty: nothing to do. */
  recorded: Array<{ version: string; name: string }>;
  dryRun: boolean;
  /** Worth knowing, but no reason to stop (later migrations' objects exist too). */
  warnings: string[];
}

/** --to must name a migration file; checked before anything connects. */
export function verifyBaselineTarget(migrations: MigrationFile[], to: string): void {
  if (migrations.some((m) => m.version === to)) return;
  const versions = migrations.map((m) => m.version);
  throw new UsageError(`There is no migration ${to}: --to names the last migration the database already has.`, `Use one of ${versions.join(', ')} (\`routergpt migrate status\` lists them).`);
}

/** Read-only: what a baseline to `to` would record, after checking the objects; throws what it refuses. */
async function prepareBaseline(db: Queryable, migrations: MigrationFile[], to: string): Promise<Omit<BaselineResult, 'dryRun'>> {
  const status = computeStatus(migrations, await readApplied(db));
  verifyNoEdits(status);
  const before = status.current;
  if (before !== null && before >= to) return { to, before, recorded: [], warnings: [] };
  const gaps = before === null ? [] : status.pending.filter((p) => p.version < before);
  if (gaps.length > 0) {
    throw new OperationError(`The migrations table records ${before} but not ${gaps.map((g) => g.version).join(', ')}: with a gap in the history a baseline cannot tell what is applied. Nothing was recorded.`, 'Apply the missing ones with `routergpt migrate up`, then run the baseline again.');
  }
  const parsed = parseMigrations(migrations);
  const catalog = await readCatalog(db);
  const problems = schemaProblems(expectedAfter(parsed, to), catalog);
  if (problems.length > 0) {
    throw new ConfigError(
      `Cannot baseline to ${to}: the database lacks what migrations up to ${to} create:\n${problems.map((p) => `  - ${p}`).join('\n')}\nNothing was recorded.`,
      'Add or fix what is listed by hand (the SQL is in the migration files named above), then run the baseline again.',
      { problems },
    );
  }
  const { inferred } = inferApplied(parsed, catalog);
  const warnings = inferred !== undefined && inferred > to ? [`the objects of the migrations after ${to} up to ${inferred} exist too: \`migrate up\` would fail creating them again; --to ${inferred} looks right`] : [];
  const recorded = migrations.filter((m) => m.version <= to && status.pending.some((p) => p.version === m.version)).map((m) => ({ version: m.version, name: m.name }));
  return { to, before, recorded, warnings };
}

/**
 * Record 001…`to` as applied without running them, once their objects are checked: under the
 * migrators' advisory lock, re-checked there, in one transaction (all rows or none). Already at
 * `to` or beyond: nothing to do. A dry run checks and reports, takes no lock and writes nothing.
 */
export async function baselineMigrations(deps: BaselineDeps, options: { to: string; dryRun?: boolean }): Promise<BaselineResult> {
  const { to } = options;
  verifyBaselineTarget(deps.migrations, to);
  if (options.dryRun) return { ...(await prepareBaseline(deps.pool, deps.migrations, to)), dryRun: true };
  return withMigrationLock(deps, async (client) => {
    const prepared = await prepareBaseline(client, deps.migrations, to);
    if (prepared.recorded.length === 0) return { ...prepared, dryRun: false };
    const recorded: BaselineResult['recorded'] = [];
    await client.query('BEGIN');
    try {
      await ensureTable(client);
      for (const entry of prepared.recorded) {
        const m = deps.migrations.find((x) => x.version === entry.version)!;
        if (await recordApplied(client, m, 0, deps.appliedBy)) recorded.push(entry);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    return { ...prepared, recorded, dryRun: false };
  });
}
