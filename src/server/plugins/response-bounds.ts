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

/**
 * `value` within `schema`'s maxLength/maxItems, recursively; returns the same value when nothing
 * needed cutting, and counts what was cut in `cut`. Lengths are in code points, as JSON Schema counts them.
 */
export function clampToSchema(value: unknown, schema: JsonSchema | undefined, cut: { count: number } = { count: 0 }): unknown {
  if (!schema || value === null || value === undefined) return value;
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (branches) return clampToSchema(value, branchFor(value, branches), cut);
  if (typeof value === 'string') {
    const max = schema.maxLength;
    // UTF-16 length ≥ code points: within it, within the bound (the common case, no copy).
    if (typeof max !== 'number' || value.length <= max) return value;
    const chars = Array.from(value);
    if (chars.length <= max) return value;
    cut.count++;
    return max < 1 ? '' : chars.slice(0, max - 1).join('') + ELLIPSIS;
  }
  if (Array.isArray(value)) {
    const max = typeof schema.maxItems === 'number' ? schema.maxItems : value.length;
    if (value.length > max) cut.count++;
    let out: unknown[] | undefined = value.length > max ? value.slice(0, max) : undefined;
    for (let i = 0; i < Math.min(max, value.length); i++) {
      const clamped = clampToSchema(value[i], schema.items as JsonSchema | undefined, cut);
      if (clamped !== value[i]) (out ??= value.slice(0, max))[i] = clamped;
    }
    return out ?? value;
  }
  if (typeof value === 'object' && schema.properties) {
    const properties = schema.properties as JsonSchema;
    const source = value as Record<string, unknown>;
    // Copied only once something in it is cut.
    let out: Record<string, unknown> | undefined;
    for (const key in source) {
      const v = source[key];
      const clamped = clampToSchema(v, properties[key], cut);
      if (clamped !== v) (out ??= { ...source })[key] = clamped;
    }
    return out ?? value;
  }
  return value;
}

export const responseBoundsPlugin: FastifyPluginAsync = async (app: FastifyInstance) => {
  // A callback hook, not an async one: no promise per response on the hot path (bench/http).
  app.addHook('preSerialization', (request, reply, payload, done) => {
    const status = reply.statusCode;
    const responses = (request.routeOptions.schema?.response ?? {}) as Record<string, JsonSchema | undefined>;
    const schema = responses[String(status)] ?? (status >= 400 ? errorBodySchema : undefined);
    if (!schema) return done(null, payload);
    const cut = { count: 0 };
    const clamped = clampToSchema(payload, schema, cut);
    if (cut.count > 0) request.log.warn({ status, cut: cut.count }, `response held to the documented bounds: ${cut.count} value(s) cut (openapi/openapi_chatgpt.yaml maxLength/maxItems)`);
    done(null, clamped);
  });
};

// Not encapsulated: the hook must cover every route and the 404 handler.
Object.assign(responseBoundsPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'routergpt-response-bounds' });
