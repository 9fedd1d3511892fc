import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/resolve.js';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { loadMigrations } from '../../src/db/migrator/files.js';
import { migrateUp } from '../../src/db/migrator/migrator.js';
import { dbGeocodeRefreshStep } from '../../src/steps/db/geocode-refresh.js';
import { dbGeocodeShopsStep } from '../../src/steps/db/geocode-shops.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { googleOk, googleResult, startFakeGoogle, type FakeServer } from '../helpers/fake-geocoders.js';
import { openMigrated, stepContext } from '../steps/context.js';

const KEY = 'AIzaSyPLAN-do-not-leak-0246813579abcdef'; // routergpt:allow-secret (a test fixture, not a credential)

function configFor(url: string, google: FakeServer, withKey = true) {
  const dir = tempDir('routergpt-geo-plan-');
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), 'version: 1\nenvironments:\n  staging:\n    geocoding:\n      provider: google\n      google: { cache_days: 7 }\n');
  return loadConfig({ flags: { env: 'staging' }, cwd: dir, env: { DATABASE_URL: url, GOOGLE_GEOCODING_URL: google.url, ...(withKey ? { GOOGLE_MAPS_API_KEY: KEY } : {}) } }).config;
}

describe('db.geocode-shops plans from what exists and writes nothing; db.geocode-refresh renews or clears lapsed coordinates', () => {
  let google: FakeServer;
  const dbs: TestDatabase[] = [];
  const open: Database[] = [];

  beforeAll(async () => {
    google = await startFakeGoogle();
    google.script(googleOk(googleResult({ lat: 33.45, lng: -112.07, locationType: 'ROOFTOP', postalCode: '85004', state: 'AZ' })));
  });
  afterAll(async () => {
    for (const db of open) await db.close();
    for (const db of dbs) await db.drop();
    await google?.close();
  });

  it('before migration 006 the plan counts the shops from the address columns that exist and asks for at most the sample', async () => {
    const testDb = await createTestDatabase('geo_pre006');
    dbs.push(testDb);
    const config = configFor(testDb.url, google);
    const db = await openDatabase(config, { applicationName: 'routergpt-test' });
    open.push(db);
    await migrateUp({ pool: db.pool, migrations: loadMigrations(path.join(REPO_ROOT, 'migrations')), lockTimeoutMs: 5000, lockWaitMs: 10_000 }, { to: '005' });
    for (let i = 0; i < 4; i++) await db.pool.query(`INSERT INTO shops (slug, name, category, address, city, state, postal_code) VALUES ($1, $1, 'barbershop', $2, 'Phoenix', 'AZ', '85004')`, [`pre-${i}`, `${i + 1} Main St`]);
    google.requests.length = 0;
    const plan = await dbGeocodeShopsStep.plan(stepContext(config, db, { params: { sample: 2 } }));
    expect(plan[0]).toMatch(/^After migration 006, 4 shops with an address would be geocoded with the google provider/);
    expect(plan.filter((l) => l.includes('→ 33.45, -112.07 [rooftop]'))).toHaveLength(2);
    expect(google.requests).toHaveLength(2);
    const { rows } = await db.pool.query(`SELECT to_regclass('geocoding_cache') AS cache, (SELECT count(*)::int FROM information_schema.columns WHERE table_name = 'shops' AND column_name = 'latitude') AS lat`);
    expect(rows[0]).toEqual({ cache: null, lat: 0 });
  });

  it('on a migrated database the plan reads the cache, asks for at most the sample, and writes nothing (not even hit counts)', async () => {
    const testDb = await createTestDatabase('geo_plan');
    dbs.push(testDb);
    const config = configFor(testDb.url, google);
    const db = await openMigrated(config);
    open.push(db);
    const missing = (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM shops WHERE latitude IS NULL')).rows[0]!.n;
    expect(missing).toBe(3);
    google.requests.length = 0;
    const snapshot = async () => (await db.pool.query(`SELECT (SELECT json_agg(s ORDER BY id) FROM shops s) AS shops, (SELECT json_agg(c ORDER BY id) FROM geocoding_cache c) AS cache`)).rows[0];
    const before = await snapshot();
    const plan = await dbGeocodeShopsStep.plan(stepContext(config, db, { params: { sample: 2 } }));
    expect(plan[0]).toMatch(/^3 shops without coordinates would be geocoded/);
    expect(plan.at(-1)).toBe('  … and 1 more');
    expect(google.requests).toHaveLength(2);
    expect(await snapshot()).toEqual(before);
    // Cached answers are read, not asked again (and still not counted).
    await dbGeocodeShopsStep.run(stepContext(config, db, { params: { batch: 2 } }));
    await db.pool.query('UPDATE shops SET latitude = NULL, longitude = NULL WHERE geocode_source = $1', ['google']);
    google.requests.length = 0;
    const cached = await snapshot();
    await dbGeocodeShopsStep.plan(stepContext(config, db, { params: { sample: 3 } }));
    expect(google.requests).toHaveLength(0);
    expect(await snapshot()).toEqual(cached);
  });

  it('lapsed Google coordinates are asked again (the new expiry from the new cache row); without a key they are cleared', async () => {
    const testDb = await createTestDatabase('geo_refresh');
    dbs.push(testDb);
    const config = configFor(testDb.url, google);
    const db = await openMigrated(config);
    open.push(db);
    const run = await dbGeocodeShopsStep.run(stepContext(config, db));
    expect(run.outputs?.geocoded).toHaveLength(3);
    const days = await db.pool.query<{ days: number }>(`SELECT round(extract(epoch FROM geocode_expires_at - geocoded_at) / 86400)::int AS days FROM shops WHERE geocode_source = 'google'`);
    expect(days.rows.map((r) => r.days)).toEqual([7, 7, 7]);
    // Seeded shops never lapse (geocode_source 'seed': no expiry).
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM shops WHERE geocode_expires_at IS NOT NULL AND geocode_source <> 'google'`)).rows[0].n).toBe(0);

    await db.pool.query(`UPDATE shops SET geocode_expires_at = now() - interval '1 day' WHERE geocode_source = 'google'`);
    await db.pool.query(`UPDATE geocoding_cache SET expires_at = now() - interval '1 day'`);
    expect((await dbGeocodeRefreshStep.plan(stepContext(config, db)))[0]).toMatch(/^3 shops with lapsed google coordinates would be asked again of google/);
    google.requests.length = 0;
    const refreshed = await dbGeocodeRefreshStep.run(stepContext(config, db));
    expect(refreshed.outputs).toMatchObject({ refreshed: 3, cleared: 0, calls: 3 });
    expect(google.requests).toHaveLength(3);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM shops WHERE geocode_source = 'google' AND geocode_expires_at > now() + interval '6 days'`)).rows[0].n).toBe(3);

    await db.pool.query(`UPDATE shops SET geocode_expires_at = now() - interval '1 day' WHERE geocode_source = 'google'`);
    const noKey = configFor(testDb.url, google, false);
    expect((await dbGeocodeRefreshStep.plan(stepContext(noKey, db)))[0]).toMatch(/would be cleared: .*GOOGLE_MAPS_API_KEY is not set/);
    const cleared = await dbGeocodeRefreshStep.run(stepContext(noKey, db));
    expect(cleared.status).toBe('warn');
    expect(cleared.outputs).toMatchObject({ refreshed: 0, cleared: 3 });
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM shops WHERE geocode_source = 'google' AND latitude IS NULL AND geocode_expires_at IS NULL`)).rows[0].n).toBe(3);
    expect(JSON.stringify([run, refreshed, cleared])).not.toContain(KEY);
  });
});
