import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, OperationError } from '../../src/errors.js';
import { checksumTables, compareChecksums } from '../../src/db/backup/checksums.js';
import type { Database } from '../../src/db/connect.js';
import { TEST_SHOP_SLUGS } from '../../src/db/seed.js';
import { normaliseQuery } from '../../src/geocode/normalise.js';
import { geocodeOffline } from '../../src/geocode/offline.js';
import { dbGeocodeShopsStep } from '../../src/steps/db/geocode-shops.js';
import { dbPurgeTestDataStep, listPurgeTargets } from '../../src/steps/db/purge-test-data.js';
import { orderedFunnel } from '../../src/db/analytics/queries.js';
import { rolledFunnel } from '../../src/db/analytics/rolled-queries.js';
import { refreshAnalyticsRollupsOf } from '../../src/db/analytics/rollups.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addActivity, openMigrated, realConfig, stepContext } from './context.js';

describe('db.purge-test-data and db.geocode-shops on real PostgreSQL', () => {
  let testDb: TestDatabase;
  let db: Database;
  let config: ReturnType<typeof realConfig>;

  beforeAll(async () => {
    testDb = await createTestDatabase('rgpt_purge');
    config = realConfig(testDb.url);
    db = await openMigrated(config);
    await db.pool.query("INSERT INTO shops (slug, name, category, city, state, postal_code) VALUES ('my-test-shop', 'My Test Shop', 'salon', 'Tempe', 'AZ', '85281')");
    await addActivity(db, 'tempe-hair-salon');
    await addActivity(db, 'roosevelt-row-barbers'); // a real shop: must survive
  });

  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  const slugs = async () => (await db.pool.query<{ slug: string }>('SELECT slug FROM shops ORDER BY slug')).rows.map((r) => r.slug);

  it('geocode dry run (plan) changes nothing; run fills the 3 seed shops without coordinates and caches; verify passes; rollback restores NULLs', async () => {
    const ctx = stepContext(config, db);
    const before = await checksumTables(db.pool);
    const plan = await dbGeocodeShopsStep.plan(ctx);
    // my-test-shop has no coordinates either: 4 in all.
    expect(plan[0]).toMatch(/^4 shops without coordinates would be geocoded with the offline provider/);
    expect(plan.join('\n')).toMatch(/sunnyslope-style-house .* → 33\.5623, -112\.0559 \[postal_code\]/);
    expect(compareChecksums(before, await checksumTables(db.pool)).identical).toBe(true);

    const result = await dbGeocodeShopsStep.run(ctx);
    expect(result.summary).toMatch(/Geocoded 4 of 4 shops with offline in 1 batch \(4 provider calls, 0 from the cache\)/);
    const { rows } = await db.pool.query(`SELECT slug, latitude, longitude, geocode_source, geocode_accuracy FROM shops WHERE slug IN ('sunnyslope-style-house','ocotillo-nail-studio','val-vista-beauty-bar') ORDER BY slug`);
    expect(rows).toEqual([
      { slug: 'ocotillo-nail-studio', latitude: 33.2509, longitude: -111.8593, geocode_source: 'offline', geocode_accuracy: 'postal_code' },
      { slug: 'sunnyslope-style-house', latitude: 33.5623, longitude: -112.0559, geocode_source: 'offline', geocode_accuracy: 'postal_code' },
      { slug: 'val-vista-beauty-bar', latitude: 33.3527, longitude: -111.7809, geocode_source: 'offline', geocode_accuracy: 'postal_code' },
    ]);
    const cache = await db.pool.query("SELECT count(*)::int AS n FROM geocoding_cache WHERE provider = 'offline' AND expires_at > now() + interval '89 days'");
    expect(cache.rows[0].n).toBe(4);
    // ZIP centroids are what the offline provider gives: with it alone the minimum is postal_code, nothing flagged.
    const verdict = await dbGeocodeShopsStep.verify(ctx, result);
    expect(verdict.status).toBe('pass');

    await dbGeocodeShopsStep.undo.run(ctx, { runId: ctx.runId, state: 'done', outputs: result.outputs ?? {} });
    // Everything but the cache is back exactly as it was.
    const after = await checksumTables(db.pool);
    expect(compareChecksums(before, after).differences.map((d) => d.split(':')[0])).toEqual(['geocoding_cache']);

    // A second run is served from the cache.
    const again = await dbGeocodeShopsStep.run(ctx);
    expect(again.summary).toContain('(0 provider calls, 4 from the cache)');
    await dbGeocodeShopsStep.undo.run(ctx, { runId: ctx.runId, state: 'done', outputs: again.outputs ?? {} });
  });

  it('geocode: an unresolvable shop stays NULL and verify warns, listing it', async () => {
    await db.pool.query("INSERT INTO shops (slug, name, category, city, state, postal_code) VALUES ('nowhere-shop', 'Nowhere', 'spa', 'Atlantis', 'ZZ', '00000')");
    const ctx = stepContext(config, db);
    const result = await dbGeocodeShopsStep.run(ctx);
    expect(result.outputs?.unresolved).toEqual([{ slug: 'nowhere-shop', address: 'Atlantis, ZZ 00000', reason: 'no answer from offline' }]);
    const verified = await dbGeocodeShopsStep.verify(ctx, result);
    expect(verified.status).toBe('warn');
    expect(verified.details?.[0]).toContain('nowhere-shop');
    await dbGeocodeShopsStep.undo.run(ctx, { runId: ctx.runId, state: 'done', outputs: result.outputs ?? {} });
    await db.pool.query("DELETE FROM shops WHERE slug = 'nowhere-shop'");
  });

  it('purge plan lists exactly the five checklist slugs plus pattern matches, with dependent counts', async () => {
    const ctx = stepContext(config, db, { params: { patterns: ['%test%'] } });
    const plan = (await dbPurgeTestDataStep.plan(ctx)).join('\n');
    expect(plan).toMatch(/^Would delete 6 shop\(s\)/);
    for (const slug of [...TEST_SHOP_SLUGS, 'my-test-shop']) expect(plan).toContain(` ${slug} — `);
    expect(plan).toMatch(/tempe-hair-salon — Tempe Hair Salon \(services 5, hours 5, sessions 1, messages 1, bookings 1\)/);
    expect(plan).not.toContain('roosevelt-row-barbers');
  });

  it('purge refuses when the set changed between plan and run (expectedIds), and when it changes during confirmation; nothing deleted', async () => {
    const before = await checksumTables(db.pool);
    const planned = (await listPurgeTargets(db.pool, ['%test%'])).map((t) => t.id);
    await db.pool.query("INSERT INTO shops (slug, name, category) VALUES ('another-test-salon', 'Another', 'salon')");
    const ctx = stepContext(config, db, { params: { patterns: ['%test%'], expectedIds: planned } });
    await expect(dbPurgeTestDataStep.run(ctx)).rejects.toThrow(/plan showed 6 shop\(s\).*now 7 match.*Nothing was deleted/);
    await db.pool.query("DELETE FROM shops WHERE slug = 'another-test-salon'");
    expect(compareChecksums(before, await checksumTables(db.pool)).identical).toBe(true);

    // A shop appears while the operator reads the confirmation prompt.
    const racing = stepContext(config, db, {
      params: { patterns: ['%test%'] },
      confirm: async () => {
        await db.pool.query("INSERT INTO shops (slug, name, category) VALUES ('late-test-shop', 'Late', 'salon')");
      },
    });
    const refused = dbPurgeTestDataStep.run(racing);
    await expect(refused).rejects.toBeInstanceOf(OperationError);
    await expect(refused).rejects.toThrow(/6 shop\(s\) were confirmed .* but 7 match now/);
    await db.pool.query("DELETE FROM shops WHERE slug = 'late-test-shop'");
    expect(compareChecksums(before, await checksumTables(db.pool)).identical).toBe(true);

    // "No" at the prompt: cancelled, nothing deleted.
    const no = stepContext(config, db, { params: { patterns: ['%test%'] }, confirm: async () => { throw new CancelledError('no'); } });
    await expect(dbPurgeTestDataStep.run(no)).rejects.toBeInstanceOf(CancelledError);
    expect(compareChecksums(before, await checksumTables(db.pool)).identical).toBe(true);
  });

  it('purge deletes only the listed rows, records them, and rollback restores every table exactly', async () => {
    const before = await checksumTables(db.pool);
    const others = (await slugs()).filter((s) => !TEST_SHOP_SLUGS.includes(s as never) && s !== 'my-test-shop');
    const planned = (await listPurgeTargets(db.pool, ['%test%'])).map((t) => t.id);
    const ctx = stepContext(config, db, { params: { patterns: ['%test%'], expectedIds: planned } });
    const result = await dbPurgeTestDataStep.run(ctx);
    expect(ctx.confirmations[0]).toMatch(/^Delete 6 shop\(s\) and their dependent rows/);
    expect(result.outputs?.deletedIds).toEqual(planned);
    expect(await slugs()).toEqual(others);
    expect((await dbPurgeTestDataStep.verify(ctx, result)).status).toBe('pass');
    // The analytics event survives with shop_id NULL (ON DELETE SET NULL)…
    expect((await db.pool.query('SELECT count(*)::int AS n FROM router_analytics WHERE shop_id IS NULL')).rows[0].n).toBe(1);
    const recordFile = String(result.outputs?.record);
    expect(statSync(recordFile).mode & 0o777).toBe(0o600);
    const record = JSON.parse(readFileSync(recordFile, 'utf8'));
    expect(record.rows.shops).toHaveLength(6);
    expect(record.rows.booking_slots).toHaveLength(2);
    expect(record.nulled).toEqual([{ table: 'router_analytics', column: 'shop_id', key: expect.anything(), value: expect.anything() }]);

    const undone = await dbPurgeTestDataStep.undo.run(ctx, { runId: ctx.runId, state: 'done', outputs: result.outputs ?? {} });
    expect(undone.summary).toMatch(/^Restored 6 shop\(s\)/);
    // …and is re-attached by the rollback: every table is byte-for-byte what it was.
    expect(compareChecksums(before, await checksumTables(db.pool))).toEqual({ identical: true, differences: [] });
    // Identity sequences still hand out fresh ids after the re-insert.
    await db.pool.query("INSERT INTO shops (slug, name, category) VALUES ('fresh-shop', 'Fresh', 'spa')");
    await db.pool.query("DELETE FROM shops WHERE slug = 'fresh-shop'");
  });

  it('purge rewrites old analytics (shop_id NULL): the rollups are invalidated from the oldest rewritten event, and rolled answers stay the raw ones', async () => {
    const shop = (await db.pool.query<{ id: string }>("SELECT id FROM shops WHERE slug = 'my-test-shop'")).rows[0]!.id;
    const t = Date.now() - 3 * 86_400_000;
    const search = '00000000-0000-4000-8000-0000000000aa';
    await db.pool.query(
      `INSERT INTO router_analytics (event_type, session_id, shop_id, search_id, latency_ms, payload, created_at) VALUES
         ('search', NULL, NULL, $2, 40, jsonb_build_object('shop_ids', jsonb_build_array($1::bigint)), $3),
         ('delegate', '10000000-0000-4000-8000-0000000000aa', $1, $2, 20, '{}', $4)`,
      [shop, search, new Date(t), new Date(t + 60_000)],
    );
    const w = { since: new Date(t - 3_600_000), until: new Date() };
    const built = (await refreshAnalyticsRollupsOf(db.pool))!;
    expect((await rolledFunnel(db.pool, w, built))?.delegated).toBe(1);
    const planned = (await listPurgeTargets(db.pool, ['%test%'])).map((x) => x.id);
    const ctx = stepContext(config, db, { params: { patterns: ['%test%'], expectedIds: planned } });
    const result = await dbPurgeTestDataStep.run(ctx);
    // The delegation lost its shop: the search no longer counts as delegated — once rebuilt.
    const { rows } = await db.pool.query<{ hourly_until: Date }>('SELECT hourly_until FROM router_analytics_rollup_state');
    expect(rows[0]!.hourly_until.getTime()).toBeLessThanOrEqual(t);
    const rebuilt = (await refreshAnalyticsRollupsOf(db.pool))!;
    const raw = await orderedFunnel(db.pool, w);
    expect(raw.delegated).toBe(0);
    expect(await rolledFunnel(db.pool, w, rebuilt)).toEqual(raw);
    await dbPurgeTestDataStep.undo.run(ctx, { runId: ctx.runId, state: 'done', outputs: result.outputs ?? {} });
    expect(await rolledFunnel(db.pool, w, (await refreshAnalyticsRollupsOf(db.pool))!)).toEqual(await orderedFunnel(db.pool, w));
    expect((await orderedFunnel(db.pool, w)).delegated).toBe(1);
  });

  it('offline geocoder: ZIP centroid first, city mean as fallback, null when unknown; normalised keys', () => {
    expect(geocodeOffline({ postalCode: '85020', state: 'AZ' })).toMatchObject({ latitude: 33.5623, longitude: -112.0559, accuracy: 'postal_code' });
    expect(geocodeOffline({ postalCode: '99999', city: 'Tempe', state: 'az' })).toMatchObject({ accuracy: 'city' });
    expect(geocodeOffline({ postalCode: '10001', city: 'Tempe', state: 'AZ' })?.accuracy).toBe('city'); // a New York ZIP on an Arizona shop is not trusted
    expect(geocodeOffline({ city: 'Atlantis', state: 'ZZ' })).toBeNull();
    expect(normaliseQuery({ address: ' 414 S.  Mill Ave ', city: 'TEMPE', state: 'AZ', postalCode: '85281-1234' })).toBe(normaliseQuery({ address: '414 s mill ave', city: 'tempe', state: 'az', postalCode: '85281' }));
  });
});
