/**
 * A14: one schema, one type. The bounds openapi/openapi_chatgpt.yaml publishes are the ones the
 * server enforces: the routes' body schemas are read from the document (every documented
 * maxLength / maximum is a 422 one past it, and fine at it), and every response is held to the
 * documented maxLength / maxItems (a shop name longer than the contract allows is cut, a 422 lists
 * at most the documented number of fields). Real app, real PostgreSQL.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RATE_LIMIT_PER_MINUTE } from '../../src/config/resolve.js';
import { OPENAPI_TEMPLATE_PATH } from '../../src/openapi/document.js';
import { API_ERROR_CODES } from '../../src/server/errors.js';
import { clampToSchema } from '../../src/server/plugins/response-bounds.js';
import { chatBodySchema, delegateBodySchema, errorBodySchema, feedbackBodySchema, searchBodySchema } from '../../src/server/schemas.js';
import { buildTestApp, createServerDb, FIXED_NOW, insertTestShop, testConfig, type ServerDb } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking a dereferenced OpenAPI document
type Json = Record<string, any>;

let sdb: ServerDb;
let app: FastifyInstance;
let doc: Json;
let sessionId: string;
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('int32', true);
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
ajv.addFormat('date-time', true);

beforeAll(async () => {
  doc = (await SwaggerParser.dereference(OPENAPI_TEMPLATE_PATH)) as Json;
  sdb = await createServerDb('bounds');
  await insertTestShop(sdb.pool, 'bounds-barber');
  // A row longer than the contract allows (the shops table does not bound its text).
  await sdb.pool.query(`INSERT INTO shops (slug, name, category, city, state, timezone, latitude, longitude) VALUES ('long-name', $1, 'barbershop', 'Tempe', 'AZ', 'America/Phoenix', 10.5, 10.5)`, ['N'.repeat(300)]);
  app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url, { RATE_LIMIT_SEARCH_PER_MIN: '1000', RATE_LIMIT_DELEGATE_PER_MIN: '1000' }), clock: () => FIXED_NOW });
  sessionId = (await app.inject({ method: 'POST', url: '/router/delegate', payload: { shop_slug: 'bounds-barber' } })).json().session_id;
});
afterAll(async () => {
  await app?.close();
  await sdb?.close();
});

const ROUTES = [
  { path: '/router/search-by-location', component: 'SearchRequest', valid: () => ({ latitude: 0, longitude: 0 }) },
  { path: '/router/delegate', component: 'DelegateRequest', valid: () => ({ shop_slug: 'bounds-barber' }) },
  { path: '/chat', component: 'ChatRequest', valid: () => ({ session_id: sessionId, message: 'hi' }) },
  { path: '/router/feedback', component: 'FeedbackRequest', valid: () => ({ session_id: sessionId, rating: 5 }) },
] as const;

describe('A14: one schema — the document publishes the bounds the edge enforces', () => {
  it('the routes validate with the schemas of components.schemas (same bounds, same patterns)', () => {
    const served: Record<string, Json> = { SearchRequest: searchBodySchema, DelegateRequest: delegateBodySchema, ChatRequest: chatBodySchema, FeedbackRequest: feedbackBodySchema };
    for (const [name, schema] of Object.entries(served)) {
      for (const [field, documented] of Object.entries(doc.components.schemas[name].properties as Json)) {
        for (const key of ['maxLength', 'minLength', 'maximum', 'minimum', 'exclusiveMinimum', 'pattern', 'default'] as const) {
          expect(schema.properties[field]?.[key], `${name}.${field}.${key}`).toEqual(documented[key]);
        }
      }
    }
    expect(errorBodySchema.properties.error.properties.code.enum).toEqual(Object.keys(API_ERROR_CODES));
  });

  it('every documented maxLength and maximum of a request field: at the bound accepted, one past it a 422 naming the field', async () => {
    let probed = 0;
    for (const route of ROUTES) {
      for (const [field, prop] of Object.entries(doc.components.schemas[route.component].properties as Json)) {
        const atAndPast: Array<[unknown, unknown]> = [];
        if (typeof prop.maxLength === 'number' && prop.format !== 'uuid') atAndPast.push(['a'.repeat(prop.maxLength), 'a'.repeat(prop.maxLength + 1)]);
        if (typeof prop.maximum === 'number') atAndPast.push([prop.maximum, prop.type === 'integer' ? prop.maximum + 1 : prop.maximum + 0.5]);
        for (const [at, past] of atAndPast) {
          probed++;
          const ok = await app.inject({ method: 'POST', url: route.path, payload: { ...route.valid(), [field]: at } });
          const okFields = ok.statusCode === 422 ? (ok.json().error.fields as Array<{ field: string }>).map((f) => f.field) : [];
          expect(okFields, `${route.path} ${field} at its bound: ${ok.body}`).not.toContain(field);
          const bad = await app.inject({ method: 'POST', url: route.path, payload: { ...route.valid(), [field]: past } });
          expect(bad.statusCode, `${route.path} ${field} past its bound`).toBe(422);
          expect(bad.json().error.fields.map((f: { field: string }) => f.field)).toContain(field);
        }
      }
    }
    expect(probed).toBeGreaterThanOrEqual(10);
  }, 60_000);
});

describe('A14: the rate-limit headers stay within their documented maximum', () => {
  it('a configured limit above the X-RateLimit-Limit maximum is refused when the configuration loads', () => {
    const max = doc.components.headers['X-RateLimit-Limit'].schema.maximum as number;
    expect(max).toBe(MAX_RATE_LIMIT_PER_MINUTE);
    expect(() => testConfig(sdb.db.url, { RATE_LIMIT_SEARCH_PER_MIN: String(max) })).not.toThrow();
    expect(() => testConfig(sdb.db.url, { RATE_LIMIT_SEARCH_PER_MIN: String(max + 1) })).toThrow(/a rate limit must be at most 1000000 per minute/);
  });
});

describe('A14: responses are held to the documented maxLength / maxItems', () => {
  it('a shop name longer than the contract allows is cut, and the answer validates against the document', async () => {
    const res = await app.inject({ method: 'POST', url: '/router/search-by-location', payload: { latitude: 10.5, longitude: 10.5, radius_miles: 1 } });
    expect(res.statusCode).toBe(200);
    const max = doc.components.schemas.ShopResult.properties.name.maxLength as number;
    const name = res.json().results[0].name as string;
    expect(Array.from(name)).toHaveLength(max);
    expect(name.endsWith('…')).toBe(true);
    const validate = ajv.compile(doc.paths['/router/search-by-location'].post.responses['200'].content['application/json'].schema);
    expect(validate(res.json()), ajv.errorsText(validate.errors)).toBe(true);
  });

  it('a 422 lists at most the documented number of fields, each within its bounds', async () => {
    const extras = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${'x'.repeat(300)}${i}`, i]));
    const res = await app.inject({ method: 'POST', url: '/router/search-by-location', payload: { latitude: 0, longitude: 0, ...extras } });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.error.fields).toHaveLength(doc.components.schemas.Error.properties.error.properties.fields.maxItems);
    const validate = ajv.compile(doc.components.schemas.Error);
    expect(validate(body), ajv.errorsText(validate.errors)).toBe(true);
  });

  it('clampToSchema: strings in code points, arrays by maxItems, anyOf by the value, nothing copied when nothing is cut', () => {
    const schema = { type: 'object', properties: { s: { type: 'string', maxLength: 3 }, a: { type: 'array', maxItems: 2, items: { type: 'string', maxLength: 2 } }, b: { anyOf: [{ type: 'object', properties: { t: { type: 'string', maxLength: 1 } } }, { type: 'null' }] } } };
    expect(clampToSchema({ s: '😀😀😀😀', a: ['abc', 'd', 'e'], b: { t: 'xy' } }, schema)).toEqual({ s: '😀😀…', a: ['a…', 'd'], b: { t: '…' } });
    const within = { s: 'abc', a: ['ab'], b: null };
    expect(clampToSchema(within, schema)).toBe(within);
  });
});
