/**
 * Property-based fuzzing of the API from its own OpenAPI document (issue 14, part B). For every
 * operation, fast-check draws requests from the operation's request schema (valid ones seeded
 * with real shops and sessions, and hostile ones: wrong types, bounds overstepped, lone
 * surrogates and NUL, `__proto__` keys, float extremes), wrapped in hostile transport (wrong
 * content types and encodings, raw bodies that are not JSON or too deep or too big, long headers
 * and URLs, undecodable percent-encodings), and sends each over a real socket to the real app on
 * a real PostgreSQL. Every response must be documented (status, content type, body schema,
 * headers), carry the rate-limit headers, and never be a 5xx; afterwards the analytics table
 * must hold exactly one event per successful router request, none rejected or dropped.
 *
 * Quick profile (npm test): QUICK_RUNS per operation. Long (npm run fuzz): LONG_RUNS per operation.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContractChecker, loadContract, type Exchange, type OpenapiDocument } from '../helpers/contract.js';
import { bySize } from '../helpers/fuzz-profile.js';
import { fromSchema, hostileFrom, type Seeds } from '../helpers/schema-arbitrary.js';
import { buildTestApp, createServerDb, insertTestShop, listen, postJson, testConfig, type ServerDb } from '../server/helpers.js';

const QUICK_RUNS = 120;
const LONG_RUNS = 5_000;
const RUNS = bySize(QUICK_RUNS, LONG_RUNS);

interface FuzzRequest {
  label: string;
  path: string;
  /** The path is not the operation's any more (a suffix made it another): the answer is an error, 400/404/431. */
  otherPath: boolean;
  headers: Record<string, string>;
  body?: string | Buffer;
}

interface RouteStats {
  requests: number;
  statuses: Record<number, number>;
  serverErrors: number;
  mismatches: number;
  successes: number;
}

/** Which event a successful router request records (src/server/routes/*). */
const EVENT_OF: Record<string, { status: number; event: string }> = {
  '/router/search-by-location': { status: 200, event: 'search' },
  '/router/delegate': { status: 201, event: 'delegate' },
  '/chat': { status: 200, event: 'chat_message' },
  '/router/feedback': { status: 201, event: 'feedback' },
};

const RATE_LIMIT_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit', 'ratelimit-policy'];

/** Raw bodies no schema produces: not JSON, JSON of the wrong shape, too deep, too big, not UTF-8. */
const RAW_BODIES: ReadonlyArray<string | Buffer> = [
  '',
  '{',
  'null',
  '[]',
  '"a string"',
  '1e999',
  '{"latitude": 1e999, "longitude": -1e999}',
  '{"latitude": NaN, "longitude": Infinity}',
  '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
  `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
  `{"message": ${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}}`,
  JSON.stringify({ filler: 'z'.repeat(20_000) }),
  Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
  Buffer.from('\uFEFF{"latitude": 0, "longitude": 0}', 'utf8'),
  '{"session_id": "\\ud800", "message": "\\u0000"}',
];

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/JSON', 'application/json; charset=latin1', ''];

/** Transport around a body: content type and encoding, extra headers, a suffix to the path. */
const transport = fc.record({
  contentType: fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) }),
  encoding: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('gzip', 'br', 'identity', 'x-unknown') }),
  junkHeader: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(4_000, 12_000, 24_000) }),
  // A query string (long or odd) keeps the route; the other suffixes make it a path the API does not have.
  pathSuffix: fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('?x=1', `?q=${'q'.repeat(9_000)}`, `?q=${'q'.repeat(20_000)}`, '?__proto__[polluted]=1', '?a=%E0%A4%A') }, { weight: 1, arbitrary: fc.constantFrom('%E0%A4%A', '%', '/', '/..', '//x') }),
  forwardedFor: fc.oneof({ weight: 10, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('::ffff:10.0.0.1', '10.0.0.1:8080', 'garbage', '1.1.1.1, 2.2.2.2') }),
});

const clip = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

function describeRequest(req: FuzzRequest): string {
  const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${clip(v, 60)}`);
  return `${req.label} path=${JSON.stringify(clip(req.path, 80))} headers=${JSON.stringify(headers)} body=${JSON.stringify(clip(String(req.body ?? ''), 600))}`;
}

function requestArbitrary(doc: OpenapiDocument, path: string, method: string, seeds: Seeds): fc.Arbitrary<FuzzRequest> {
  const op = doc.paths[path][method];
  const schema = op.requestBody?.content?.['application/json']?.schema;
  const body: fc.Arbitrary<string | Buffer | undefined> = schema
    ? fc.oneof(
        { weight: 5, arbitrary: fromSchema(schema, seeds).map((v) => JSON.stringify(v)) },
        { weight: 4, arbitrary: hostileFrom(schema, seeds).map((v) => JSON.stringify(v)) },
        { weight: 1, arbitrary: fc.constantFrom(...RAW_BODIES) },
      )
    : fc.constant(undefined);
  return fc.tuple(body, transport).map(([b, t]) => {
    const headers: Record<string, string> = {};
    if (b !== undefined && t.contentType) headers['content-type'] = t.contentType;
    if (t.encoding) headers['content-encoding'] = t.encoding;
    if (t.junkHeader) headers['x-junk'] = 'j'.repeat(t.junkHeader);
    if (t.forwardedFor) headers['x-forwarded-for'] = t.forwardedFor;
    const req: FuzzRequest = { label: `${method.toUpperCase()} ${path}`, path: `${path}${t.pathSuffix}`, otherPath: t.pathSuffix !== '' && !t.pathSuffix.startsWith('?'), headers, body: b };
    // Counterexamples are printed short: a 24 KB header or a 20 KB body would drown the report.
    return Object.assign(req, { [fc.toStringMethod]: () => describeRequest(req) });
  });
}

describe('fuzz: every operation of the OpenAPI document against the real app', () => {
  let sdb: ServerDb;
  let app: FastifyInstance;
  let base: string;
  let doc: OpenapiDocument;
  let conforms: ReturnType<typeof createContractChecker>;
  let unknownPathProblems: (exchange: Exchange) => string[];
  const seeds: Seeds = {};
  const stats = new Map<string, RouteStats>();
  const started = new Date();

  beforeAll(async () => {
    doc = await loadContract();
    conforms = createContractChecker(doc);
    const errorSchema = doc.components.schemas.Error as object;
    const validateError = new Ajv2020({ strict: false }).compile(errorSchema);
    unknownPathProblems = (ex) => {
      const problems: string[] = [];
      if (![400, 404, 405, 413, 415, 431].includes(ex.status)) problems.push(`a path the API does not have answered ${ex.status}`);
      if (!validateError(ex.body)) problems.push(`the ${ex.status} body is not the API's error: ${JSON.stringify(ex.body).slice(0, 200)}`);
      return problems;
    };
    sdb = await createServerDb('fuzz');
    const slugs = ['fuzz-barber', 'fuzz-salon', 'fuzz-fades'];
    for (const [i, slug] of slugs.entries()) await insertTestShop(sdb.pool, slug, 33.4255 + i * 0.01, -111.94);
    app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), analytics: { flushIntervalMs: 50 } });
    base = await listen(app);
    // Real sessions and searches, so chat and feedback reach past their 404s.
    const sessions: string[] = [];
    const searches: string[] = [];
    for (const slug of slugs) {
      const search = await postJson(`${base}/router/search-by-location`, { latitude: 33.43, longitude: -111.94 });
      searches.push(search.body.search_id as string);
      const delegated = await postJson(`${base}/router/delegate`, { shop_slug: slug, search_id: search.body.search_id });
      sessions.push(delegated.body.session_id as string);
    }
    Object.assign(seeds, {
      shop_slug: [...slugs, 'no-such-shop'],
      session_id: sessions,
      search_id: searches,
      latitude: [33.4255, 33.43, 0, -90, 90],
      longitude: [-111.94, 0, 180, -180],
      message: ['A classic haircut tomorrow at 3pm', 'a beard trim in 9000 years at 10am', '12/31/999999 at 3pm', 'what services do you have?', 'my name is Sam', 'yes please'],
    });
  });

  afterAll(async () => {
    await app?.close();
    await sdb?.close();
  });

  const operations = [
    ['/health', 'get'],
    ['/router/search-by-location', 'post'],
    ['/router/delegate', 'post'],
    ['/chat', 'post'],
    ['/router/feedback', 'post'],
  ] as const;

  for (const [path, method] of operations) {
    it(`${method.toUpperCase()} ${path}: ${RUNS} generated requests, each documented, rate-limited and never a 5xx`, async () => {
      expect(doc.paths[path]?.[method], `${method} ${path} must be in the document`).toBeDefined();
      const route: RouteStats = { requests: 0, statuses: {}, serverErrors: 0, mismatches: 0, successes: 0 };
      stats.set(path, route);
      await fc.assert(
        fc.asyncProperty(requestArbitrary(doc, path, method, seeds), async (req) => {
          const res = await request(`${base}${req.path}`, { method: method.toUpperCase() as 'GET' | 'POST', headers: req.headers, body: req.body, headersTimeout: 10_000, bodyTimeout: 10_000 });
          const text = await res.body.text();
          const contentType = String(res.headers['content-type'] ?? '');
          let body: unknown = text;
          if (contentType.includes('json') && text) body = JSON.parse(text);
          const exchange: Exchange = { status: res.statusCode, contentType, headers: res.headers, body };
          route.requests += 1;
          route.statuses[res.statusCode] = (route.statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode >= 500) route.serverErrors += 1;
          if (EVENT_OF[path]?.status === res.statusCode) route.successes += 1;
          const problems = req.otherPath ? unknownPathProblems(exchange) : conforms(method.toUpperCase(), path, exchange);
          for (const name of RATE_LIMIT_HEADERS) if (res.headers[name] === undefined) problems.push(`${res.statusCode} lacks the rate-limit header ${name}`);
          if (res.statusCode >= 500) problems.push(`a ${res.statusCode}: ${text.slice(0, 300)}`);
          if (problems.length > 0) route.mismatches += 1;
          expect(problems, describeRequest(req)).toEqual([]);
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
      expect(route.serverErrors).toBe(0);
      // The generators reach real work, not only refusals.
      if (EVENT_OF[path]) expect(route.successes, `${path}: no request succeeded; the generators only produce refusals`).toBeGreaterThan(0);
    }, bySize(60_000, 1_800_000));
  }

  it('the analytics table received one event per successful router request: none lost, none rejected', async () => {
    const writerStats = app.rgpt.analytics.stats();
    await app.rgpt.analytics.flush();
    const { rows } = await sdb.pool.query<{ event_type: string; n: number }>(`SELECT event_type, count(*)::int AS n FROM router_analytics WHERE created_at >= $1 GROUP BY event_type`, [started]);
    const counted = Object.fromEntries(rows.map((r) => [r.event_type, r.n]));
    // beforeAll sent one search and one delegate per shop (3 each).
    const setup: Record<string, number> = { search: 3, delegate: 3 };
    for (const [path, { event }] of Object.entries(EVENT_OF)) {
      const route = stats.get(path);
      expect(route, `${path} was fuzzed`).toBeDefined();
      expect(counted[event] ?? 0, `${event} events`).toBe(route!.successes + (setup[event] ?? 0));
    }
    expect(counted.error ?? 0, 'error events (5xx)').toBe(0);
    expect(writerStats.rejected, 'events PostgreSQL refused').toBe(0);
    expect(writerStats.dropped, 'events dropped').toBe(0);
    const figures = [...stats].map(([path, s]) => `${path}: ${s.requests} requests, ${s.serverErrors} × 5xx, ${s.mismatches} schema mismatches, statuses ${JSON.stringify(s.statuses)}`);
    console.log(`fuzz (${RUNS} per operation):\n  ${figures.join('\n  ')}\n  analytics: ${JSON.stringify(counted)}, rejected ${writerStats.rejected}, dropped ${writerStats.dropped}`);
  });
});
