/**
 * Each API-side check fails (or warns) on a broken server. The broken servers are small
 * node:http servers named for their scenario; where the real server can be misconfigured
 * instead (trusted proxies, budgets, bookings off), the real one is used.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import apiChatRouterContext from '../../src/checks/api/chat-router-context.js';
import apiCors from '../../src/checks/api/cors.js';
import apiDelegate from '../../src/checks/api/delegate.js';
import apiEmptyArea from '../../src/checks/api/empty-area.js';
import apiHealth from '../../src/checks/api/health.js';
import apiHsts from '../../src/checks/api/hsts.js';
import apiHttpsRedirect from '../../src/checks/api/https-redirect.js';
import apiInvalidCoordinates422 from '../../src/checks/api/invalid-coordinates-422.js';
import apiPerformance from '../../src/checks/api/performance.js';
import apiRateLimit from '../../src/checks/api/rate-limit.js';
import apiSearch from '../../src/checks/api/search.js';
import apiUnknownShop404 from '../../src/checks/api/unknown-shop-404.js';
import openapiMatchesServer from '../../src/checks/openapi/matches-server.js';
import securityInputValidation from '../../src/checks/security/input-validation.js';
import { OPENAPI_TEMPLATE_PATH, readOpenapiTemplate } from '../../src/openapi/document.js';
import { tempDir } from '../helpers/cli.js';
import { checkConfig, createSeededDb, depsFor, runCheck, sendJson, startFakeServer, startRealServer, type Handler, type SeededDb } from './helpers.js';

const config = checkConfig('postgres://unused@127.0.0.1/unused');
const fakes: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(handler: Handler): Promise<string> {
  const server = await startFakeServer(handler);
  fakes.push(server);
  return server.url;
}

const UUID = '6f1c2b9e-3a4d-4e5f-8a7b-1c2d3e4f5a6b';
const shop = (slug: string, latitude: number, longitude: number, distance: number, category = 'barbershop') => ({ slug, name: slug, category, latitude, longitude, distance_miles: distance });

// --- scenario servers ------------------------------------------------------------------------
const serverReturning500: Handler = (_req, _body, res) => sendJson(res, 500, { error: { code: 'internal', message: 'boom' } });
/** Distances off by a mile and not sorted; category ignored. */
const serverWithWrongDistances: Handler = (req, body, res) => {
  const q = JSON.parse(body || '{}') as { latitude: number; longitude: number };
  sendJson(res, 200, { search_id: UUID, count: 2, query: q, message: 'Found 2', results: [shop('far', q.latitude + 0.05, q.longitude, 2.45, 'salon'), shop('near', q.latitude + 0.01, q.longitude, 1.69)] });
};
/** Everything is a 200 with one shop; delegations go to another shop with no session id. */
const serverAcceptingAnything: Handler = (req, body, res) => {
  if (req.url === '/router/delegate') return sendJson(res, 201, { session_id: 'not-a-uuid', shop: { slug: 'someone-else', name: 'X', category: 'barbershop' }, message: '' });
  const q = JSON.parse(body || '{}') as { latitude?: number; longitude?: number };
  sendJson(res, 200, { search_id: UUID, count: 1, message: 'Found 1', results: [shop('everywhere-cuts', q.latitude ?? 0, q.longitude ?? 0, 0)] });
};
/** Delegation works but the greeting forgets the intent and the shop. */
const serverForgettingContext: Handler = (req, _body, res) => {
  if (req.url === '/router/search-by-location') return sendJson(res, 200, { search_id: UUID, count: 1, message: 'ok', results: [shop('ctx-cuts', 33.4255, -111.94, 0)] });
  if (req.url === '/router/delegate') return sendJson(res, 201, { session_id: UUID, shop: { slug: 'ctx-cuts', name: 'Ctx Cuts', category: 'barbershop' }, message: 'Hello! How can I help?' });
  sendJson(res, 200, { session_id: UUID, reply: 'Hello again.', booking: null });
};
/** Reflects every Origin and sends a weak HSTS; 500 with SQL text on odd input. */
const serverMisconfiguredEdge: Handler = (req, body, res) => {
  const origin = req.headers.origin;
  const headers: Record<string, string> = { 'strict-transport-security': 'max-age=300', ...(origin ? { 'access-control-allow-origin': origin, 'access-control-allow-methods': 'GET,POST' } : {}) };
  if (req.method === 'OPTIONS') {
    res.writeHead(204, headers);
    return res.end();
  }
  if (body.includes("'")) return sendJson(res, 500, { error: 'syntax error at or near "OR" in SELECT * FROM shops WHERE category = \'x\' OR 1=1 --\'' }, headers);
  sendJson(res, 200, { ok: true }, headers);
};
/** Rate-limit headers, but never a 429. */
const serverWithoutLimits: Handler = (_req, _body, res) =>
  sendJson(res, 200, { search_id: UUID, count: 0, results: [], message: 'none' }, { 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': '60', ratelimit: '"search";r=2;t=60', 'ratelimit-policy': '"search";q=3;w=60' });
/** Plain HTTP answered with 200, no redirect. */
const serverWithoutRedirect: Handler = (_req, _body, res) => sendJson(res, 200, { ok: true });
/** Believes anyone's X-Forwarded-Proto. */
const serverTrustingEveryone: Handler = (req, _body, res) => {
  if (req.headers['x-forwarded-proto'] === 'http') {
    res.writeHead(308, { location: `https://${req.headers.host}${req.url}` });
    return res.end();
  }
  sendJson(res, 200, { ok: true });
};

describe('API checks fail on broken servers', () => {
  it('api.health fails on a server returning 500, and when the API is unreachable', async () => {
    const base = await fake(serverReturning500);
    const result = await runCheck(apiHealth, depsFor(config, { apiBase: base }));
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('500');
    const down = await runCheck(apiHealth, depsFor(config, { apiBase: 'http://127.0.0.1:1', apiError: 'ECONNREFUSED' }));
    expect(down.status).toBe('fail');
    expect(down.summary).toContain('ECONNREFUSED');
  });

  it('api.search fails on wrong distances, wrong order and an ignored category filter', async () => {
    const result = await runCheck(apiSearch, depsFor(config, { apiBase: await fake(serverWithWrongDistances) }));
    expect(result.status).toBe('fail');
    const text = (result.details ?? []).join('\n');
    expect(text).toMatch(/far distance_miles 2\.45, haversine gives 3\.45/);
    expect(text).toMatch(/not nearest first/);
    expect(text).toMatch(/category "salon"/);
  });

  it('api.delegate fails when sessions are for the wrong shop with no id or greeting', async () => {
    const result = await runCheck(apiDelegate, depsFor(config, { apiBase: await fake(serverAcceptingAnything) }));
    expect(result.status).toBe('fail');
    expect(result.details?.[0]).toMatch(/session_id is not a UUID; the initial message is empty; the session is for shop "someone-else"/);
  });

  it('api.chat-router-context fails when the greeting forgets the router context', async () => {
    const result = await runCheck(apiChatRouterContext, depsFor(config, { apiBase: await fake(serverForgettingContext) }));
    expect(result.status).toBe('fail');
    expect(result.details).toEqual(expect.arrayContaining([expect.stringContaining('does not echo the intent "haircut"'), expect.stringContaining('does not name the shop')]));
  });

  it('api.invalid-coordinates-422 and api.unknown-shop-404 fail on a server accepting anything', async () => {
    const base = await fake(serverAcceptingAnything);
    const invalid = await runCheck(apiInvalidCoordinates422, depsFor(config, { apiBase: base }));
    expect(invalid.status).toBe('fail');
    expect(invalid.summary).toMatch(/5 of 5/);
    const unknown = await runCheck(apiUnknownShop404, depsFor(config, { apiBase: base }));
    expect(unknown.status).toBe('fail');
    expect(unknown.summary).toMatch(/answered 201, expected 404/);
  });

  it('api.empty-area fails when a shop is found in the middle of the Pacific', async () => {
    const result = await runCheck(apiEmptyArea, depsFor(config, { apiBase: await fake(serverAcceptingAnything) }));
    expect(result.status).toBe('fail');
    expect(result.details).toEqual(['everywhere-cuts at (0, -140)']);
  });

  it('api.cors, api.hsts and security.input-validation fail on a misconfigured edge', async () => {
    const base = await fake(serverMisconfiguredEdge);
    const cors = await runCheck(apiCors, depsFor(config, { apiBase: base }));
    expect(cors.status).toBe('fail');
    expect((cors.details ?? []).join('\n')).toMatch(/from https:\/\/evil\.example: Access-Control-Allow-Origin is "https:\/\/evil\.example"/);
    const hsts = await runCheck(apiHsts, depsFor(config, { apiBase: base }));
    expect(hsts.status).toBe('fail');
    expect(hsts.summary).toMatch(/max-age 300 < 31536000.*includeSubDomains missing/);
    const input = await runCheck(securityInputValidation, depsFor(config, { apiBase: base }));
    expect(input.status).toBe('fail');
    const text = (input.details ?? []).join('\n');
    expect(text).toMatch(/category x' OR 1=1 --: server error 500/);
    expect(text).toMatch(/the response shows SQL or a stack trace/);
  });

  it('api.rate-limit fails when the server never answers 429', async () => {
    const result = await runCheck(apiRateLimit, depsFor(config, { apiBase: await fake(serverWithoutLimits) }));
    expect(result.status).toBe('fail');
    expect(result.details?.[0]).toMatch(/still answered 200, not 429/);
  });

  it('api.https-redirect fails when plain HTTP is served, and when a forged X-Forwarded-Proto is believed', async () => {
    const plain = new URL(await fake(serverWithoutRedirect));
    const https = await runCheck(apiHttpsRedirect, depsFor(config, { apiBase: 'https://127.0.0.1:1', params: { httpPort: Number(plain.port) } }));
    expect(https.status).toBe('fail');
    expect(https.summary).toMatch(/answered 200.*expected 301\/308/);
    const forged = await runCheck(apiHttpsRedirect, depsFor(config, { apiBase: await fake(serverTrustingEveryone) }));
    expect(forged.status).toBe('fail');
    expect(forged.summary).toMatch(/forged X-Forwarded-Proto/);
  });
});

describe('API checks against the real server, configured to fail or to pass differently', () => {
  let sdb: SeededDb;
  beforeAll(async () => {
    sdb = await createSeededDb('apifail');
  });
  afterAll(async () => {
    await sdb?.close();
  });

  it('api.https-redirect passes behind a trusted proxy (TRUSTED_PROXIES=loopback): 308 to https', async () => {
    // The redirect goes to the configured public base's host, never one the request names.
    const server = await startRealServer(sdb.pool, { TRUSTED_PROXIES: 'loopback', PUBLIC_API_BASE: 'https://api.example.com' });
    try {
      const result = await runCheck(apiHttpsRedirect, depsFor(server.config, { apiBase: server.url }));
      expect(result.status, result.summary).toBe('pass');
      expect(result.summary).toMatch(/308 https:\/\/api\.example\.com\//);
    } finally {
      await server.close();
    }
  });

  it('api.performance fails when p95 is over budget (a 1 ms search budget), and caps N to the rate-limit budget', async () => {
    const server = await startRealServer(sdb.pool);
    try {
      const deps = depsFor(server.config, { apiBase: server.url });
      const over = await runCheck(apiPerformance, { ...deps, params: { requests: 3, budgets: { search: 0.001 } } });
      expect(over.status).toBe('fail');
      expect(over.summary).toMatch(/search p95 \d+ ms > 0\.001 ms/);
      const capped = await runCheck(apiPerformance, { ...deps, params: { requests: 30, budgets: { search: 100_000, delegate: 100_000 } } });
      expect(capped.status, capped.summary).toBe('pass');
      expect(capped.details).toEqual(expect.arrayContaining([expect.stringMatching(/capped: search: 19 of 30/), expect.stringMatching(/capped: delegate: 10 of 30/)]));
    } finally {
      await server.close();
    }
  });

  it('api.chat-router-context stops before booking where test bookings are not allowed (prod)', async () => {
    const server = await startRealServer(sdb.pool, {}, {}, 'prod');
    try {
      const before = await sdb.pool.query('SELECT count(*)::int AS n FROM bookings');
      const result = await runCheck(apiChatRouterContext, depsFor(server.config, { apiBase: server.url, db: sdb.pool }));
      expect(result.status, result.summary).toBe('pass');
      expect(result.summary).toMatch(/stopped before booking — bookings are not allowed in prod/);
      const after = await sdb.pool.query('SELECT count(*)::int AS n FROM bookings');
      expect(after.rows[0].n).toBe(before.rows[0].n);
    } finally {
      await server.close();
    }
  });

  it('api.chat-router-context books where allowed, finds the booking in the bookings table, and retries a taken slot', async () => {
    const server = await startRealServer(sdb.pool);
    try {
      const deps = depsFor(server.config, { apiBase: server.url, db: sdb.pool });
      const first = await runCheck(apiChatRouterContext, deps);
      expect(first.status, first.summary).toBe('pass');
      expect(first.summary).toMatch(/saved in bookings/);
      // The same time again is taken now: the check takes an offered time instead.
      const second = await runCheck(apiChatRouterContext, deps);
      expect(second.status, `${second.summary}\n${(second.details ?? []).join('\n')}`).toBe('pass');
      expect(second.data?.bookingId).not.toBe(first.data?.bookingId);
    } finally {
      await server.close();
    }
  });

  it('openapi.matches-server fails when the document drifted from the server', async () => {
    const server = await startRealServer(sdb.pool);
    try {
      const doc = YAML.parse(readOpenapiTemplate()) as { components: { schemas: { Health: { required: string[]; properties: Record<string, unknown> } } } };
      doc.components.schemas.Health.required.push('build');
      doc.components.schemas.Health.properties.build = { type: 'string' };
      const file = path.join(tempDir(), 'drifted.yaml');
      writeFileSync(file, YAML.stringify(doc));
      const result = await runCheck(openapiMatchesServer, depsFor(server.config, { apiBase: server.url, openapiFile: file }));
      expect(result.status).toBe('fail');
      expect((result.details ?? []).join('\n')).toMatch(/GET \/health 200: body does not match the documented schema: data must have required property 'build'/);
      const same = await runCheck(openapiMatchesServer, depsFor(server.config, { apiBase: server.url, openapiFile: OPENAPI_TEMPLATE_PATH }));
      expect(same.status, same.summary).toBe('pass');
    } finally {
      await server.close();
    }
  });
});
