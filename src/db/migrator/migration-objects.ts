/**
 * What the migration files create, read from their SQL with a pragmatic parser — regexes over
 * each statement with its comments and literals blanked, not a SQL grammar: CREATE TABLE (its
 * columns and their types), ALTER TABLE … ADD/DROP COLUMN, CREATE INDEX, CREATE VIEW, CREATE
 * FUNCTION, and the DROPs of those; and what the schema should hold after 001…NNN. Constraints,
 * rows, grants, renames and type changes are not read. Used by `migrate baseline`, its detection
 * of an unmanaged schema, and `migrate repair` (baseline.ts, repair.ts).
 */
import type { MigrationFile } from './files.js';
import { scanSql, splitStatements } from './sql-split.js';

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
  for (const { kind, text } of scanSql(sql)) {
    // Quoted identifiers are names: keep them.
    out += kind === 'comment' ? (text.endsWith('\n') ? ' \n' : ' ') : kind === 'string' || kind === 'dollar-string' ? "''" : text;
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

export interface Expectation {
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

export const labelOf = (m: MigrationFile) => `${m.version}_${m.name}`;
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
