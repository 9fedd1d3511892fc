/**
 * fast-check arbitraries derived from an OpenAPI (JSON Schema 2020-12) request schema, for the
 * fuzz suite (issue 14, part B). `fromSchema` draws values the schema accepts — mostly — and
 * `hostileFrom` values an attacker or a confused client sends: the wrong type, a bound just
 * past its limit, a missing required field, an unknown or `__proto__` key, text PostgreSQL
 * cannot store, float extremes. Known-good values (real shop slugs, session ids) enter through
 * `seeds`, keyed by property name, so generated requests reach past the 404s into real work.
 */
import fc from 'fast-check';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking a dereferenced JSON Schema
export type Schema = Record<string, any>;

/** Property name → values that exist in the database under test (e.g. shop_slug → real slugs). */
export type Seeds = Record<string, readonly unknown[]>;

/** Text a client can send and PostgreSQL cannot store, or that tends to break string handling. */
export const HOSTILE_STRINGS: readonly string[] = [
  '\ud800', // lone high surrogate
  'a\udfffb', // lone low surrogate
  'nul\u0000byte',
  '\u0000',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-0',
  '',
  ' ',
  '\u202etxt.exe', // right-to-left override
  '💈✂️ barber',
  "' OR 1=1 --",
  '"; DROP TABLE shops; --',
  '<script>alert(1)</script>',
  '../../../etc/passwd',
  '%00%ff%fe',
  '\r\nSet-Cookie: a=b',
  'ß'.repeat(300),
  'x'.repeat(5_000),
  '__proto__',
  'constructor',
];

/** Numbers at the edges of IEEE 754 and of PostgreSQL's float functions. */
export const HOSTILE_NUMBERS: readonly number[] = [5e-324, -5e-324, 1e-300, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER - 2, -0, 0, 0.1 + 0.2, 2 ** 31, -(2 ** 31) - 1, 2 ** 63];

function typesOf(schema: Schema): string[] {
  if (Array.isArray(schema.type)) return schema.type as string[];
  if (typeof schema.type === 'string') return [schema.type];
  if (schema.properties) return ['object'];
  return ['string'];
}

function numberArb(schema: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum : -1e6);
  const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum : 1e6);
  if (integer) return fc.integer({ min: Math.ceil(min + (schema.exclusiveMinimum !== undefined ? 1 : 0)), max: Math.floor(max - (schema.exclusiveMaximum !== undefined ? 1 : 0)) });
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true, minExcluded: schema.exclusiveMinimum !== undefined, maxExcluded: schema.exclusiveMaximum !== undefined });
}

function stringArb(schema: Schema): fc.Arbitrary<string> {
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 200, 400);
  if (typeof schema.pattern === 'string') {
    return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= minLength && s.length <= (schema.maxLength ?? Infinity));
  }
  return fc.string({ minLength, maxLength, unit: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz 0123456789') }, { weight: 1, arbitrary: fc.constantFrom('é', 'ñ', '中', '😀', '\t', '-', "'") }) });
}

/** Values the schema accepts (seeds first, for fields that name existing rows). */
export function fromSchema(schema: Schema, seeds: Seeds = {}, name?: string): fc.Arbitrary<unknown> {
  const seeded = name !== undefined ? seeds[name] : undefined;
  const own = generate(schema, seeds);
  return seeded && seeded.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...seeded) }, { weight: 1, arbitrary: own }) : own;
}

function generate(schema: Schema, seeds: Seeds): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const alternatives = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined;
  if (alternatives) return fc.oneof(...alternatives.map((s) => fromSchema(s, seeds)));
  const arbs = typesOf(schema).map((type): fc.Arbitrary<unknown> => {
    switch (type) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return numberArb(schema, true);
      case 'number':
        return numberArb(schema, false);
      case 'array':
        return fc.array(fromSchema(schema.items ?? {}, seeds), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 5, 20) });
      case 'object':
        return objectArb(schema, seeds);
      default:
        return stringArb(schema);
    }
  });
  return arbs.length === 1 ? arbs[0]! : fc.oneof(...arbs);
}

function objectArb(schema: Schema, seeds: Seeds): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set<string>((schema.required as string[] | undefined) ?? []);
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, propertySchema] of Object.entries(properties)) shape[key] = fromSchema(propertySchema, seeds, key);
  return fc.record(shape, { requiredKeys: [...required].filter((k) => k in shape) });
}

/** One value a property must not accept: another type, a bound overstepped, hostile text. */
function hostileValue(schema: Schema): fc.Arbitrary<unknown> {
  const choices: fc.Arbitrary<unknown>[] = [fc.constantFrom(...HOSTILE_STRINGS), fc.constantFrom(...HOSTILE_NUMBERS), fc.constantFrom(null, true, [], {}, [1, 2, 3], { nested: { deep: [{}] } })];
  const types = typesOf(schema);
  if (types.includes('number') || types.includes('integer')) {
    const edges: number[] = [];
    if (schema.minimum !== undefined) edges.push(schema.minimum - 1e-9, schema.minimum - 1);
    if (schema.maximum !== undefined) edges.push(schema.maximum + 1e-9, schema.maximum + 1);
    if (schema.exclusiveMinimum !== undefined) edges.push(schema.exclusiveMinimum);
    if (types.includes('integer')) edges.push(1.5);
    if (edges.length > 0) choices.push(fc.constantFrom(...edges));
  }
  if (types.includes('string')) {
    if (schema.maxLength !== undefined) choices.push(fc.constant('y'.repeat(schema.maxLength + 1)));
    if (schema.minLength) choices.push(fc.constant(''));
    choices.push(stringArb({ ...schema, pattern: undefined }).map((s) => `${s}\ud800`));
  }
  return fc.oneof(...choices);
}

/**
 * An object body that breaks the schema in one or more ways, starting from a valid one: a
 * property replaced by a hostile value, a required one removed, an unknown or prototype key added.
 */
export function hostileFrom(schema: Schema, seeds: Seeds = {}): fc.Arbitrary<unknown> {
  if (typesOf(schema)[0] !== 'object' || !schema.properties) return hostileValue(schema);
  const properties = Object.keys(schema.properties as Record<string, Schema>);
  const mutation = fc.oneof(
    fc.constantFrom(...properties).chain((key) => hostileValue((schema.properties as Record<string, Schema>)[key]!).map((value) => ({ kind: 'replace' as const, key, value }))),
    fc.constantFrom(...properties).map((key) => ({ kind: 'remove' as const, key, value: undefined })),
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra', '').chain((key) => fc.constantFrom<unknown>({ polluted: true }, 1, 'x').map((value) => ({ kind: 'add' as const, key, value }))),
  );
  return fc.tuple(fromSchema(schema, seeds), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([base, mutations]) => {
    // JSON.parse makes `__proto__` an own key (an object literal would set the prototype instead).
    const out = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
    for (const m of mutations) {
      if (m.kind === 'remove') delete out[m.key];
      else Object.defineProperty(out, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
    }
    return out;
  });
}
