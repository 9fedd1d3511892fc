/**
 * Every difference between two normalised schemas, each named: an extra or missing object, or
 * one field of an object that differs (a column's type, nullability or default; an index's or
 * constraint's definition; a view's query…). Objects of a table that is itself extra or missing
 * are not listed again: "missing table bookings" says it once.
 */
import { objectKind, type NormalisedSchema } from './read-schema.js';

export interface SchemaDifference {
  change: 'extra' | 'missing' | 'changed';
  /** The object's key: `column shops.latitude`. */
  object: string;
  /** For a change: which field, what the snapshot has, what the database has. */
  field?: string;
  expected?: string;
  actual?: string;
  /** One line naming it: "column shops.x: type is integer, the migrations make it text". */
  message: string;
}

const FIELD_WORD: Record<string, string> = { definition: 'definition', nullable: 'nullability', default: 'default', type: 'type', valid: 'validity' };

function describeObject(key: string, def: Record<string, string>): string {
  const kind = objectKind(key);
  if (kind === 'column') return `${key} ${def.type}${def.nullable === 'NOT NULL' ? ' NOT NULL' : ''}${def.default ? ` DEFAULT ${def.default}` : ''}`;
  if (kind === 'index' || kind === 'constraint' || kind === 'trigger') return `${key} (${def.definition})`;
  return key;
}

const shown = (value: string | undefined) => (value === undefined ? 'none' : value.length > 160 ? `${value.slice(0, 157)}…` : value);

export interface DiffOptions {
  /** Fields not compared, per kind of object: `{ view: ['definition'] }` across major versions. */
  ignore?: Partial<Record<string, readonly string[]>>;
}

export function diffSchemas(expected: NormalisedSchema, actual: NormalisedSchema, options: DiffOptions = {}): SchemaDifference[] {
  const differences: SchemaDifference[] = [];
  const tableOf = (schema: NormalisedSchema, key: string) => schema[key]?.table;
  const coveredByTable = (key: string, schema: NormalisedSchema, other: NormalisedSchema) => {
    const table = tableOf(schema, key);
    return table !== undefined && objectKind(key) !== 'table' && schema[`table ${table}`] !== undefined && other[`table ${table}`] === undefined;
  };
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  for (const key of keys) {
    const want = expected[key];
    const have = actual[key];
    if (want && !have) {
      if (!coveredByTable(key, expected, actual)) differences.push({ change: 'missing', object: key, message: `missing ${describeObject(key, want)}` });
      continue;
    }
    if (have && !want) {
      if (!coveredByTable(key, actual, expected)) differences.push({ change: 'extra', object: key, message: `extra ${describeObject(key, have)}` });
      continue;
    }
    const ignored = options.ignore?.[objectKind(key)] ?? [];
    const fields = [...new Set([...Object.keys(want!), ...Object.keys(have!)])].filter((f) => !ignored.includes(f)).sort();
    for (const field of fields) {
      const a = want![field];
      const b = have![field];
      if (a === b) continue;
      const word = FIELD_WORD[field] ?? field;
      differences.push({ change: 'changed', object: key, field, expected: a, actual: b, message: `${key}: ${word} is ${shown(b)}, the migrations make it ${shown(a)}` });
    }
  }
  return differences;
}

/** Counts per kind of object, for a summary: "2 columns, 1 index". */
export function summariseDifferences(differences: SchemaDifference[]): string {
  const counts = new Map<string, number>();
  for (const d of differences) {
    const kind = objectKind(d.object);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].map(([kind, n]) => `${n} ${kind}${n === 1 ? '' : kind.endsWith('x') ? 'es' : 's'}`).join(', ');
}
