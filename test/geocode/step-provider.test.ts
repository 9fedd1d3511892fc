import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/resolve.js';
import type { Database } from '../../src/db/connect.js';
import { dbGeocodeShopsStep } from '../../src/steps/db/geocode-shops.js';
import { tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { googleOk, googleResult, googleStatus, startFakeGoogle, type FakeServer } from '../helpers/fake-geocoders.js';
import { openMigrated, stepContext } from '../steps/context.js';

const KEY = 'AIzaSySTEP-do-not-leak-9876543210fedcba'; // routergpt:allow-secret (a test fixture, not a credential)

describe('db.geocode-shops takes its providers from geocoding.provider: [google, offline]', () => {
  let google: FakeServer;
  let testDb: TestDatabase;
  let db: Database;
  let config: ReturnType<typeof loadConfig>['config'];

  beforeAll(async () => {
    [google, testDb] = await Promise.all([startFakeGoogle(), createTestDatabase('geo_step')]);
    const dir = tempDir('routergpt-geo-step-');
    writeFileSync(path.join(dir, 'routergpt.config.yaml'), 'version: 1\nenvironments:\n  staging:\n    geocoding:\n      provider: [google, offline]\n      google: { cache_days: 14 }\n');
    config = loadConfig({ flags: { env: 'staging' }, cwd: dir, env: { DATABASE_URL: testDb.url, GOOGLE_MAPS_API_KEY: KEY, GOOGLE_GEOCODING_URL: google.url } }).config;
    db = await openMigrated(config);
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
    await google?.close();
  });

  it('Google answers one shop at rooftop, has nothing for the others (offline answers them); sources, cache TTLs and the undo follow the provider', async () => {
    const { rows: missing } = await db.pool.query<{ slug: string; address: string | null }>('SELECT slug, address FROM shops WHERE latitude IS NULL ORDER BY id');
    expect(missing.length).toBeGreaterThanOrEqual(2);
    const first = missing[0]!.slug;
    // Google knows only the first shop's address.
    google.script((req) => (req.url.searchParams.get('address')?.startsWith(missing[0]!.address ?? '\u0000') ? googleOk(googleResult({ lat: 33.6, lng: -112.1, locationType: 'ROOFTOP', placeId: 'ChIJstep' })) : googleStatus('ZERO_RESULTS')));
    const ctx = stepContext(config, db);
    const plan = await dbGeocodeShopsStep.plan(ctx);
    expect(plan[0]).toMatch(/would be geocoded with the google, offline providers \(in that order\)/);
    expect(plan.find((l) => l.includes(first))).toMatch(/33\.6, -112\.1 \[rooftop\].*\(google\)/);

    const result = await dbGeocodeShopsStep.run(ctx);
    // The offline answers are ZIP centroids, coarser than geocoding.accuracy_min (street): flagged, so warn.
    expect(result.status).toBe('warn');
    expect(result.outputs?.flagged).toEqual(expect.arrayContaining([expect.objectContaining({ flags: expect.arrayContaining(['coarse:postal_code']) })]));
    const { rows } = await db.pool.query<{ slug: string; geocode_source: string; geocode_accuracy: string }>('SELECT slug, geocode_source, geocode_accuracy FROM shops WHERE slug = ANY($1) ORDER BY slug', [missing.map((m) => m.slug)]);
    for (const row of rows) expect(row.geocode_source).toBe(row.slug === first ? 'google' : 'offline');
    expect(rows.find((r) => r.slug === first)?.geocode_accuracy).toBe('rooftop');

    const cache = await db.pool.query<{ provider: string; days: number; row: string }>("SELECT provider, extract(epoch FROM expires_at - created_at) / 86400 AS days, geocoding_cache::text AS row FROM geocoding_cache");
    for (const c of cache.rows) {
      expect(Number(c.days)).toBe(c.provider === 'google' ? 14 : 90);
      expect(c.row).not.toContain(KEY);
    }
    expect(JSON.stringify(result)).not.toContain(KEY);

    // Rollback clears each shop where it still holds what its own provider wrote.
    const undone = await dbGeocodeShopsStep.undo!.run(ctx, { runId: ctx.runId, state: 'done', outputs: result.outputs ?? {} });
    expect(undone.outputs).toMatchObject({ restored: missing.length, kept: 0 });
  });

  it('REQUEST_DENIED stops the run and writes nothing', async () => {
    google.script(googleStatus('REQUEST_DENIED', `The provided API key ${KEY} is invalid.`));
    await db.pool.query('DELETE FROM geocoding_cache');
    const before = (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM shops WHERE latitude IS NULL')).rows[0]!.n;
    const error = await dbGeocodeShopsStep.run(stepContext(config, db)).catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: 'stop', status: 'REQUEST_DENIED', exitCode: 1 });
    expect((error as Error).message).not.toContain(KEY);
    expect((await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM shops WHERE latitude IS NULL')).rows[0]!.n).toBe(before);
    expect((await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM geocoding_cache')).rows[0]!.n).toBe(0);
  });
});
