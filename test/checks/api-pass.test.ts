/**
 * Every API-side check passes against the real server (buildApp on loopback) over a real,
 * migrated and seeded PostgreSQL database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import apiSchemaMatches from '../../src/checks/api/schema-matches.js';
import apiSearch from '../../src/checks/api/search.js';
import apiUnknownShop404 from '../../src/checks/api/unknown-shop-404.js';
import logTags from '../../src/checks/logging/tags.js';
import openapiGptActions from '../../src/checks/openapi/gpt-actions.js';
import openapiMatchesServer from '../../src/checks/openapi/matches-server.js';
import openapiValid from '../../src/checks/openapi/valid.js';
import securityInputValidation from '../../src/checks/security/input-validation.js';
import type { CheckDeps } from '../../src/checks/define-check.js';
import { createSeededDb, depsFor, runCheck, startRealServer, type RealServer, type SeededDb } from './helpers.js';

describe('API checks pass against the real server', () => {
  let sdb: SeededDb;
  let server: RealServer;
  let deps: CheckDeps;

  beforeAll(async () => {
    sdb = await createSeededDb('apipass');
    server = await startRealServer(sdb.pool);
    deps = depsFor(server.config, { apiBase: server.url, db: sdb.pool });
  });
  afterAll(async () => {
    await server?.close();
    await sdb?.close();
  });

  for (const check of [apiHealth, apiSchemaMatches, apiSearch, apiDelegate, apiChatRouterContext, apiInvalidCoordinates422, apiUnknownShop404, apiEmptyArea, securityInputValidation, apiCors, apiHsts, openapiValid, openapiMatchesServer, apiPerformance, apiRateLimit]) {
    it(`${check.id} passes`, async () => {
      const result = await runCheck(check, deps);
      expect(result.status, `${result.summary}\n${(result.details ?? []).join('\n')}`).toBe('pass');
    });
  }

  it('api.search looks up the accuracy of the shops it found: city-level coordinates warn; without a database it says it skipped that', async () => {
    const ok = await runCheck(apiSearch, deps);
    expect(ok.details?.find((d) => d.startsWith('accuracy of the'))).toMatch(/^accuracy of the \d+ shops found: rooftop \d+$/);
    const found = ((await sdb.pool.query<{ slug: string }>(`SELECT slug FROM shops WHERE latitude IS NOT NULL ORDER BY id LIMIT 3`)).rows).map((r) => r.slug);
    await sdb.pool.query(`UPDATE shops SET geocode_accuracy = 'city' WHERE slug = ANY($1)`, [found]);
    try {
      const city = await runCheck(apiSearch, deps);
      expect(city.status).toBe('warn');
      expect(city.summary).toMatch(/rest on city-level coordinates/);
      expect(city.hint).toContain('routergpt geocode --dry-run');
      expect(city.details?.filter((d) => d.startsWith('city-level: ')).length).toBeGreaterThan(0);
      const noDb = await runCheck(apiSearch, { ...deps, db: undefined });
      expect(noDb.status).toBe('pass');
      expect(noDb.details).toContain('accuracy of the results: skipped — no database to read shops.geocode_accuracy from');
    } finally {
      await sdb.pool.query(`UPDATE shops SET geocode_accuracy = 'rooftop' WHERE slug = ANY($1)`, [found]);
    }
  });

  it('openapi.gpt-actions passes for local (the template points at loopback http)', async () => {
    const result = await runCheck(openapiGptActions, { ...deps, config: { ...deps.config, name: 'local' } });
    expect(result.status, `${result.summary}\n${(result.details ?? []).join('\n')}`).toBe('pass');
  });

  it('api.https-redirect skips on plain local http when this machine is not a trusted proxy, after checking a forged header is ignored', async () => {
    const result = await runCheck(apiHttpsRedirect, deps);
    expect(result.status).toBe('skip');
    expect(result.summary).toMatch(/trusted proxy/);
  });

  it('logging.tags passes once a booking was made ([ROUTER], [BOOKING], [ANALYTICS])', async () => {
    await new Promise((r) => setTimeout(r, 200));
    const result = await runCheck(logTags, deps);
    expect(result.status, `${result.summary}\n${(result.details ?? []).join('\n')}`).toBe('pass');
  });
});
