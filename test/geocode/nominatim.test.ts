import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { ConfigError, OperationError } from '../../src/errors.js';
import { GeocodeProviderError } from '../../src/geocode/errors.js';
import { createNominatimGeocoder, NOMINATIM_ATTRIBUTION } from '../../src/geocode/nominatim.js';
import { createFileSlot, createRedisSlot } from '../../src/geocode/request-slot.js';
import { loadConfig } from '../../src/config/resolve.js';
import { createPool } from '../../src/db/pool.js';
import { createGeocoders } from '../../src/geocode/select.js';
import { cleanEnv, REPO_ROOT, tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { nominatimPlace, startFakeNominatim, type FakeServer } from '../helpers/fake-geocoders.js';

const fast = { tries: 4, baseDelayMs: 5, maxDelayMs: 20 };
const SHOP = { address: '1 N Central Ave', city: 'Phoenix', state: 'AZ', postalCode: '85004', country: 'us' };

describe('Nominatim client against a loopback server speaking its jsonv2 wire format', () => {
  let nominatim: FakeServer;
  beforeAll(async () => {
    nominatim = await startFakeNominatim();
  });
  afterAll(async () => {
    await nominatim?.close();
  });
  beforeEach(() => {
    nominatim.requests.length = 0;
  });

  // The wire-format tests share one slot with no interval: the 1 request/s bound has its own tests below.
  const client = () => createNominatimGeocoder({ baseUrl: nominatim.url, email: 'ops@example.com', slot: createFileSlot(tempDir(), { name: 'wire', intervalMs: 0, marginMs: 0 }), retry: fast });

  it('sends a structured search (street, city, state, postalcode, country; jsonv2, addressdetails, limit 1) with an application User-Agent naming the contact', async () => {
    nominatim.script({ body: [nominatimPlace({ lat: 33.4484, lon: -112.074, placeRank: 30, placeId: 98765 })] });
    const result = await client().geocode(SHOP);
    expect(result).toEqual({ latitude: 33.4484, longitude: -112.074, accuracy: 'rooftop', formatted: '1 Main Street, Phoenix, Arizona, 85004, United States', placeId: '98765', postalCode: '85004', state: ['Arizona'] });
    const req = nominatim.requests[0]!;
    expect(req.url.pathname).toBe('/search');
    expect(Object.fromEntries(req.url.searchParams)).toEqual({ street: '1 N Central Ave', city: 'Phoenix', state: 'AZ', postalcode: '85004', country: 'us', format: 'jsonv2', addressdetails: '1', limit: '1' });
    expect(req.headers['user-agent']).toMatch(/^routergpt\/\d+\.\d+\.\d+ \(contact: ops@example\.com\)$/);
  });

  it.each([
    [30, 'house', 'rooftop'],
    [27, 'road', 'street'],
    [21, 'postcode', 'postal_code'],
    [22, 'neighbourhood', 'postal_code'],
    [16, 'city', 'city'],
    [19, 'suburb', 'city'],
  ])('place_rank %i (%s) is %s', async (placeRank, addresstype, accuracy) => {
    nominatim.script({ body: [nominatimPlace({ lat: 33.5, lon: -112.1, placeRank, addresstype, importance: 0.6 })] });
    expect((await client().geocode(SHOP))?.accuracy).toBe(accuracy);
  });

  it('coarser than a town (a state, place_rank 8) and an empty list are no answer', async () => {
    nominatim.script({ body: [nominatimPlace({ lat: 34.2, lon: -111.6, placeRank: 8, addresstype: 'state', importance: 0.8 })] }, { body: [] });
    expect(await client().geocode(SHOP)).toBeNull();
    expect(await client().geocode(SHOP)).toBeNull();
  });

  it('HTTP 429 then a place: retried (Retry-After honoured), the answer used', async () => {
    nominatim.script({ status: 429, body: '<html><body>Too Many Requests</body></html>', headers: { 'retry-after': '0' } }, { body: [nominatimPlace({ lat: 33.1, lon: -112.2, placeRank: 26, addresstype: 'road' })] });
    expect(await client().geocode(SHOP)).toMatchObject({ latitude: 33.1, accuracy: 'street' });
    expect(nominatim.requests).toHaveLength(2);
  });

  it('HTTP 429 on every try: bounded, then a typed error with the status', async () => {
    nominatim.script({ status: 429, body: 'Too Many Requests' });
    const e = (await client().geocode(SHOP).catch((x: unknown) => x)) as GeocodeProviderError;
    expect(e).toBeInstanceOf(GeocodeProviderError);
    expect(e).toMatchObject({ provider: 'nominatim', failure: 'exhausted', status: 'HTTP 429' });
    expect(nominatim.requests).toHaveLength(4);
  });

  it('HTTP 403 (blocked by the usage policy) stops the batch at once, saying what to check', async () => {
    nominatim.script({ status: 403, body: '<html><body><h1>Access blocked</h1>You have been blocked because you have violated the usage policy.</body></html>' });
    const e = (await client().geocode(SHOP).catch((x: unknown) => x)) as GeocodeProviderError;
    expect(e).toMatchObject({ failure: 'stop', status: 'HTTP 403' });
    expect(e.message).toContain('Access blocked');
    expect(e.hint).toMatch(/geocoding\.nominatim\.email/);
    expect(nominatim.requests).toHaveLength(1);
  });

  it('an HTML page with HTTP 200: a typed error naming the provider, the status and the first bytes', async () => {
    nominatim.script({ body: '<!doctype html><html><title>Proxy error</title><body>upstream timed out</body></html>' });
    const e = (await client().geocode(SHOP).catch((x: unknown) => x)) as GeocodeProviderError;
    expect(e).toMatchObject({ provider: 'nominatim', failure: 'garbage', status: 'HTTP 200' });
    expect(e.message).toMatch(/^nominatim at 127\.0\.0\.1:\d+ answered HTTP 200 with a body that is not JSON: "<!doctype html><html><title>Proxy error/);
  });

  it('JSON that is not a list of places is garbage', async () => {
    nominatim.script({ body: { error: { code: 400, message: 'Nothing to search for.' } } });
    const e = (await client().geocode(SHOP).catch((x: unknown) => x)) as GeocodeProviderError;
    expect(e.message).toMatch(/is JSON but not a list of places/);
  });

  it('a shop with no address at all sends nothing', async () => {
    expect(await client().geocode({})).toBeNull();
    expect(nominatim.requests).toHaveLength(0);
  });

  it('the public server without a contact e-mail is refused before any request; the attribution is exported', () => {
    const slot = createFileSlot(tempDir(), { name: 'public' });
    expect(() => createNominatimGeocoder({ slot })).toThrow(ConfigError);
    expect(() => createNominatimGeocoder({ baseUrl: 'https://nominatim.openstreetmap.org/', slot })).toThrow(/geocoding\.nominatim\.email is not set/);
    expect(NOMINATIM_ATTRIBUTION).toBe('© OpenStreetMap contributors, ODbL');
  });

  it('an unreachable Redis fails closed: no request is sent without the shared slot', async () => {
    const slot = createRedisSlot('redis://127.0.0.1:1', { name: 'down' });
    const geocoder = createNominatimGeocoder({ baseUrl: nominatim.url, email: 'ops@example.com', slot, retry: fast });
    const e = await geocoder.geocode(SHOP).catch((x: unknown) => x);
    await slot.close();
    expect(e).toBeInstanceOf(OperationError);
    expect((e as OperationError).message).toMatch(/Redis at 127\.0\.0\.1:1 did not answer/);
    expect(nominatim.requests).toHaveLength(0);
  });
});

describe('at most 1 request per second for the whole application: two processes, one Nominatim, each slot backend', () => {
  const CLIENT = path.join(REPO_ROOT, 'test', 'geocode', 'fixtures', 'nominatim-client.mjs');
  let testDb: TestDatabase;
  beforeAll(async () => {
    // The processes run the built client (dist/), as the CLI tests do (`npm test` builds first).
    expect(existsSync(path.join(REPO_ROOT, 'dist', 'geocode', 'request-slot.js')), 'dist/ is missing the geocoding client: run `npm run build`').toBe(true);
    testDb = await createTestDatabase('geo_slot');
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  it('the slot follows the environment: Redis when it names one, else an advisory lock on a real server, else a lock file beside the embedded database', async () => {
    const env = { NOMINATIM_URL: 'http://127.0.0.1:9/', DATABASE_URL: testDb.url };
    const configOf = (extra: Record<string, string>, envName = 'staging') => loadConfig({ flags: { env: envName }, cwd: tempDir(), env: { ...env, ...extra } }).config;
    const pool = createPool({ connectionString: testDb.url, max: 1 });
    try {
      const viaRedis = createGeocoders({ config: configOf({ REDIS_URL: inject('redisUrl') }), db: { pool, kind: 'url' }, providers: ['nominatim'] });
      expect(viaRedis.slot?.kind).toBe('redis');
      await viaRedis.close();
      expect(createGeocoders({ config: configOf({}), db: { pool, kind: 'url' }, providers: ['nominatim'] }).slot?.kind).toBe('postgres');
      const local = configOf({}, 'local');
      const embedded = createGeocoders({ config: local, providers: ['nominatim'] }).slot;
      expect(embedded?.kind).toBe('file');
      expect(embedded?.description).toBe(`lock file ${path.join(local.stateDir.value, 'local', 'nominatim-127.0.0.1_9.slot')}`);
    } finally {
      await pool.end();
    }
  });

  async function twoProcesses(slot: 'redis' | 'postgres' | 'file'): Promise<{ server: FakeServer; outputs: string[] }> {
    const server = await startFakeNominatim();
    server.script({ body: [nominatimPlace({ lat: 33.45, lon: -112.07, placeRank: 30 })] });
    const slotDir = tempDir('routergpt-slot-');
    try {
      const run = (who: string) =>
        execa(process.execPath, [CLIENT], {
          env: cleanEnv({ NOMINATIM_URL: server.url, SLOT: slot, REDIS_URL: inject('redisUrl'), DATABASE_URL: testDb.url, SLOT_DIR: slotDir, COUNT: '3', WHO: who }),
          extendEnv: false,
          cwd: REPO_ROOT,
        });
      const results = await Promise.all([run('alpha'), run('bravo')]);
      return { server, outputs: results.map((r) => String(r.stdout)) };
    } finally {
      await server.close();
    }
  }

  // The three backends run side by side (each with its own server and slot): ~7 s instead of ~20.
  it.concurrent.for(['redis', 'postgres', 'file'] as const)('%s: 6 requests from 2 processes, no two within 1000 ms of each other', async (slot, { expect }) => {
    const { server, outputs } = await twoProcesses(slot);
    // Both processes got their three answers…
    expect(outputs.map((o) => JSON.parse(o) as unknown)).toEqual([{ who: 'alpha', results: ['rooftop', 'rooftop', 'rooftop'] }, { who: 'bravo', results: ['rooftop', 'rooftop', 'rooftop'] }]);
    const streets = server.requests.map((r) => r.url.searchParams.get('street') ?? '');
    expect(streets.filter((s) => s.includes('alpha'))).toHaveLength(3);
    expect(streets.filter((s) => s.includes('bravo'))).toHaveLength(3);
    // …and the server, on its one clock, never saw two requests less than a second apart. 5 ms
    // are allowed for timer and clock granularity; the slot itself keeps a 50 ms margin.
    const at = server.requests.map((r) => r.at).sort((a, b) => a - b);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(Math.min(...gaps), `gaps: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`).toBeGreaterThanOrEqual(995);
  });
});
