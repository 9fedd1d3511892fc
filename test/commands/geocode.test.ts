import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/geocode/review-file.js';
import { runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { googleOk, googleResult, googleStatus, nominatimPlace, startFakeGoogle, startFakeNominatim, type FakeAnswer, type FakeServer, type RecordedRequest } from '../helpers/fake-geocoders.js';

// A key-shaped secret: it must reach the loopback Google and appear nowhere else.
const KEY = 'AIzaSyCLI-do-not-leak-13579bdf2468ace0'; // routergpt:allow-secret (a test fixture, not a credential)

/** The shops of the review scenario: one clean answer and one of each flag. */
const SHOPS = [
  { slug: 'alpha-cuts', address: '1 N Central Ave', city: 'Phoenix', state: 'AZ', postal_code: '85004' },
  { slug: 'bravo-cuts', address: '200 W Washington St', city: 'Phoenix', state: 'AZ', postal_code: '85003' },
  { slug: 'charlie-cuts', address: '5 Main St', city: 'Phoenix', state: 'AZ', postal_code: '10001' },
  { slug: 'delta-cuts', address: '77 Other Rd', city: 'Phoenix', state: 'AZ', postal_code: '85004' },
  { slug: 'echo-cuts', address: '9 Partial Way', city: 'Phoenix', state: 'AZ', postal_code: '85004' },
  { slug: 'foxtrot-cuts', address: '404 Nowhere Ln', city: 'Phoenix', state: 'AZ', postal_code: '85004' },
];

/** Google's answers for them, by the address line sent. */
function googleFor(req: RecordedRequest): FakeAnswer {
  const address = req.url.searchParams.get('address') ?? '';
  const at = (lat: number, lng: number, extra: Partial<Parameters<typeof googleResult>[0]> = {}) => googleOk(googleResult({ lat, lng, locationType: 'ROOFTOP', postalCode: '85004', state: 'AZ', ...extra }));
  if (address.startsWith('1 N Central')) return at(33.4484, -112.074);
  if (address.startsWith('200 W Washington')) return at(33.45, -112.07, { locationType: 'APPROXIMATE', types: ['locality', 'political'], postalCode: '85003' });
  if (address.startsWith('5 Main')) return at(33.46, -112.08);
  if (address.startsWith('77 Other')) return at(33.4484, -112.074);
  if (address.startsWith('9 Partial')) return at(33.47, -112.09, { partialMatch: true });
  return googleStatus('ZERO_RESULTS');
}

interface Scenario {
  dir: string;
  db: TestDatabase;
  env: Record<string, string>;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
}

async function scenario(google: FakeServer, nominatim: FakeServer, prefix: string): Promise<Scenario> {
  const db = await createTestDatabase(prefix);
  const dir = tempDir('routergpt-geocode-');
  writeFileSync(
    path.join(dir, 'routergpt.config.yaml'),
    ['version: 1', 'environments:', '  staging:', '    database: { url_env: DATABASE_URL }', '    backup: { dir: backups, retention: 5 }', '    geocoding:', '      provider: google', '      google: { qps: 50, cache_days: 20 }', '      nominatim: { email: ops@example.com }', ''].join('\n'),
  );
  const env = { DATABASE_URL: db.url, ROUTERGPT_ENV: 'staging', GOOGLE_MAPS_API_KEY: KEY, GOOGLE_GEOCODING_URL: google.url, NOMINATIM_URL: nominatim.url };
  const migrated = await runCli(['migrate', 'up'], { cwd: dir, env });
  expect(migrated.exitCode, migrated.stderr).toBe(0);
  return {
    dir,
    db,
    env,
    async query(sql, values) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query(sql, values)).rows;
      } finally {
        await client.end();
      }
    },
  };
}

async function addShops(s: Scenario, shops: ReadonlyArray<Partial<(typeof SHOPS)[number]> & { slug: string }>): Promise<void> {
  for (const shop of shops) {
    await s.query(`INSERT INTO shops (slug, name, category, address, city, state, postal_code) VALUES ($1, $1, 'barbershop', $2, $3, $4, $5)`, [shop.slug, shop.address ?? null, shop.city ?? null, shop.state ?? null, shop.postal_code ?? null]);
  }
}

/** Everything of shops that geocoding may change, for "nothing was written". */
const SNAPSHOT = `SELECT slug, latitude, longitude, geocode_source, geocode_accuracy, geocode_expires_at::text, updated_at::text FROM shops ORDER BY slug`;

describe('routergpt geocode against a loopback Google: dry run, review file, apply', () => {
  let google: FakeServer;
  let nominatim: FakeServer;
  let s: Scenario;
  const outputs: string[] = [];

  beforeAll(async () => {
    [google, nominatim] = await Promise.all([startFakeGoogle(), startFakeNominatim()]);
    s = await scenario(google, nominatim, 'geo_cli');
    await addShops(s, SHOPS);
  });
  afterAll(async () => {
    // No API key in any output, log, journal, cache row, backup manifest or report.
    const files = readdirSync(s.dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile() && !f.name.endsWith('.dump'));
    for (const f of files) outputs.push(readFileSync(path.join(f.parentPath, f.name), 'utf8'));
    outputs.push(JSON.stringify(await s.query('SELECT * FROM geocoding_cache')), JSON.stringify(await s.query('SELECT * FROM routergpt.runs').catch(() => [])));
    for (const text of outputs) expect(text).not.toContain(KEY);
    await google?.close();
    await nominatim?.close();
    await s?.db.drop();
  });
  beforeEach(() => {
    google.script(googleFor);
  });

  async function cli(args: string[], env: Record<string, string | undefined> = {}) {
    const result = await runCli(args, { cwd: s.dir, env: { ...s.env, ...env } });
    outputs.push(result.stdout, result.stderr);
    return result;
  }

  it('--dry-run --provider google prints the table with the suspicious rows flagged, writes the review file, and writes nothing to shops', { timeout: 240_000 }, async () => {
    const before = await s.query(SNAPSHOT);
    google.requests.length = 0;
    const result = await cli(['geocode', '--dry-run', '--provider', 'google', '--review', 'review.csv']);
    expect(result.exitCode, result.stderr).toBe(0);
    const line = (slug: string) => result.stdout.split('\n').find((l) => l.includes(slug)) ?? '';
    expect(line('alpha-cuts')).toMatch(/33\.4484, -112\.074.*rooftop.*⚠/);
    for (const slug of ['bravo-cuts', 'charlie-cuts', 'delta-cuts', 'echo-cuts', 'foxtrot-cuts']) expect(line(slug)).toContain('⚠');
    // The flags as the table shows them (its cells wrap) and as the review file has them.
    const flat = result.stdout.replace(/[│\s]+/g, ' ');
    for (const flag of ['coarse:city', 'outside-postal-code:85004', 'same-point:alpha-cuts', 'same-point:delta-cuts', 'partial-match', 'no-result']) expect(flat.replace(/ /g, '')).toContain(flag);
    expect(result.stdout).toContain('6 shop(s): 5 resolved, 1 unresolved, 5 flagged for review; 6 provider call(s)');
    expect(result.stdout).toContain('nothing was written to shops');
    expect(google.requests).toHaveLength(6);
    expect(await s.query(SNAPSHOT)).toEqual(before);
    // The answers are cached (the real run and --apply reuse them), each Google row for cache_days.
    const cache = await s.query<{ n: number; days: number }>(`SELECT count(*)::int AS n, min(extract(epoch FROM expires_at - created_at) / 86400)::int AS days FROM geocoding_cache WHERE provider = 'google'`);
    expect(cache[0]).toEqual({ n: 6, days: 20 });

    const records = parseCsv(readFileSync(path.join(s.dir, 'review.csv'), 'utf8'));
    expect(records[0]).toEqual(['slug', 'shop_updated_at', 'address_sent', 'latitude', 'longitude', 'accuracy', 'provider', 'flags']);
    const flagsOf = (slug: string) => records.find((r) => r[0] === slug)![7]!.split(';').filter(Boolean);
    expect(flagsOf('alpha-cuts')).toEqual(['same-point:delta-cuts']);
    expect(flagsOf('bravo-cuts')).toEqual(['coarse:city']);
    expect(flagsOf('charlie-cuts')).toEqual(['outside-postal-code:85004']);
    expect(flagsOf('delta-cuts')).toEqual(['same-point:alpha-cuts']);
    expect(flagsOf('echo-cuts')).toEqual(['partial-match']);
    expect(flagsOf('foxtrot-cuts')).toEqual(['no-result']);
    const alpha = records.find((r) => r[0] === 'alpha-cuts')!;
    expect(alpha.slice(2, 7)).toEqual(['1 N Central Ave, Phoenix, AZ 85004', '33.4484', '-112.074', 'rooftop', 'google']);
    expect(records.find((r) => r[0] === 'foxtrot-cuts')!.slice(3, 6)).toEqual(['', '', '']);

    // --strict: flagged or unresolved shops are exit 3; asked again, every answer comes from the cache.
    google.requests.length = 0;
    const strict = await cli(['geocode', '--dry-run', '--strict', '--review', 'review.json']);
    expect(strict.exitCode).toBe(3);
    expect(google.requests).toHaveLength(0);
    expect(JSON.parse(readFileSync(path.join(s.dir, 'review.json'), 'utf8')).rows).toHaveLength(6);
  });

  it('--apply refuses an invalid row, an unknown shop and a shop changed since the review (exit 2, nothing written)', { timeout: 240_000 }, async () => {
    const csv = readFileSync(path.join(s.dir, 'review.csv'), 'utf8');
    const before = await s.query(SNAPSHOT);
    writeFileSync(path.join(s.dir, 'invalid.csv'), csv.replace('33.4484,-112.074', 'abc,-112.074'));
    const invalid = await cli(['geocode', '--apply', 'invalid.csv', '--yes', '--no-backup']);
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain('latitude "abc" is not a number between -90 and 90');
    writeFileSync(path.join(s.dir, 'unknown.csv'), csv.replace('echo-cuts', 'nosuch-cuts'));
    const unknown = await cli(['geocode', '--apply', 'unknown.csv', '--yes', '--no-backup']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('nosuch-cuts: no such shop');
    writeFileSync(path.join(s.dir, 'accuracy.csv'), csv.replace(',rooftop,', ',nearby,'));
    expect((await cli(['geocode', '--apply', 'accuracy.csv', '--yes', '--no-backup'])).stderr).toContain('accuracy "nearby" is not one of');
    for (const r of [invalid, unknown]) {
      expect(r.stderr).toContain('nothing was written');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(await s.query(SNAPSHOT)).toEqual(before);

    await s.query(`UPDATE shops SET phone = '555-0100', updated_at = now() WHERE slug = 'bravo-cuts'`);
    const stale = await cli(['geocode', '--apply', 'review.csv', '--yes', '--no-backup']);
    expect(stale.exitCode).toBe(2);
    expect(stale.stderr).toContain('bravo-cuts: changed since it was reviewed');
    expect((await s.query(SNAPSHOT)).filter((r) => r.latitude !== null)).toEqual([]);
  });

  it('--apply of the reviewed file writes exactly its rows, after a verified backup, without asking the provider', { timeout: 240_000 }, async () => {
    // A fresh review (bravo changed), then a reviewer's edit: a corrected point for charlie.
    const review = await cli(['geocode', '--dry-run', '--review', 'reviewed.csv']);
    expect(review.exitCode, review.stderr).toBe(0);
    const records = parseCsv(readFileSync(path.join(s.dir, 'reviewed.csv'), 'utf8'));
    const charlie = records.find((r) => r[0] === 'charlie-cuts')!;
    charlie[3] = '33.5';
    charlie[4] = '-112.1';
    writeFileSync(path.join(s.dir, 'reviewed.csv'), records.map((r) => r.map((f) => (/[",\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',')).join('\r\n') + '\r\n');
    google.requests.length = 0;
    const applied = await cli(['geocode', '--apply', 'reviewed.csv', '--yes']);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(google.requests).toHaveLength(0);
    const rows = await s.query<{ slug: string; latitude: number | null; longitude: number | null; geocode_source: string | null; geocode_accuracy: string | null; expires: boolean | null }>(
      `SELECT slug, latitude, longitude, geocode_source, geocode_accuracy, geocode_expires_at > now() + interval '19 days' AS expires FROM shops ORDER BY slug`,
    );
    const want = records.slice(1).map((r) => ({ slug: r[0], latitude: r[3] ? Number(r[3]) : null, longitude: r[4] ? Number(r[4]) : null, geocode_source: r[3] ? r[6] : null, geocode_accuracy: r[5] || null, expires: r[3] ? true : null }));
    expect(rows).toEqual(want.sort((a, b) => a.slug!.localeCompare(b.slug!)));
    expect(rows.find((r) => r.slug === 'charlie-cuts')).toMatchObject({ latitude: 33.5, longitude: -112.1 });
    // The run is journaled with its verified backup first.
    const runs = await s.query<{ record: { kind: string; items: Array<{ id: string; state: string }> } }>(`SELECT record FROM routergpt.runs ORDER BY started_at DESC LIMIT 1`);
    expect(runs[0]!.record.kind).toBe('geocode');
    expect(runs[0]!.record.items.map((i) => [i.id, i.state])).toEqual([['db.backup', 'done'], ['db.geocode-shops', 'warn']]);
  });

  it('bad input: unknown provider, missing key, public Nominatim without an e-mail, HTML from the provider, a shop with no address — one short message, nothing written', { timeout: 400_000 }, async () => {
    await addShops(s, [{ slug: 'golf-cuts' }, { slug: 'hotel-cuts', address: '1 Hotel Rd', city: 'Phoenix', state: 'AZ' }]);
    writeFileSync(path.join(s.dir, 'no-email.yaml'), readFileSync(path.join(s.dir, 'routergpt.config.yaml'), 'utf8').replace(/\n\s+nominatim: \{ email: [^}]+\}/, ''));
    expect(readFileSync(path.join(s.dir, 'no-email.yaml'), 'utf8')).not.toContain('email');
    const before = await s.query(SNAPSHOT);
    const cacheBefore = await s.query('SELECT id FROM geocoding_cache ORDER BY id');
    google.requests.length = 0;
    const cases: Array<{ args: string[]; env?: Record<string, string | undefined>; code: number; says: string }> = [
      { args: ['geocode', '--dry-run', '--provider', 'bogus'], code: 2, says: 'Unknown geocoding provider "bogus"' },
      { args: ['geocode', '--dry-run', '--shops', 'hotel-cuts'], env: { GOOGLE_MAPS_API_KEY: undefined }, code: 2, says: 'GOOGLE_MAPS_API_KEY is not set' },
      { args: ['geocode', '--config', 'no-email.yaml', '--dry-run', '--provider', 'nominatim', '--shops', 'hotel-cuts'], env: { NOMINATIM_URL: undefined }, code: 2, says: 'usage policy requires a contact' },
      { args: ['geocode', '--dry-run', '--shops', 'golf-cuts'], code: 2, says: 'no address at all' },
      { args: ['geocode', '--yes', '--no-backup'], code: 2, says: 'golf-cuts' },
      { args: ['geocode', '--dry-run', '--shops', 'nosuch-cuts'], code: 2, says: 'No such shop: nosuch-cuts' },
      { args: ['geocode', '--review', 'x.csv'], code: 2, says: 'Add --dry-run' },
      { args: ['geocode'], code: 2, says: 'there is no terminal to ask on' },
    ];
    for (const c of cases) {
      const r = await cli(c.args, c.env);
      expect([r.exitCode, r.stderr], c.args.join(' ')).toEqual([c.code, expect.stringContaining(c.says)]);
      expect(r.stderr.trim().split('\n').length, r.stderr).toBeLessThanOrEqual(6);
    }
    expect(google.requests).toHaveLength(0);
    expect(nominatim.requests).toHaveLength(0);

    google.script({ status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' });
    const html = await cli(['geocode', '--dry-run', '--shops', 'hotel-cuts']);
    expect(html.exitCode).toBe(1);
    expect(html.stderr).toMatch(/not JSON.*502 Bad Gateway/s);
    expect(html.stderr).not.toMatch(/\n\s+at /);
    google.script({ body: '{"results": [], "stat' , contentType: 'application/json' });
    const truncated = await cli(['geocode', '--yes', '--no-backup', '--shops', 'hotel-cuts']);
    expect(truncated.exitCode).toBe(1);
    expect(truncated.stdout + truncated.stderr).toContain('not JSON');
    expect(await s.query(SNAPSHOT)).toEqual(before);
    expect(await s.query('SELECT id FROM geocoding_cache ORDER BY id')).toEqual(cacheBefore);
  });
});

describe('a killed batch run resumes without asking the provider again', () => {
  let google: FakeServer;
  let nominatim: FakeServer;
  let s: Scenario;
  const N = 45;

  beforeAll(async () => {
    [google, nominatim] = await Promise.all([startFakeGoogle(), startFakeNominatim()]);
    s = await scenario(google, nominatim, 'geo_kill');
    await addShops(s, Array.from({ length: N }, (_, i) => ({ slug: `shop-${i}`, address: `${100 + i} E Van Buren St`, city: 'Phoenix', state: 'AZ', postal_code: '85004' })));
  });
  afterAll(async () => {
    await google?.close();
    await nominatim?.close();
    await s?.db.drop();
  });

  /**
   * Run the real CLI; once `answerUpTo` provider calls in all have been answered, later requests
   * are held (never answered) and the process is SIGKILLed — as if killed right then.
   */
  async function runKilledAfter(args: string[], answered: string[], answerUpTo: number | undefined) {
    const child = spawnCli(args, { cwd: s.dir, env: s.env });
    let killing = false;
    google.script((req) => {
      if (answerUpTo !== undefined && answered.length >= answerUpTo) {
        if (!killing) {
          killing = true;
          // Killed once every answer sent has reached the cache: "after N provider calls". (An
          // answer in flight when a process dies is the one call a rerun may repeat.)
          void (async () => {
            for (let i = 0; i < 200; i++) {
              const n = (await s.query<{ n: number }>(`SELECT count(*)::int AS n FROM geocoding_cache WHERE provider = 'google'`))[0]!.n;
              if (n >= answered.length) break;
              await new Promise((r) => setTimeout(r, 50));
            }
            child.kill('SIGKILL');
          })();
        }
        return { hold: true, body: null };
      }
      answered.push(req.url.searchParams.get('address') ?? '');
      return { ...googleOk(googleResult({ lat: 33.4 + answered.length / 1000, lng: -112.07, locationType: 'ROOFTOP', postalCode: '85004', state: 'AZ' })), delayMs: 20 };
    });
    const result = await child;
    return { exitCode: result.exitCode, signal: result.signal, stdout: String(result.stdout), stderr: String(result.stderr) };
  }

  it('killed mid-batch, then after two batches, then run to the end: every shop geocoded, no address asked twice', { timeout: 300_000 }, async () => {
    const answered: string[] = [];
    const first = await runKilledAfter(['geocode', '--yes', '--batch', '10'], answered, 7);
    expect(first.signal).toBe('SIGKILL');
    expect(answered).toHaveLength(7);
    expect((await s.query('SELECT count(*)::int AS n FROM shops WHERE latitude IS NOT NULL'))[0]!.n).toBe(0);

    const second = await runKilledAfter(['geocode', '--yes', '--resume'], answered, 27);
    expect(second.signal).toBe('SIGKILL');
    expect(answered).toHaveLength(27);
    // Whole batches only: each is its own transaction (the one being asked when the kill came is not written).
    const written = (await s.query<{ n: number }>('SELECT count(*)::int AS n FROM shops WHERE latitude IS NOT NULL'))[0]!.n;
    expect(written % 10, second.stderr).toBe(0);
    expect(written).toBeLessThan(N);

    // The same command again (a new run, not --resume) picks up the rest.
    const third = await runKilledAfter(['geocode', '--yes', '--batch', '10'], answered, undefined);
    expect(third.exitCode, third.stderr).toBe(0);
    expect(answered, JSON.stringify(await s.query('SELECT id, slug, latitude, geocoded_at FROM shops ORDER BY id'))).toHaveLength(N);
    expect(new Set(answered).size).toBe(N);
    expect((await s.query<{ n: number }>('SELECT count(*)::int AS n FROM shops WHERE latitude IS NOT NULL'))[0]!.n).toBe(N);
  });
});

describe('two concurrent dry runs share Nominatim\'s 1 request per second', () => {
  let google: FakeServer;
  let nominatim: FakeServer;
  let s: Scenario;

  beforeAll(async () => {
    [google, nominatim] = await Promise.all([startFakeGoogle(), startFakeNominatim()]);
    s = await scenario(google, nominatim, 'geo_nomi');
    await addShops(s, Array.from({ length: 8 }, (_, i) => ({ slug: `nomi-${i}`, address: `${i + 1} W Adams St`, city: 'Phoenix', state: 'AZ', postal_code: '85003' })));
  });
  afterAll(async () => {
    await google?.close();
    await nominatim?.close();
    await s?.db.drop();
  });

  it('at most one request in any 1 s window on the server\'s clock, across both processes', { timeout: 240_000 }, async () => {
    nominatim.script(() => ({ body: [nominatimPlace({ lat: 33.45, lon: -112.07, placeRank: 30 })] }));
    const shops = (from: number) => Array.from({ length: 4 }, (_, i) => `nomi-${from + i}`).join(',');
    const [a, b] = await Promise.all([
      runCli(['geocode', '--dry-run', '--provider', 'nominatim', '--shops', shops(0)], { cwd: s.dir, env: s.env }),
      runCli(['geocode', '--dry-run', '--provider', 'nominatim', '--shops', shops(4)], { cwd: s.dir, env: s.env }),
    ]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(a.stdout).toContain('© OpenStreetMap contributors, ODbL');
    const at = nominatim.requests.map((r) => r.at).sort((x, y) => x - y);
    expect(at).toHaveLength(8);
    // 5 ms for timer granularity, as the slot's own tests allow.
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(995);
    expect(nominatim.requests.every((r) => String(r.headers['user-agent']).includes('ops@example.com'))).toBe(true);
  });
});
