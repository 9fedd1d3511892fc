/**
 * The response side of "one schema" (issue 14, A14): every JSON body the API sends is held to
 * the bounds the OpenAPI document publishes for it — a string past its maxLength is cut (ending
 * in "…"), an array past its maxItems keeps its first items — so what a client reads never
 * exceeds what the contract promised, whatever a shop row, an assistant reply or a request echoed
 * in an error message held. The request side is the routes' body validation (422).
 *
 * A preSerialization hook: it sees the object before fast-json-stringify, with the route's
 * response schema for the status (src/server/schemas.ts, read from the document); an error
 * status without one (a 404 for an unknown path, a 401 before routing) uses the error body.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { errorBodySchema, type JsonSchema } from '../schemas.js';

const ELLIPSIS = '…';

/** Which branch of an anyOf/oneOf describes `value` (null vs object vs array vs scalar). */
function branchFor(value: unknown, branches: JsonSchema[]): JsonSchema | undefined {
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
  return branches.find((b) => {
    const types: unknown[] = Array.isArray(b.type) ? b.type : b.type === undefined ? [] : [b.type];
    return types.includes(kind) || (kind === 'integer' && types.includes('number')) || (types.length === 0 && kind === 'object' && b.properties !== undefined);
  });
}

type Cut = { count: number };
/** `value` held to one schema's bounds; undefined when the schema (at any depth) has none to hold. */
type Clamp = (value: unknown, cut: Cut) => unknown;

function clampString(value: string, max: number, cut: Cut): string {
  // UTF-16 length ≥ code points: within it, within the bound (the common case, no copy).
  if (value.length <= max) return value;
  const chars = Array.from(value);
  if (chars.length <= max) return value;
  cut.count++;
  return max < 1 ? '' : chars.slice(0, max - 1).join('') + ELLIPSIS;
}

/** A schema whose only bound is a string's maxLength: any other value passes it unchanged. */
function isStringLeaf(schema: JsonSchema): boolean {
  return typeof schema.maxLength === 'number' && !schema.anyOf && !schema.oneOf && schema.maxItems === undefined && !schema.items && !schema.properties;
}

/**
 * The walk for `schema`, built once per schema object (issue 16: the generic walk looked every
 * key of every response up in its schema, numbers and all): only the fields that have a bound
 * somewhere below them are visited, and a schema with none costs nothing.
 */
function compile(schema: JsonSchema | undefined): Clamp | undefined {
  if (!schema) return undefined;
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (branches) {
    const compiled = new Map<JsonSchema, Clamp>();
    for (const b of branches) {
      const c = clampFor(b);
      if (c) compiled.set(b, c);
    }
    if (compiled.size === 0) return undefined;
    return (value, cut) => {
      if (value === null || value === undefined) return value;
      const branch = branchFor(value, branches);
      const c = branch && compiled.get(branch);
      return c ? c(value, cut) : value;
    };
  }
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : undefined;
  const maxItems = typeof schema.maxItems === 'number' ? schema.maxItems : undefined;
  const items = clampFor(schema.items as JsonSchema | undefined);
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  // A bounded string field (most of them) is checked in place, without a call of its own.
  const leafKeys: string[] = [];
  const leafMax: number[] = [];
  const bounded: Array<[string, Clamp]> = [];
  for (const key in properties) {
    const p = properties[key]!;
    if (isStringLeaf(p)) {
      leafKeys.push(key);
      leafMax.push(p.maxLength as number);
      continue;
    }
    const c = clampFor(p);
    if (c) bounded.push([key, c]);
  }
  if (maxLength === undefined && maxItems === undefined && !items && leafKeys.length === 0 && bounded.length === 0) return undefined;
  return (value, cut) => {
    if (value === null || value === undefined) return value;
    if (typeof value === 'string') return maxLength === undefined ? value : clampString(value, maxLength, cut);
    if (Array.isArray(value)) {
      const max = maxItems ?? value.length;
      if (value.length > max) cut.count++;
      let out: unknown[] | undefined = value.length > max ? value.slice(0, max) : undefined;
      if (items) {
        for (let i = 0; i < Math.min(max, value.length); i++) {
          const clamped = items(value[i], cut);
          if (clamped !== value[i]) (out ??= value.slice(0, max))[i] = clamped;
        }
      }
      return out ?? value;
    }
    if (typeof value === 'object' && properties) {
      const source = value as Record<string, unknown>;
      // Copied only once something in it is cut.
      let out: Record<string, unknown> | undefined;
      for (let i = 0; i < leafKeys.length; i++) {
        const key = leafKeys[i]!;
        const v = source[key];
        if (typeof v !== 'string' || v.length <= leafMax[i]! || !Object.hasOwn(source, key)) continue;
        const clamped = clampString(v, leafMax[i]!, cut);
        if (clamped !== v) (out ??= { ...source })[key] = clamped;
      }
      for (let i = 0; i < bounded.length; i++) {
        const [key, c] = bounded[i]!;
        if (!Object.hasOwn(source, key)) continue;
        const v = source[key];
        const clamped = c(v, cut);
        if (clamped !== v) (out ??= { ...source })[key] = clamped;
      }
      return out ?? value;
    }
    return value;
  };
}

const compiled = new WeakMap<JsonSchema, Clamp | null>();
function clampFor(schema: JsonSchema | undefined): Clamp | undefined {
  if (!schema) return undefined;
  let c = compiled.get(schema);
  if (c === undefined) {
    c = compile(schema) ?? null;
    compiled.set(schema, c);
  }
  return c ?? undefined;
}

/**
 * `value` within `schema`'s maxLength/maxItems, recursively; returns the same value when nothing
 * needed cutting, and counts what was cut in `cut`. Lengths are in code points, as JSON Schema counts them.
 */
export function clampToSchema(value: unknown, schema: JsonSchema | undefined, cut: Cut = { count: 0 }): unknown {
  const clamp = clampFor(schema);
  return clamp ? clamp(value, cut) : value;
}

export const responseBoundsPlugin: FastifyPluginAsync = async (app: FastifyInstance) => {
  // A callback hook, not an async one: no promise per response on the hot path (bench/http).
  app.addHook('preSerialization', (request, reply, payload, done) => {
    const status = reply.statusCode;
    const responses = (request.routeOptions.schema?.response ?? {}) as Record<string, JsonSchema | undefined>;
    const schema = responses[String(status)] ?? (status >= 400 ? errorBodySchema : undefined);
    if (!schema) return done(null, payload);
    const clamp = clampFor(schema);
    if (!clamp) return done(null, payload);
    const cut = { count: 0 };
    const clamped = clamp(payload, cut);
    if (cut.count > 0) request.log.warn({ status, cut: cut.count }, `response held to the documented bounds: ${cut.count} value(s) cut (openapi/openapi_chatgpt.yaml maxLength/maxItems)`);
    done(null, clamped);
  });
};

// Not encapsulated: the hook must cover every route and the 404 handler.
Object.assign(responseBoundsPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'routergpt-response-bounds' });
