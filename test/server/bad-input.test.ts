/**
 * ≥ 1,000 generated invalid requests per route (wrong types, NaN/huge numbers, missing and
 * extra fields, oversized bodies, malformed JSON, SQL-looking strings, odd content types):
 * never a 5xx, and every error body matches the published error schema.
 */
import { Ajv } from 'ajv';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBodySchema } from '../../src/server/schemas.js';
import { buildTestApp, createServerDb, FIXED_NOW, insertTestShop, testConfig, type ServerDb } from './helpers.js';

const validateError = new Ajv({ allErrors: true, strict: false }).compile(errorBodySchema);

let sdb: ServerDb;
let app: FastifyInstance;
let sessionId: string;
beforeAll(async () => {
  sdb = await createServerDb('fuzz');
  await insertTestShop(sdb.pool);
  app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), clock: () => FIXED_NOW });
  const res = await app.inject({ method: 'POST', url: '/router/delegate', payload: { shop_slug: 'test-barber' } });
  sessionId = res.json().session_id;
});
afterAll(async () => {
  await app?.close();
  await sdb?.close();
});

const sqlish = fc.constantFrom("'; DROP TABLE shops; --", "1 OR 1=1", "test-barber' --", '$1', '\\x00', 'NaN', 'Infinity', '-0', '1e309', '{"$gt":""}', 'null', '0x1F', '../../etc/passwd', 'ｔｅｓｔ', '\u0000', '\ud800');
const weird = fc.oneof(
  fc.anything(),
  fc.double(),
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 0, -0, 0.1, 90.0000001, -180.5, 50.000001, 51, true, false, null, [], {}),
  fc.integer(),
  fc.string({ maxLength: 40 }),
  sqlish,
  fc.uuid(),
  fc.constant('x'.repeat(3000)),
);

function bodies(fields: string[]) {
  const known = Object.fromEntries(fields.map((f) => [f, weird]));
  return fc.oneof(
    { weight: 5, arbitrary: fc.record(known, { requiredKeys: [] }) },
    { weight: 2, arbitrary: fc.record({ ...known, extra: weird }, { requiredKeys: ['extra'] }) },
    { weight: 1, arbitrary: fc.anything() },
  );
}

/** A raw payload: JSON of a body, broken JSON, or an oversized one; with a content type. */
function requests(fields: string[]) {
  const json = bodies(fields).map((b) => JSON.stringify(b) ?? 'undefined');
  const payload = fc.oneof(
    { weight: 8, arbitrary: json },
    { weight: 1, arbitrary: json.map((s) => s.slice(0, Math.max(1, s.length - 1))) }, // truncated
    { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
    { weight: 1, arbitrary: fc.integer({ min: 16_385, max: 40_000 }).map((n) => JSON.stringify({ [fields[0]!]: 'y'.repeat(n) })) },
    { weight: 1, arbitrary: fc.constant('') },
  );
  const contentType = fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data') });
  const idemKey = fc.option(fc.string({ unit: fc.constantFrom(...' !"#$%&*+-./09:;<=>?@AZ[]^_`az{|}~'.split('')), maxLength: 250 }), { nil: undefined });
  return fc.record({ payload, contentType, idemKey });
}

const ROUTES: Array<[string, string[]]> = [
  ['/router/search-by-location', ['latitude', 'longitude', 'radius_miles', 'category', 'limit']],
  ['/router/delegate', ['shop_slug', 'intent', 'search_id']],
  ['/chat', ['session_id', 'message', 'customer_name', 'idempotency_key']],
  ['/router/feedback', ['session_id', 'rating', 'comment']],
];

describe('bad input never causes a 5xx', () => {
  for (const [url, fields] of ROUTES) {
    it(`POST ${url}: 1,000 generated requests`, async () => {
      let errors = 0;
      await fc.assert(
        fc.asyncProperty(requests(fields), fc.boolean(), async ({ payload, contentType, idemKey }, useSession) => {
          // For /chat and /router/feedback, sometimes swap in a real session so the request gets past the lookup.
          const body = (url === '/chat' || url === '/router/feedback') && useSession ? payload.replace(/"session_id":"[^"]*"/, `"session_id":"${sessionId}"`) : payload;
          const headers: Record<string, string> = { 'content-type': contentType };
          if (idemKey !== undefined) headers['idempotency-key'] = idemKey;
          const res = await app.inject({ method: 'POST', url, payload: body, headers });
          expect(res.statusCode, `${res.statusCode} for ${body.slice(0, 200)}: ${res.body.slice(0, 300)}`).toBeLessThan(500);
          if (res.statusCode >= 400) {
            errors++;
            const parsed = res.json();
            expect(validateError(parsed), JSON.stringify(validateError.errors)).toBe(true);
          }
        }),
        { numRuns: 1000 },
      );
      expect(errors).toBeGreaterThan(500);
    });
  }

  it('GET of unknown paths and wrong methods: 404 with the error body', async () => {
    for (const [method, path] of [['GET', '/nope'], ['DELETE', '/chat'], ['GET', '/router/search-by-location'], ['POST', '/health']] as const) {
      const res = await app.inject({ method, url: path });
      expect(res.statusCode).toBe(404);
      expect(validateError(res.json())).toBe(true);
    }
  });
});
