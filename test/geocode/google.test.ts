import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import envVarsCheck from '../../src/checks/config/env-vars.js';
import { runConfigShow } from '../../src/commands/config/run-config-show.js';
import { loadConfig } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/errors.js';
import { geocodeCached, geocodeChain } from '../../src/geocode/cache.js';
import { GeocodeProviderError } from '../../src/geocode/errors.js';
import { createGoogleGeocoder } from '../../src/geocode/google.js';
import { normaliseQuery } from '../../src/geocode/normalise.js';
import { createGeocoders } from '../../src/geocode/select.js';
import { tempDir } from '../helpers/cli.js';
import { googleOk, googleResult, googleStatus, startFakeGoogle, type FakeServer } from '../helpers/fake-geocoders.js';
import { createMigratedDatabase, type MigratedDatabase } from '../helpers/migrated-db.js';

// A key-shaped secret: it must appear in the request the fake receives and nowhere else.
const KEY = 'AIzaSyTEST-do-not-leak-0123456789abcdef'; // routergpt:allow-secret (a test fixture, not a credential)
const PHOENIX = { address: '1 N Central Ave', city: 'Phoenix', state: 'AZ', postalCode: '85004' };
const fast = { tries: 4, baseDelayMs: 5, maxDelayMs: 20 };

describe('Google Geocoding client against a loopback server speaking its wire format', () => {
  let google: FakeServer;
  let db: MigratedDatabase;
  const seen: string[] = [];

  beforeAll(async () => {
    [google, db] = await Promise.all([startFakeGoogle(), createMigratedDatabase({ prefix: 'geo_google' })]);
  });
  afterAll(async () => {
    await google?.close();
    await db?.close();
  });
  beforeEach(() => {
    google.requests.length = 0;
  });

  const client = (options: Partial<Parameters<typeof createGoogleGeocoder>[0]> = {}) => createGoogleGeocoder({ apiKey: KEY, baseUrl: google.url, qps: 50, retry: fast, ...options });
  /** The error a call throws, its text remembered for the key-leak assertion at the end. */
  async function failure(promise: Promise<unknown>): Promise<GeocodeProviderError> {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(GeocodeProviderError);
    const e = error as GeocodeProviderError;
    seen.push(e.message, e.hint ?? '', String(e.stack));
    return e;
  }

  it('sends address, components (country, postal code) and the key; ROOFTOP is rooftop and place_id is kept', async () => {
    google.script(googleOk(googleResult({ lat: 33.4484, lng: -112.074, locationType: 'ROOFTOP', placeId: 'ChIJrooftop', formatted: '1 N Central Ave, Phoenix, AZ 85004, USA' })));
    const result = await client().geocode({ ...PHOENIX, country: 'US' });
    expect(result).toEqual({ latitude: 33.4484, longitude: -112.074, accuracy: 'rooftop', formatted: '1 N Central Ave, Phoenix, AZ 85004, USA', placeId: 'ChIJrooftop' });
    const sent = google.requests[0]!.url.searchParams;
    expect(sent.get('address')).toBe('1 N Central Ave, Phoenix, AZ 85004');
    expect(sent.get('components')).toBe('country:US|postal_code:85004');
    expect(sent.get('key')).toBe(KEY);
  });

  it('leaves components out when the shop has neither country nor postal code', async () => {
    google.script(googleOk(googleResult({ lat: 33.45, lng: -112.07, locationType: 'APPROXIMATE', types: ['locality', 'political'] })));
    await client().geocode({ city: 'Phoenix', state: 'AZ' });
    expect(google.requests[0]!.url.searchParams.has('components')).toBe(false);
    expect(google.requests[0]!.url.searchParams.get('address')).toBe('Phoenix, AZ');
  });

  it.each([
    ['RANGE_INTERPOLATED', ['street_address'], 'street'],
    ['GEOMETRIC_CENTER', ['postal_code'], 'postal_code'],
    ['APPROXIMATE', ['postal_code'], 'postal_code'],
    ['APPROXIMATE', ['locality', 'political'], 'city'],
    ['GEOMETRIC_CENTER', ['route'], 'city'],
  ])('location_type %s with types %j is %s', async (locationType, types, accuracy) => {
    google.script(googleOk(googleResult({ lat: 33.5, lng: -112.1, locationType, types })));
    expect((await client().geocode(PHOENIX))?.accuracy).toBe(accuracy);
  });

  it('keeps partial_match, flagged in the result and in the cache row it is read back from', async () => {
    google.script(googleOk(googleResult({ lat: 33.51, lng: -112.02, locationType: 'ROOFTOP', partialMatch: true, formatted: '100 Other St, Phoenix, AZ' })));
    const now = new Date();
    const query = { address: '100 Othr St', city: 'Phoenix', state: 'AZ' };
    const first = await geocodeCached(db.pool, client(), query, now);
    expect(first.result).toMatchObject({ partialMatch: true, accuracy: 'rooftop' });
    expect(first.result?.formatted).toMatch(/partial match/);
    const again = await geocodeCached(db.pool, client(), query, now);
    expect(again).toMatchObject({ fromCache: true, result: { partialMatch: true, placeId: 'ChIJ-fake-place' } });
    expect(google.requests).toHaveLength(1);
  });

  it('ZERO_RESULTS is a negative cache entry in geocoding_cache, expiring after cache_days (set explicitly, not the 90-day default)', async () => {
    google.script(googleStatus('ZERO_RESULTS'));
    const now = new Date('2026-12-01T12:00:00Z');
    const query = { address: '999 Nowhere Rd', city: 'Phoenix', state: 'AZ', postalCode: '85099' };
    const geocoder = client({ cacheDays: 7 });
    expect(geocoder.cacheTtlDays).toBe(7);
    expect((await geocodeCached(db.pool, geocoder, query, now)).result).toBeNull();
    const { rows } = await db.pool.query<{ latitude: number | null; provider: string; expires_at: Date; created_at: Date }>('SELECT latitude, provider, created_at, expires_at FROM geocoding_cache WHERE query_normalized = $1', [normaliseQuery(query)]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ latitude: null, provider: 'google' });
    expect(rows[0]!.expires_at.getTime() - rows[0]!.created_at.getTime()).toBe(7 * 86_400_000);
    expect(rows[0]!.created_at.toISOString()).toBe(now.toISOString());
    // Asked again: answered from the cache, Google not called.
    const again = await geocodeCached(db.pool, geocoder, query, now);
    expect(again).toMatchObject({ fromCache: true, result: null });
    expect(google.requests).toHaveLength(1);
  });

  it('the default cache_days is 30 (Google\'s terms)', async () => {
    google.script(googleOk(googleResult({ lat: 33.4, lng: -112.0, locationType: 'ROOFTOP' })));
    const now = new Date('2026-12-01T12:00:00Z');
    const query = { address: '2 Default Way', city: 'Phoenix', state: 'AZ' };
    await geocodeCached(db.pool, client(), query, now);
    const { rows } = await db.pool.query<{ days: number }>("SELECT extract(epoch FROM expires_at - created_at) / 86400 AS days FROM geocoding_cache WHERE provider = 'google' AND query_normalized = $1", [normaliseQuery(query)]);
    expect(Number(rows[0]!.days)).toBe(30);
  });

  it('OVER_QUERY_LIMIT then OK: retried with backoff, the second answer used', async () => {
    google.script(googleStatus('OVER_QUERY_LIMIT', 'You have exceeded your rate-limit for this API.'), googleOk(googleResult({ lat: 33.3, lng: -111.9, locationType: 'ROOFTOP' })));
    expect((await client().geocode(PHOENIX))?.latitude).toBe(33.3);
    expect(google.requests).toHaveLength(2);
  });

  it('UNKNOWN_ERROR on every try: bounded (4 tries), then a typed error', async () => {
    google.script(googleStatus('UNKNOWN_ERROR'));
    const e = await failure(client().geocode(PHOENIX));
    expect(google.requests).toHaveLength(4);
    expect(e).toMatchObject({ provider: 'google', failure: 'exhausted', status: 'UNKNOWN_ERROR' });
    expect(e.message).toMatch(/UNKNOWN_ERROR 4 times/);
  });

  it.each([
    ['OVER_DAILY_LIMIT', /billing/],
    ['REQUEST_DENIED', /GOOGLE_MAPS_API_KEY/],
    ['INVALID_REQUEST', /address/],
  ])('%s stops the batch: no retry, the status, Google\'s error_message with the key redacted, and the fix', async (status, fix) => {
    // Google's messages can quote the request; the fake echoes the key to prove it is taken out.
    google.script(googleStatus(status, `The provided API key ${KEY} is invalid.`));
    const e = await failure(client().geocode(PHOENIX));
    expect(google.requests).toHaveLength(1);
    expect(e).toMatchObject({ failure: 'stop', status, exitCode: 1 });
    expect(e.message).toContain(status);
    expect(e.message).toContain('The provided API key ***** is invalid.');
    expect(e.hint).toMatch(fix);
  });

  it('an HTML page with HTTP 200 (a captive portal): a typed error naming the provider, the status and the first bytes — not a JSON.parse stack', async () => {
    google.script({ status: 200, body: `<!DOCTYPE html><html><head><title>Login</title></head><body>Sign in to the Wi-Fi ${KEY}</body></html>` });
    const e = await failure(client().geocode(PHOENIX));
    expect(google.requests).toHaveLength(1);
    expect(e).toMatchObject({ provider: 'google', failure: 'garbage', status: 'HTTP 200' });
    expect(e.message).toMatch(/^google at 127\.0\.0\.1:\d+ answered HTTP 200 with a body that is not JSON: "<!DOCTYPE html><html><head><title>Login/);
    expect(e.message).not.toMatch(/Unexpected token|JSON\.parse|SyntaxError/);
  });

  it('a proxy\'s 502 HTML page is retried, then reported with its HTTP status', async () => {
    google.script({ status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' });
    const e = await failure(client().geocode(PHOENIX));
    expect(google.requests).toHaveLength(4);
    expect(e.status).toBe('HTTP 502');
    expect(e.message).toContain('"<html><body><h1>502 Bad Gateway</h1></body></html>"');
  });

  it('an unreachable endpoint is retried, then a typed error naming the host (never the URL with the key)', async () => {
    const e = await failure(client({ baseUrl: 'http://127.0.0.1:1/maps/api/geocode/json' }).geocode(PHOENIX));
    expect(e).toMatchObject({ provider: 'google', failure: 'exhausted', status: 'unreachable' });
    expect(e.message).toMatch(/^google at 127\.0\.0\.1:1 did not answer \(ECONNREFUSED/);
  });

  it('JSON that is not Google\'s (no status) is garbage too', async () => {
    google.script({ body: { error: 'nope' } });
    const e = await failure(client().geocode(PHOENIX));
    expect(e.message).toMatch(/is JSON without a "status"/);
  });

  it('qps bounds the request rate: 12 requests at qps 10, the 11th no sooner than ~1 s after the 1st', async () => {
    google.script(googleOk(googleResult({ lat: 33, lng: -112, locationType: 'ROOFTOP' })));
    const geocoder = client({ qps: 10 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => geocoder.geocode({ address: `${i} Rate St`, city: 'Phoenix', state: 'AZ' })));
    const at = google.requests.map((r) => r.at).sort((a, b) => a - b);
    expect(at).toHaveLength(12);
    // Unthrottled, all 12 arrive within a few ms. The bucket times the requests' starts, and the
    // server sees them after a delay that varies on a loaded machine (up to ~50 ms measured): the
    // 11th arrives at least 900 ms after the 1st. (qps protects our quota; it is not a policy bound
    // like Nominatim's, whose slot counts from the answer.)
    for (let i = 10; i < at.length; i++) expect(at[i]! - at[i - 10]!).toBeGreaterThanOrEqual(900);
  });

  it('the key appears in no error message, hint or stack, and in no geocoding_cache row', async () => {
    expect(seen.length).toBeGreaterThan(10);
    for (const text of seen) expect(text).not.toContain(KEY);
    const { rows } = await db.pool.query<{ row: string }>('SELECT geocoding_cache::text AS row FROM geocoding_cache');
    expect(rows.length).toBeGreaterThan(0);
    for (const { row } of rows) expect(row).not.toContain(KEY);
  });
});

describe('the fallback chain through the cache', () => {
  let google: FakeServer;
  let db: MigratedDatabase;
  beforeAll(async () => {
    [google, db] = await Promise.all([startFakeGoogle(), createMigratedDatabase({ prefix: 'geo_chain' })]);
  });
  afterAll(async () => {
    await google?.close();
    await db?.close();
  });

  const chain = (env: Record<string, string> = {}) =>
    createGeocoders({ config: loadConfig({ flags: {}, cwd: configDir('geocoding:\n      provider: [google, offline]\n'), env: { GOOGLE_MAPS_API_KEY: KEY, GOOGLE_GEOCODING_URL: google.url, ...env } }).config });

  it('Google has no answer (ZERO_RESULTS, cached for google): offline answers, and says so', async () => {
    google.script(googleStatus('ZERO_RESULTS'));
    const { geocoders } = chain();
    expect(geocoders.map((g) => g.name)).toEqual(['google', 'offline']);
    const got = await geocodeChain(db.pool, geocoders, { address: '1 Unknown Rd', city: 'Tempe', state: 'AZ', postalCode: '85281' }, new Date());
    expect(got).toMatchObject({ provider: 'offline', result: { accuracy: 'postal_code' }, skipped: [] });
    const { rows } = await db.pool.query<{ provider: string; latitude: number | null }>('SELECT provider, latitude FROM geocoding_cache ORDER BY provider');
    expect(rows).toEqual([{ provider: 'google', latitude: null }, expect.objectContaining({ provider: 'offline' })]);
  });

  it('REQUEST_DENIED stops the chain: a broken key is not hidden behind offline answers', async () => {
    google.script(googleStatus('REQUEST_DENIED', 'This API project is not authorized to use this API.'));
    const error = await geocodeChain(db.pool, chain().geocoders, { address: '2 Denied Rd', city: 'Tempe', state: 'AZ' }, new Date()).catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: 'stop', status: 'REQUEST_DENIED' });
  });
});

/** A temp directory with a routergpt.config.yaml giving the local environment `body` (indented for it). */
function configDir(body: string): string {
  const dir = tempDir('routergpt-geocode-');
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), `version: 1\nenvironments:\n  local:\n    ${body}`);
  return dir;
}

describe('provider selection from the config: bad input is a ConfigError (exit 2) before any request', () => {
  const load = (body: string, env: Record<string, string> = {}) => loadConfig({ flags: {}, cwd: configDir(body), env });

  it('the default is offline, with every value\'s source', () => {
    const { geocoding } = loadConfig({ flags: {}, cwd: tempDir(), env: {} }).config;
    expect(geocoding.providers).toMatchObject({ value: ['offline'], source: 'default' });
    expect(geocoding.google.cacheDays).toMatchObject({ value: 30, source: 'default' });
    // Offline alone gives ZIP centroids at best: its default minimum is postal_code (a city fallback is still coarse).
    expect(geocoding.accuracyMin.value).toBe('postal_code');
    expect(load('geocoding:\n      provider: [google, offline]\n', { GOOGLE_MAPS_API_KEY: KEY }).config.geocoding.accuracyMin.value).toBe('street');
    expect(createGeocoders({ config: loadConfig({ flags: {}, cwd: tempDir(), env: {} }).config }).geocoders.map((g) => g.name)).toEqual(['offline']);
  });

  it('file values keep their source; the key and URLs come from the environment', () => {
    const { geocoding } = load('geocoding:\n      provider: google\n      accuracy_min: postal_code\n      google: { cache_days: 10, qps: 5 }\n', { GOOGLE_MAPS_API_KEY: KEY }).config;
    expect(geocoding.providers).toMatchObject({ value: ['google'], source: 'file', origin: 'routergpt.config.yaml: environments.local.geocoding.provider' });
    expect(geocoding.google.cacheDays).toMatchObject({ value: 10, source: 'file' });
    expect(geocoding.google.apiKey).toMatchObject({ source: 'env', origin: 'GOOGLE_MAPS_API_KEY (from the environment)' });
    expect(geocoding.accuracyMin.value).toBe('postal_code');
  });

  it('config show lists the geocoding values with their sources, the key masked', () => {
    const loaded = load('geocoding:\n      provider: [google, offline]\n      nominatim: { email: ops@example.com }\n', { GOOGLE_MAPS_API_KEY: KEY });
    const rows = Object.fromEntries(runConfigShow(loaded.config, loaded.environments).values.map((r) => [r.key, r]));
    expect(rows['geocoding.provider']).toMatchObject({ value: 'google, offline', source: 'file' });
    expect(rows['geocoding.google.cache_days']).toMatchObject({ value: '30', source: 'default' });
    expect(rows['geocoding.nominatim.email']).toMatchObject({ value: 'ops@example.com', source: 'file' });
    expect(rows.google_maps_api_key).toMatchObject({ value: `***** (${KEY.length} characters)`, source: 'env' });
    expect(JSON.stringify(rows)).not.toContain(KEY);
  });

  it('config.env-vars fails when geocoding.provider names google and GOOGLE_MAPS_API_KEY is unset, and says where google was named', async () => {
    const without = await envVarsCheck.run({ config: load('geocoding:\n      provider: [google, offline]\n').config, fetch, now: () => new Date() });
    expect(without.status).toBe('fail');
    expect(without.details).toContain('missing GOOGLE_MAPS_API_KEY: geocoding.provider names google (routergpt.config.yaml: environments.local.geocoding.provider)');
    const withKey = await envVarsCheck.run({ config: load('geocoding:\n      provider: google\n', { GOOGLE_MAPS_API_KEY: KEY }).config, fetch, now: () => new Date() });
    expect(withKey.status).toBe('pass');
    expect(JSON.stringify(withKey)).not.toContain(KEY);
  });

  it('an unknown provider lists the known ones', () => {
    const error = (() => {
      try {
        load('geocoding:\n      provider: [google, mapquest]\n');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/unknown geocoding provider "mapquest"; known providers: google, nominatim, offline/);
    expect((error as ConfigError).exitCode).toBe(2);
  });

  it('cache_days above Google\'s 30 is refused by the schema', () => {
    expect(() => load('geocoding:\n      google: { cache_days: 90 }\n')).toThrow(/geocoding\.google\.cache_days: must be from 1 to 30 \(got 90\)/);
  });

  it('google without GOOGLE_MAPS_API_KEY names the variable', () => {
    const { config } = load('geocoding:\n      provider: google\n');
    expect(() => createGeocoders({ config })).toThrow(ConfigError);
    expect(() => createGeocoders({ config })).toThrow(/GOOGLE_MAPS_API_KEY is not set/);
  });

  it('the public Nominatim without a contact e-mail is refused; with NOMINATIM_URL elsewhere it is not', () => {
    expect(() => createGeocoders({ config: load('geocoding:\n      provider: nominatim\n').config })).toThrow(/geocoding\.nominatim\.email is not set/);
    const own = createGeocoders({ config: load('geocoding:\n      provider: nominatim\n', { NOMINATIM_URL: 'http://127.0.0.1:1' }).config });
    expect(own.geocoders.map((g) => g.name)).toEqual(['nominatim']);
    expect(own.slot?.kind).toBe('file');
    expect(own.attributions).toEqual(['© OpenStreetMap contributors, ODbL']);
  });
});
