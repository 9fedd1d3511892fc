/**
 * The API checks choose where to look from the target database (issue 9, part 6): a staging
 * database whose shops are nowhere near Tempe, with the checklist's test shops purged, passes
 * search, delegate, chat and empty-area — against the real server over real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import apiChatRouterContext from '../../src/checks/api/chat-router-context.js';
import apiDelegate from '../../src/checks/api/delegate.js';
import apiEmptyArea from '../../src/checks/api/empty-area.js';
import apiSearch from '../../src/checks/api/search.js';
import { EMPTY_CANDIDATES, emptyPoint, probeTargets, spreadShops, type ProbeShop } from '../../src/checks/api/targets.js';
import type { CheckDeps } from '../../src/checks/define-check.js';
import { TEST_SHOP_SLUGS } from '../../src/db/seed.js';
import { createSeededDb, depsFor, runCheck, startRealServer, type RealServer, type SeededDb } from './helpers.js';

const explain = (r: { summary: string; details?: string[] }) => `${r.summary}\n${(r.details ?? []).join('\n')}`;

describe('checks that work anywhere: shops around Lisbon, no test shops', () => {
  let sdb: SeededDb;
  let server: RealServer;
  let deps: CheckDeps;
  let lisbon: string[];

  beforeAll(async () => {
    sdb = await createSeededDb('targets');
    // What a purged staging database elsewhere looks like: the demo shops moved ≈ 9,000 km east.
    await sdb.pool.query(`DELETE FROM shops WHERE slug = ANY($1::text[])`, [[...TEST_SHOP_SLUGS]]);
    await sdb.pool.query(`UPDATE shops SET latitude = latitude + 5.3, longitude = longitude + 102.8 WHERE latitude IS NOT NULL`);
    // A test-looking slug right beside the first real shop must never be chosen.
    await sdb.pool.query(`INSERT INTO shops (slug, name, category, latitude, longitude) SELECT 'qa-test-shop', 'QA', 'barbershop', latitude, longitude FROM shops WHERE latitude IS NOT NULL ORDER BY id LIMIT 1`);
    lisbon = (await sdb.pool.query<{ slug: string }>(`SELECT slug FROM shops WHERE latitude IS NOT NULL AND slug <> 'qa-test-shop'`)).rows.map((r) => r.slug);
    server = await startRealServer(sdb.pool);
    deps = depsFor(server.config, { apiBase: server.url, db: sdb.pool });
  });
  afterAll(async () => {
    await server?.close();
    await sdb?.close();
  });

  it('the targets are real shops from the database, spread apart, never test data', async () => {
    const targets = await probeTargets(deps);
    expect(targets.source).toBe('database');
    expect(targets.shops.length).toBeGreaterThanOrEqual(1);
    for (const shop of targets.shops) expect(lisbon).toContain(shop.slug);
    for (const where of targets.locations) expect(where.latitude).toBeGreaterThan(38);
  });

  for (const check of [apiSearch, apiDelegate, apiChatRouterContext]) {
    it(`${check.id} passes where the default locations (Tempe…) find nothing`, async () => {
      const result = await runCheck(check, deps);
      expect(result.status, explain(result)).toBe('pass');
    });
  }

  it('api.search names the shops it probed beside', async () => {
    const result = await runCheck(apiSearch, deps);
    expect(result.details?.[0]).toMatch(/^probe locations near .+ \(chosen from the database\)$/);
  });

  it('api.chat-router-context talks to a real shop, not a test one', async () => {
    const result = await runCheck(apiChatRouterContext, deps);
    const slug = /delegated to ([a-z0-9-]+)/.exec((result.details ?? []).join('\n'))?.[1];
    expect(lisbon).toContain(slug);
  });

  it('params.locations still wins over the database', async () => {
    const targets = await probeTargets({ ...deps, params: { locations: [{ name: 'Porto', latitude: 41.15, longitude: -8.61 }] } });
    expect(targets.source).toBe('params');
    expect(targets.locations).toEqual([{ name: 'Porto', latitude: 41.15, longitude: -8.61, radius_miles: 10 }]);
  });

  it('the empty point skips an ocean candidate that has a shop', async () => {
    const first = EMPTY_CANDIDATES[0]!;
    await sdb.pool.query(`INSERT INTO shops (slug, name, category, latitude, longitude) VALUES ('buoy-barber', 'Buoy Barber', 'barbershop', $1, $2)`, [first.latitude + 0.01, first.longitude]);
    try {
      const point = await emptyPoint(deps);
      expect([point.latitude, point.longitude]).toEqual([EMPTY_CANDIDATES[1]!.latitude, EMPTY_CANDIDATES[1]!.longitude]);
      expect(point.checked).toBe(true);
      const result = await runCheck(apiEmptyArea, deps);
      expect(result.status, explain(result)).toBe('pass');
    } finally {
      await sdb.pool.query(`DELETE FROM shops WHERE slug = 'buoy-barber'`);
    }
  });

  it('without a database the defaults are used, and the details say why', async () => {
    const targets = await probeTargets({ ...deps, db: undefined });
    expect(targets.source).toBe('defaults');
    const result = await runCheck(apiSearch, { ...deps, db: undefined });
    expect(result.details?.[0]).toMatch(/^default probe locations \(Tempe, .*\): no database to choose shops from; set params.locations/);
    // The shops are in Lisbon: Tempe finds nothing, which is a warning naming the fix, not a pass.
    expect(result.status).toBe('warn');
  });
});

describe('spreadShops', () => {
  const shop = (slug: string, latitude: number, longitude: number): ProbeShop => ({ slug, name: slug, city: null, latitude, longitude, hasServices: true });
  it('keeps shops at least 15 miles apart, at most four', () => {
    const shops = [shop('a', 33.4, -111.9), shop('b', 33.41, -111.9), shop('c', 33.7, -111.9), shop('d', 34.5, -111.9), shop('e', 35.5, -111.9), shop('f', 36.5, -111.9)];
    expect(spreadShops(shops).map((s) => s.slug)).toEqual(['a', 'c', 'd', 'e']);
  });
  it('one area is one location', () => {
    expect(spreadShops([shop('a', 1, 1), shop('b', 1.01, 1.01)]).map((s) => s.slug)).toEqual(['a']);
  });
});
