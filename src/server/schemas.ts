/**
 * Every request and response JSON schema of the API, read from the OpenAPI document
 * (openapi/openapi_chatgpt.yaml, components.schemas) — one schema, one type (issue 14, A14):
 * the bounds the document publishes (maxLength, maxItems, minimum/maximum, patterns) are the
 * ones the routes validate requests with (a 422 past them), fast-json-stringify serialises with,
 * and src/server/plugins/response-bounds.ts holds responses to; the request bodies' TypeScript
 * types are generated from the same document (src/openapi/contract-types.ts, `npm run
 * openapi:types`; test/foundation/contract-types.test.ts fails when it is stale). Change a bound in the document;
 * `routergpt openapi validate` (Spectral, OWASP rules) checks that every field has one.
 *
 * Read once, at import, from the packaged template (the same file GET /openapi.yaml renders).
 */
import { parseYamlCached } from '../lib/yaml-cache.js';
import type { components } from '../openapi/contract-types.js';
import { readOpenapiTemplate } from '../openapi/document.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON Schema objects read from YAML
export type JsonSchema = Record<string, any>;

const COMPONENT_REF = '#/components/schemas/';
/** OpenAPI-only keywords a JSON Schema validator does not know: `example` (3.0 style), the int32/int64 formats (the document's minimum/maximum are what bound the value). */
const OPENAPI_ONLY_FORMATS = new Set(['int32', 'int64']);

function readComponents(): Record<string, JsonSchema> {
  // Through the parse cache: yaml itself is not loaded when the template was parsed before (issue 16).
  const doc = parseYamlCached(readOpenapiTemplate()) as { components?: { schemas?: Record<string, JsonSchema> } };
  const schemas = doc.components?.schemas;
  if (!schemas) throw new Error('openapi/openapi_chatgpt.yaml has no components.schemas');
  return schemas;
}

const components = readComponents();

/** One component as a self-contained JSON Schema: $refs to other components inlined (siblings such as `description` kept), OpenAPI-only keywords dropped. */
export function componentSchema(name: string, from: Record<string, JsonSchema> = components): JsonSchema {
  const inline = (node: unknown, trail: readonly string[]): unknown => {
    if (Array.isArray(node)) return node.map((n) => inline(n, trail));
    if (typeof node !== 'object' || node === null) return node;
    const { $ref, example: _example, ...rest } = node as JsonSchema;
    const out: JsonSchema = {};
    if (typeof $ref === 'string') {
      if (!$ref.startsWith(COMPONENT_REF)) throw new Error(`${name}: $ref ${$ref} is not a component schema`);
      const target = $ref.slice(COMPONENT_REF.length);
      if (trail.includes(target)) throw new Error(`${name}: $ref cycle through ${target}`);
      if (!from[target]) throw new Error(`${name}: $ref ${$ref} does not exist`);
      Object.assign(out, inline(from[target], [...trail, target]));
    }
    for (const [key, value] of Object.entries(rest)) {
      if (key === 'format' && OPENAPI_ONLY_FORMATS.has(String(value))) continue;
      // `properties` maps names to schemas: a property may be called "example" or "format".
      out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as JsonSchema).map(([k, v]) => [k, inline(v, trail)])) : inline(value, trail);
    }
    return out;
  };
  if (!from[name]) throw new Error(`openapi/openapi_chatgpt.yaml has no components.schemas.${name}`);
  return inline(from[name], [name]) as JsonSchema;
}

/** A number the document must state (a bound or a default), read from `schema.properties[field][key]`. */
function stated(schema: JsonSchema, field: string, key: 'maximum' | 'maxLength' | 'default'): number {
  const value = schema.properties?.[field]?.[key];
  if (typeof value !== 'number') throw new Error(`openapi/openapi_chatgpt.yaml: ${field} has no ${key}`);
  return value;
}

/** The one error body every 4xx/5xx (other than /health's 503) uses. */
export const errorBodySchema = componentSchema('Error');

// --- /health -------------------------------------------------------------------------------
export const healthResponseSchema = componentSchema('Health');

// --- POST /router/search-by-location --------------------------------------------------------
export const searchBodySchema = componentSchema('SearchRequest');
export const SEARCH_DEFAULT_RADIUS_MILES = stated(searchBodySchema, 'radius_miles', 'default');
export const SEARCH_MAX_RADIUS_MILES = stated(searchBodySchema, 'radius_miles', 'maximum');
export const SEARCH_DEFAULT_LIMIT = stated(searchBodySchema, 'limit', 'default');
export const SEARCH_MAX_LIMIT = stated(searchBodySchema, 'limit', 'maximum');

/** The request body as the document defines it (src/openapi/contract-types.ts, generated from it), defaults applied. */
export type SearchBody = components['schemas']['SearchRequest'];

export const searchResultSchema = componentSchema('ShopResult');
export const searchResponseSchema = componentSchema('SearchResponse');

// --- POST /router/delegate -------------------------------------------------------------------
export const delegateBodySchema = componentSchema('DelegateRequest');

/** The request body as the document defines it (src/openapi/contract-types.ts, generated from it), defaults applied. */
export type DelegateBody = components['schemas']['DelegateRequest'];

export const shopSchema = componentSchema('Shop');
export const delegateResponseSchema = componentSchema('DelegateResponse');

// --- POST /chat --------------------------------------------------------------------------------
export const chatBodySchema = componentSchema('ChatRequest');
export const CHAT_MAX_MESSAGE_LENGTH = stated(chatBodySchema, 'message', 'maxLength');
export const IDEMPOTENCY_KEY_MAX_LENGTH = stated(chatBodySchema, 'idempotency_key', 'maxLength');

/** The request body as the document defines it (src/openapi/contract-types.ts, generated from it), defaults applied. */
export type ChatBody = components['schemas']['ChatRequest'];

export const bookingSchema = componentSchema('Booking');
export const chatResponseSchema = componentSchema('ChatResponse');

// --- POST /router/feedback ----------------------------------------------------------------------
export const feedbackBodySchema = componentSchema('FeedbackRequest');
export const FEEDBACK_MAX_COMMENT_LENGTH = stated(feedbackBodySchema, 'comment', 'maxLength');

/** The request body as the document defines it (src/openapi/contract-types.ts, generated from it), defaults applied. */
export type FeedbackBody = components['schemas']['FeedbackRequest'];

export const feedbackResponseSchema = componentSchema('FeedbackResponse');

/** Response schemas for every status a router route can answer with. */
export const errorResponses = {
  401: errorBodySchema,
  404: errorBodySchema,
  413: errorBodySchema,
  415: errorBodySchema,
  422: errorBodySchema,
  429: errorBodySchema,
  500: errorBodySchema,
  503: errorBodySchema,
} as const;
