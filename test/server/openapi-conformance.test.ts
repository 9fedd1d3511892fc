/**
 * The server's real responses conform to openapi/openapi_chatgpt.yaml: every status code is
 * documented for its operation, the content type is the documented one, the body validates
 * against the documented schema, and every documented response header is present.
 * Real PostgreSQL, the real app (buildApp), real requests over a loopback socket.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { OPENAPI_TEMPLATE_PATH } from '../../src/openapi/document.js';
import { openapiRoutes } from '../../src/server/routes/openapi.js';
import { buildTestApp, createServerDb, FIXED_NOW, insertTestShop, listen, testConfig, type ServerDb } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking a dereferenced OpenAPI document
type Json = Record<string, any>;

interface Exchange {
  status: number;
  contentType: string;
  headers: Headers;
  body: unknown;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
let doc: Json;
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('uuid', UUID_RE);
// OpenAPI's integer formats: the documented minimum/maximum are what bound the value.
ajv.addFormat('int32', true);
ajv.addFormat('int64', true);
ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)));
const covered = new Set<string>();

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Exchange> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  return { status: res.status, contentType, headers: res.headers, body: contentType.includes('json') && text ? JSON.parse(text) : text };
}

/** Assert that one real exchange is what the document says `method path` answers. */
function expectConforms(method: string, path: string, ex: Exchange): void {
  const op = doc.paths?.[path]?.[method.toLowerCase()];
  expect(op, `${method} ${path} is not in the document`).toBeDefined();
  const response = op.responses[String(ex.status)];
  expect(response, `${method} ${path} answered ${ex.status}, which the document does not list (body: ${JSON.stringify(ex.body)})`).toBeDefined();
  const media = Object.keys(response.content ?? {});
  expect(media.length).toBeGreaterThan(0);
  expect(media.some((m) => ex.contentType.startsWith(m)), `${method} ${path} ${ex.status}: content-type ${ex.contentType} not in ${media.join(', ')}`).toBe(true);
  const schema = response.content[media[0]!].schema;
  const validate = ajv.compile(schema);
  expect(validate(ex.body), `${method} ${path} ${ex.status} body ${JSON.stringify(ex.body)}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  for (const name of Object.keys(response.headers ?? {})) {
    const value = ex.headers.get(name);
    // A header is required only when the document says so (OpenAPI's default is optional: CORS headers come only for an allowed Origin).
    if (response.headers[name].required === true) expect(value, `${method} ${path} ${ex.status} lacks documented header ${name}`).not.toBeNull();
    if (value === null) continue;
    const headerSchema = response.headers[name].schema;
    if (headerSchema?.type === 'integer') {
      expect(value, `${name}: ${value}`).toMatch(/^\d+$/);
      expect(Number(value)).toBeGreaterThanOrEqual(headerSchema.minimum ?? 0);
      if (headerSchema.maximum !== undefined) expect(Number(value), `${name}: ${value}`).toBeLessThanOrEqual(headerSchema.maximum);
    } else if (headerSchema) {
      const validate = ajv.compile(headerSchema);
      expect(validate(value), `${method} ${path} ${ex.status} header ${name}: ${value}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  }
  covered.add(`${method} ${path} ${ex.status}`);
}

async function withOpenapiRoute(app: FastifyInstance, config: Parameters<typeof openapiRoutes>[1]['config']): Promise<FastifyInstance> {
  // buildApp may register GET /openapi.yaml itself; add it only when it does not.
  if (!app.hasRoute({ method: 'GET', url: '/openapi.yaml' })) await app.register(openapiRoutes, { config });
  return app;
}

describe('real responses conform to openapi/openapi_chatgpt.yaml', () => {
  let sdb: ServerDb;
  const apps: FastifyInstance[] = [];
  let base: string;
  let sessionId: string;
  let searchId: string;

  beforeAll(async () => {
    doc = (await SwaggerParser.dereference(OPENAPI_TEMPLATE_PATH)) as Json;
    sdb = await createServerDb('oas');
    await insertTestShop(sdb.pool, 'test-barber');
    const config = testConfig(sdb.db.url, { RATE_LIMIT_SEARCH_PER_MIN: '12', PUBLIC_API_BASE: 'https://api.example.com' });
    const app = await withOpenapiRoute(await buildTestApp({ pool: sdb.pool, config, clock: () => FIXED_NOW }), config);
    apps.push(app);
    base = await listen(app);
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await sdb?.close();
  });

  it('GET /health', async () => {
    expectConforms('GET', '/health', await call(base, 'GET', '/health'));
  });

  it('A14: the documented CORS header comes for an allowed Origin, and only then', async () => {
    const allowed = await call(base, 'GET', '/health', undefined, { origin: 'https://chatgpt.com' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://chatgpt.com');
    expectConforms('GET', '/health', allowed);
    const other = await call(base, 'GET', '/health', undefined, { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expectConforms('GET', '/health', other);
  });

  it('POST /router/search-by-location: found, empty, invalid, malformed, oversized, not JSON', async () => {
    const found = await call(base, 'POST', '/router/search-by-location', { latitude: 33.4255, longitude: -111.94, radius_miles: 5 });
    expectConforms('POST', '/router/search-by-location', found);
    expect((found.body as Json).results.length).toBe(1);
    searchId = (found.body as Json).search_id;
    const empty = await call(base, 'POST', '/router/search-by-location', { latitude: 64.2, longitude: -149.5 });
    expectConforms('POST', '/router/search-by-location', empty);
    expect((empty.body as Json).results).toEqual([]);
    for (const bad of [{ latitude: 91, longitude: 0 }, { latitude: 0, longitude: 0, radius_miles: 0 }, { latitude: 0, longitude: 0, radius_miles: 51 }, { latitude: 0 }, { latitude: 0, longitude: 0, extra: 1 }]) {
      const r = await call(base, 'POST', '/router/search-by-location', bad);
      expect(r.status).toBe(422);
      expectConforms('POST', '/router/search-by-location', r);
    }
    expectConforms('POST', '/router/search-by-location', await call(base, 'POST', '/router/search-by-location', '{"latitude": '));
    const big = await call(base, 'POST', '/router/search-by-location', JSON.stringify({ latitude: 0, longitude: 0, category: 'x'.repeat(100_000) }));
    expect(big.status).toBe(413);
    expectConforms('POST', '/router/search-by-location', big);
    // Regression (issue 14, A12): a JSON body sent as text/plain was validated as text (422); the contract says 415.
    const text = await call(base, 'POST', '/router/search-by-location', JSON.stringify({ latitude: 0, longitude: 0 }), { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expectConforms('POST', '/router/search-by-location', text);
  });

  it('POST /router/delegate: created, unknown shop, invalid', async () => {
    const created = await call(base, 'POST', '/router/delegate', { shop_slug: 'test-barber', intent: 'a haircut', search_id: searchId });
    expect(created.status).toBe(201);
    expectConforms('POST', '/router/delegate', created);
    sessionId = (created.body as Json).session_id;
    const missing = await call(base, 'POST', '/router/delegate', { shop_slug: 'no-such-shop' });
    expect(missing.status).toBe(404);
    expectConforms('POST', '/router/delegate', missing);
    expectConforms('POST', '/router/delegate', await call(base, 'POST', '/router/delegate', { shop_slug: 'Not A Slug' }));
  });

  it('POST /chat: replies (with a booking when one is made), unknown session, invalid', async () => {
    const hello = await call(base, 'POST', '/chat', { session_id: sessionId, message: 'hi, what services do you have?' });
    expect(hello.status).toBe(200);
    expectConforms('POST', '/chat', hello);
    const book = await call(base, 'POST', '/chat', { session_id: sessionId, message: 'A classic haircut tomorrow at 3pm please', customer_name: 'Alex', idempotency_key: 'conformance-1' });
    expect(book.status).toBe(200);
    expect((book.body as Json).booking, JSON.stringify(book.body)).not.toBeNull(); // so the Booking schema is exercised too
    expectConforms('POST', '/chat', book);
    const unknown = await call(base, 'POST', '/chat', { session_id: '00000000-0000-4000-8000-000000000000', message: 'hi' });
    expect(unknown.status).toBe(404);
    expectConforms('POST', '/chat', unknown);
    expectConforms('POST', '/chat', await call(base, 'POST', '/chat', { session_id: 'nope', message: '' }));
  });

  it('POST /router/feedback: created, replaced, unknown session, invalid', async () => {
    const created = await call(base, 'POST', '/router/feedback', { session_id: sessionId, rating: 5, comment: 'Quick and easy.' });
    expect(created.status).toBe(201);
    expectConforms('POST', '/router/feedback', created);
    const replaced = await call(base, 'POST', '/router/feedback', { session_id: sessionId, rating: 4 });
    expect(replaced.status).toBe(201);
    expect((replaced.body as Json).comment).toBeNull();
    expectConforms('POST', '/router/feedback', replaced);
    const unknown = await call(base, 'POST', '/router/feedback', { session_id: '00000000-0000-4000-8000-000000000000', rating: 5 });
    expect(unknown.status).toBe(404);
    expectConforms('POST', '/router/feedback', unknown);
    const invalid = await call(base, 'POST', '/router/feedback', { session_id: sessionId, rating: 6 });
    expect(invalid.status).toBe(422);
    expectConforms('POST', '/router/feedback', invalid);
  });

  it('429 with Retry-After once the search budget is spent', async () => {
    let last: Exchange | undefined;
    for (let i = 0; i < 20 && last?.status !== 429; i++) last = await call(base, 'POST', '/router/search-by-location', { latitude: 33.4, longitude: -111.9 });
    expect(last!.status).toBe(429);
    expectConforms('POST', '/router/search-by-location', last!);
  });

  it('401 when the environment requires the API key; 503 when the router is switched off', async () => {
    const authConfig = testConfig(sdb.db.url, { ROUTERGPT_API_KEY: 'conformance-key-123' });
    const authApp = await buildTestApp({ pool: sdb.pool, config: authConfig });
    apps.push(authApp);
    const authBase = await listen(authApp);
    for (const [path, body] of [['/router/search-by-location', { latitude: 0, longitude: 0 }], ['/router/delegate', { shop_slug: 'test-barber' }], ['/chat', { session_id: sessionId, message: 'hi' }], ['/router/feedback', { session_id: sessionId, rating: 5 }]] as const) {
      const r = await call(authBase, 'POST', path, body);
      expect(r.status).toBe(401);
      expectConforms('POST', path, r);
    }
    expectConforms('GET', '/health', await call(authBase, 'GET', '/health'));

    const offConfig = testConfig(sdb.db.url, { ENABLE_ROUTER_GPT: 'false' });
    const offApp = await buildTestApp({ pool: sdb.pool, config: offConfig });
    apps.push(offApp);
    const offBase = await listen(offApp);
    for (const [path, body] of [['/router/search-by-location', { latitude: 0, longitude: 0 }], ['/router/delegate', { shop_slug: 'test-barber' }], ['/chat', { session_id: sessionId, message: 'hi' }], ['/router/feedback', { session_id: sessionId, rating: 5 }]] as const) {
      const r = await call(offBase, 'POST', path, body);
      expect(r.status).toBe(503);
      expectConforms('POST', path, r);
    }
  });

  it('GET /openapi.yaml serves the document with PUBLIC_API_BASE as the server, and it lists exactly the app routes', async () => {
    const r = await call(base, 'GET', '/openapi.yaml');
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('application/yaml; charset=utf-8');
    const served = YAML.parse(String(r.body)) as Json;
    expect(served.servers).toEqual([{ url: 'https://api.example.com', description: 'prod', 'x-internal': false }]);
    expect(Object.keys(served.paths).sort()).toEqual(['/chat', '/health', '/router/delegate', '/router/feedback', '/router/search-by-location']);
    for (const [path, item] of Object.entries(served.paths as Json)) {
      for (const method of Object.keys(item as Json)) expect(apps[0]!.hasRoute({ method: method.toUpperCase() as 'GET', url: path }), `${method} ${path}`).toBe(true);
    }
  });

  it('every documented operation was exercised with its success status', () => {
    for (const expected of ['GET /health 200', 'POST /router/search-by-location 200', 'POST /router/delegate 201', 'POST /chat 200', 'POST /router/feedback 201']) expect(covered).toContain(expected);
  });
});
