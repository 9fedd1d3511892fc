/**
 * `routergpt metrics` (issue 11, part 4) on real PostgreSQL through the real CLI, over a fixture
 * whose answers were worked out by hand (the arithmetic is in the comments): every Success
 * Metric, synthetic rows (and rows outside the window) that would change the answer if they were
 * counted, a missed target → exit 1, no data → inconclusive (exit 0, never pass), targets and
 * minimum samples from the config file, and the json / markdown / junit reporters against their
 * published formats.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { createMigratedDatabase, type MigratedDatabase } from '../helpers/migrated-db.js';

let db: MigratedDatabase;
let empty: MigratedDatabase;
const env = (d = db) => ({ env: { DATABASE_URL: d.url } });
const MINUTE = 60_000;
const DAY = 86_400_000;
const now = Date.now();
const at = (ms: number) => new Date(ms).toISOString();
const uuid = (prefix: string, n: number) => `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** The fixture "mixed-month": usage, response time and satisfaction meet their targets; conversion and the error rate miss. */
async function seedMixedMonth(pool: MigratedDatabase['pool']): Promise<void> {
  const q = (sql: string, params: unknown[] = []) => pool.query(sql, params);
  const { rows: shops } = await pool.query<{ id: string }>(`INSERT INTO shops (slug, name, category) VALUES ('shop-a', 'Shop A', 'barbershop') RETURNING id`);
  const shop = Number(shops[0]!.id);
  const { rows: services } = await pool.query<{ id: string }>(`INSERT INTO services (shop_id, name, duration_minutes, price_cents) VALUES ($1, 'Cut', 30, 2500) RETURNING id`, [shop]);
  const service = Number(services[0]!.id);

  // ── Chat sessions: R1–R5 opened by the router, D1–D18 direct, S1–S2 synthetic router sessions.
  const session = async (id: string, source: 'search' | 'direct', synthetic = false) =>
    q(`INSERT INTO chat_sessions (id, shop_id, source, search_id, synthetic) VALUES ($1, $2, $3, $4, $5)`, [id, shop, source, source === 'search' ? uuid('5e000000', Number(id.slice(-3))) : null, synthetic]);
  const R = (n: number) => uuid('a0000000', n);
  const D = (n: number) => uuid('d0000000', n);
  const S = (n: number) => uuid('50000000', n);
  for (let n = 1; n <= 5; n++) await session(R(n), 'search');
  for (let n = 1; n <= 18; n++) await session(D(n), 'direct');
  for (let n = 1; n <= 2; n++) await session(S(n), 'search', true);

  // ── Bookings. Usage rate = router bookings ÷ bookings, real ones created in the window:
  //    R1–R5 (5 router) + D1–D18 (18 direct) + 2 without a session = 25 bookings, 5 of them router:
  //    5 / 25 = 20 % (> 10 %: pass; sample 25 ≥ 20).
  //    Not counted: 3 synthetic bookings in R1 (would make 8/28 = 28.6 %), one in each synthetic
  //    session S1, S2 (the booking row itself not marked — the session is), and a router booking
  //    in R2 made 40 days ago (outside --since 30d; would make 6/26).
  let slot = 0;
  const booking = async (sessionId: string | null, createdAt: number, synthetic = false) => {
    const start = now + (++slot) * DAY;
    await q(`INSERT INTO bookings (shop_id, service_id, session_id, starts_at, ends_at, created_at, synthetic) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [shop, service, sessionId, at(start), at(start + 30 * MINUTE), at(createdAt), synthetic]);
  };
  for (let n = 1; n <= 5; n++) await booking(R(n), now - DAY);
  for (let n = 1; n <= 18; n++) await booking(D(n), now - DAY);
  await booking(null, now - DAY);
  await booking(null, now - DAY);
  for (let n = 1; n <= 3; n++) await booking(R(1), now - DAY, true);
  await booking(S(1), now - DAY);
  await booking(S(2), now - DAY);
  await booking(R(2), now - 40 * DAY);

  // ── Analytics events, two days ago.
  const t0 = now - 2 * DAY;
  const event = async (type: string, o: { session?: string; search?: string; latency?: number | null; payload?: unknown; atMs: number; synthetic?: boolean }) =>
    q(`INSERT INTO router_analytics (event_type, session_id, shop_id, search_id, latency_ms, payload, created_at, synthetic) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
      type, o.session ?? null, type === 'search' ? null : shop, o.search ?? null, o.latency ?? null, JSON.stringify(o.payload ?? {}), at(o.atMs), o.synthetic ?? false,
    ]);
  // 40 real searches, each returning shop A; searches 0–19 took 100 ms, 20–39 took 300 ms.
  // Searches 0–11 were delegated to A a minute later (50 ms each) in their own session; of those,
  // 0–7 booked in that session 5 minutes after the delegation.
  //   Search → booking conversion = 8 / 40 = 20 % (< 25 %: fail; sample 40 ≥ 30).
  //   Average response time = (20 × 100 + 20 × 300 + 12 × 50) / (40 + 12) = 8600 / 52 = 165.38… ms
  //   (< 500 ms: pass). The chat messages (4000 ms, bounded by the model) are not in it.
  for (let i = 0; i < 40; i++) {
    const search = uuid('5ea00000', i);
    const start = t0 + i * MINUTE;
    await event('search', { search, latency: i < 20 ? 100 : 300, payload: { shop_ids: [shop] }, atMs: start });
    if (i < 12) await event('delegate', { session: uuid('c0000000', i), search, latency: 50, atMs: start + MINUTE });
    if (i < 8) await event('booking', { session: uuid('c0000000', i), search, atMs: start + 6 * MINUTE });
  }
  // 5 synthetic searches, each delegated and booked, 10 s each: counted, they would make the
  // conversion 13 / 45 = 28.9 % (a pass) and the response time (8600 + 10 × 10000) / 62 = 1751 ms.
  for (let i = 0; i < 5; i++) {
    const search = uuid('5eb00000', i);
    await event('search', { search, latency: 10_000, payload: { shop_ids: [shop] }, atMs: t0, synthetic: true });
    await event('delegate', { session: uuid('cb000000', i), search, latency: 10_000, atMs: t0 + MINUTE, synthetic: true });
    await event('booking', { session: uuid('cb000000', i), search, atMs: t0 + 2 * MINUTE, synthetic: true });
  }
  for (let i = 0; i < 10; i++) await event('chat_message', { session: uuid('c0000000', i), latency: 4000, atMs: t0 + 3 * MINUTE });
  for (let i = 0; i < 4; i++) await event('feedback', { session: uuid('c0000000', i), latency: 20, atMs: t0 + 10 * MINUTE });
  // 5xx: 2 real error events; 3 synthetic ones (verify's probes) are not.
  for (let i = 0; i < 2; i++) await event('error', { payload: { route: '/router/search-by-location', status: 500 }, atMs: t0 + 20 * MINUTE });
  for (let i = 0; i < 3; i++) await event('error', { payload: { route: '/router/search-by-location', status: 500 }, atMs: t0 + 20 * MINUTE, synthetic: true });
  // Refused requests (aggregated per minute): 20 × 429 + 7 × 422 + 5 × the toggle's 503 = 32 real.
  // Not counted: 50 synthetic 429s, and 1000 refusals 40 days ago.
  const minute = (ms: number) => at(Math.floor(ms / MINUTE) * MINUTE);
  const refusal = async (ms: number, route: string, policy: string, status: number, count: number, synthetic = false) =>
    q(`INSERT INTO router_refusals (minute, route, policy, status, client_hmac, synthetic, count) VALUES ($1, $2, $3, $4, 'hmac-1', $5, $6)`, [minute(ms), route, policy, status, synthetic, count]);
  await refusal(t0, '/router/search-by-location', 'search', 429, 20);
  await refusal(t0, '/router/delegate', 'delegate', 422, 7);
  await refusal(t0 + MINUTE, '/router/search-by-location', 'toggle', 503, 5);
  await refusal(t0, '/router/search-by-location', 'search', 429, 50, true);
  await refusal(now - 40 * DAY, '/router/search-by-location', 'search', 429, 1000);
  //   Requests = success events 40 searches + 12 delegations + 10 chat messages + 4 feedback (= 66)
  //            + 2 errors + 32 refused = 100 (the 8 booking events happen inside chat requests).
  //   Error rate = 2 / 100 = 2 % (≥ 1 %: fail; sample 100 ≥ 100). Counting the synthetic rows would
  //   give 5 / 153 = 3.3 %; the toggle's 503s are requests, never errors.

  // ── Feedback. Satisfaction = mean rating of the real feedback given in the window:
  //    R1–R5 rate 5, 5, 5, 4, 4; D1–D7 rate 4, 4, 3, 5, 4, 5, 4 → 12 ratings, sum 23 + 29 = 52,
  //    52 / 12 = 4.333… (> 4.0: pass; sample 12 ≥ 10).
  //    Not counted (each a 1 that would pull the mean to 57/17 = 3.35, a fail): D8–D10 marked
  //    synthetic, S1 and S2 (synthetic sessions), D11 last changed 40 days ago.
  const rate = async (sessionId: string, rating: number, o: { synthetic?: boolean; updatedAt?: number } = {}) =>
    q(`INSERT INTO router_feedback (session_id, rating, synthetic, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)`, [sessionId, rating, o.synthetic ?? false, at(o.updatedAt ?? now - DAY)]);
  for (const [n, rating] of [5, 5, 5, 4, 4].entries()) await rate(R(n + 1), rating);
  for (const [n, rating] of [4, 4, 3, 5, 4, 5, 4].entries()) await rate(D(n + 1), rating);
  for (let n = 8; n <= 10; n++) await rate(D(n), 1, { synthetic: true });
  await rate(S(1), 1);
  await rate(S(2), 1);
  await rate(D(11), 1, { updatedAt: now - 40 * DAY });
}

beforeAll(async () => {
  [db, empty] = await Promise.all([createMigratedDatabase({ prefix: 'metrics' }), createMigratedDatabase({ prefix: 'metrics_empty' })]);
  await seedMixedMonth(db.pool);
});
afterAll(async () => {
  await db?.close();
  await empty?.close();
});

interface MetricJson {
  id: string;
  verdict: string;
  actual: number | null;
  sample: number;
  target: number;
  targetOrigin: string;
  minSample: number;
  parts: Record<string, number>;
  reason: string;
}
const byId = (report: { metrics: MetricJson[] }) => Object.fromEntries(report.metrics.map((m) => [m.id, m]));

function schemaValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)));
  const validate = ajv.compile(JSON.parse(readFileSync(path.join(REPO_ROOT, 'docs', 'schemas', 'routergpt.metrics-v1.schema.json'), 'utf8')) as object);
  return (value: unknown) => (validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}

describe('routergpt metrics on the mixed-month fixture', () => {
  it('--json: every metric as worked out by hand; two targets missed → exit 1', async () => {
    const result = await runCli(['metrics', '--env', 'prod', '--since', '30d', '--json'], env());
    expect(result.exitCode, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(schemaValidator()(report)).toEqual([]);
    expect(report).toMatchObject({ schema: 'routergpt.metrics/v1', env: 'prod', verdict: 'fail', counts: { pass: 3, fail: 2, inconclusive: 0 }, funnelWindowHours: 24 });
    const m = byId(report);
    expect(report.metrics.map((x: MetricJson) => x.id)).toEqual(['usage-rate', 'search-to-booking', 'response-time', 'error-rate', 'satisfaction']);
    expect(m['usage-rate']).toMatchObject({ verdict: 'pass', actual: 20, sample: 25, target: 10, parts: { routerBookings: 5, bookings: 25 } });
    expect(m['search-to-booking']).toMatchObject({ verdict: 'fail', actual: 20, sample: 40, target: 25, parts: { bookedSearches: 8, searches: 40 } });
    expect(m['response-time']).toMatchObject({ verdict: 'pass', sample: 52, target: 500, parts: { totalMs: 8600, timedRequests: 52 } });
    expect(m['response-time']!.actual).toBeCloseTo(8600 / 52, 9);
    expect(m['error-rate']).toMatchObject({ verdict: 'fail', actual: 2, sample: 100, target: 1, parts: { errors: 2, requests: 100, succeeded: 66, refused: 32 } });
    expect(m.satisfaction).toMatchObject({ verdict: 'pass', sample: 12, target: 4, parts: { ratingTotal: 52, ratings: 12 } });
    expect(m.satisfaction!.actual).toBeCloseTo(52 / 12, 9);
    expect(m['error-rate']!.reason).toBe('2 % misses the target < 1 %');
    for (const x of report.metrics as MetricJson[]) expect(x.targetOrigin).toBe('the checklist (Success Metrics)');
  });

  it('--metric keeps only the named ones: the three that pass → exit 0', async () => {
    const result = await runCli(['metrics', '--env', 'prod', '--metric', 'usage-rate,satisfaction', '--metric', 'response-time', '--json'], env());
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.metrics.map((x: MetricJson) => x.id)).toEqual(['usage-rate', 'response-time', 'satisfaction']);
    expect(report.verdict).toBe('pass');
  });

  it('--funnel-window takes any duration, a fraction of an hour too: 8 bookings came 6 minutes after their search', async () => {
    const at90m = JSON.parse((await runCli(['metrics', '--env', 'prod', '--metric', 'search-to-booking', '--funnel-window', '90m', '--json'], env())).stdout);
    expect(at90m).toMatchObject({ funnelWindowHours: 1.5, metrics: [{ id: 'search-to-booking', parts: { bookedSearches: 8, searches: 40 } }] });
    // 3 minutes: each delegation (1 min after its search) is in time, no booking (5 min after it) is: 0 / 40.
    const at3m = JSON.parse((await runCli(['metrics', '--env', 'prod', '--metric', 'search-to-booking', '--funnel-window', '3m', '--json'], env())).stdout);
    expect(at3m.metrics[0]).toMatchObject({ actual: 0, verdict: 'fail', parts: { bookedSearches: 0, searches: 40 } });
  });

  it('human: the Success Metrics table filled in, the reasons, the outcome last', async () => {
    const result = await runCli(['metrics', '--env', 'prod'], env());
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/RouterGPT usage rate +│ > 10 % +│ 20 % +│ 25 bookings +│ ✔ pass/);
    expect(result.stdout).toMatch(/Search to booking conversion +│ > 25 % +│ 20 % +│ 40 searches +│ ✖ fail/);
    expect(result.stdout).toMatch(/Average response time +│ < 500 ms +│ 165 ms +│ 52 timed requests +│ ✔ pass/);
    expect(result.stdout).toMatch(/Error rate +│ < 1 % +│ 2 % +│ 100 requests +│ ✖ fail/);
    expect(result.stdout).toMatch(/Custom GPT user satisfaction +│ > 4\/5 +│ 4\.33\/5 +│ 12 ratings +│ ✔ pass/);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('2 targets missed, 3 met — of 5 metrics');
    expect(result.stderr).toBe('');
  });

  it('markdown and junit to files: the JUnit validates against the XSD, one testcase per metric, a failure per miss', async () => {
    const dir = tempDir();
    const result = await runCli(['metrics', '--env', 'prod', '--reporter', `markdown=${path.join(dir, 'm.md')}`, '--reporter', `junit=${path.join(dir, 'm.xml')}`], env());
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    const md = readFileSync(path.join(dir, 'm.md'), 'utf8');
    expect(md).toMatch(/^## routergpt metrics — prod\n/);
    expect(md).toContain('| Error rate | < 1 % | 2 % | 100 requests | ✖ fail |');
    expect(md).toContain('**2 targets missed, 3 met — of 5 metrics**');
    const xml = readFileSync(path.join(dir, 'm.xml'), 'utf8');
    const xsd = readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'junit.xsd'), 'utf8');
    const validated = await validateXML({ xml: [{ fileName: 'm.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
    expect(validated.errors.map((e) => e.rawMessage)).toEqual([]);
    expect(xml).toContain('tests="5" failures="2" errors="0"');
    expect(xml.match(/<testcase /g)).toHaveLength(5);
    expect(xml).toMatch(/<testcase name="error-rate"[^>]*>\s*<failure message="Error rate: 2 % misses the target &lt; 1 %"/);
    expect(xml).toMatch(/<testcase name="usage-rate"[^>]*>\s*<system-out>PASS: /);
  });

  it('targets and minimum samples from routergpt.config.yaml override the checklist, each with its source', async () => {
    const cwd = tempDir();
    writeFileSync(
      path.join(cwd, 'routergpt.config.yaml'),
      [
        'environments:',
        '  prod:',
        '    database: { url_env: DATABASE_URL }',
        '    metrics:',
        // 20 % conversion passes a 15 % target, 2 % errors pass 3 %; 12 ratings are too few for 20.
        '      targets: { search_to_booking: 15, error_rate: 3, response_time: 150ms }',
        '      min_sample: { satisfaction: 20 }',
        '',
      ].join('\n'),
    );
    const result = await runCli(['metrics', '--env', 'prod', '--json'], { cwd, env: { DATABASE_URL: db.url } });
    // 165.38 ms now misses the 150 ms target: still exit 1, for that one alone.
    expect(result.exitCode, result.stderr).toBe(1);
    const m = byId(JSON.parse(result.stdout));
    expect(m['search-to-booking']).toMatchObject({ verdict: 'pass', target: 15, targetOrigin: 'routergpt.config.yaml: environments.prod.metrics.targets.search_to_booking' });
    expect(m['error-rate']).toMatchObject({ verdict: 'pass', target: 3 });
    expect(m['response-time']).toMatchObject({ verdict: 'fail', target: 150, targetOrigin: 'routergpt.config.yaml: environments.prod.metrics.targets.response_time' });
    expect(m.satisfaction).toMatchObject({ verdict: 'inconclusive', minSample: 20, reason: 'only 12 ratings in the window (a verdict needs 20)' });
    expect(m['usage-rate']).toMatchObject({ verdict: 'pass', targetOrigin: 'the checklist (Success Metrics)' });

    const human = await runCli(['metrics', '--env', 'prod', '--metric', 'search-to-booking,error-rate'], { cwd, env: { DATABASE_URL: db.url } });
    expect(human.exitCode, human.stderr).toBe(0);
    expect(human.stdout).toContain('Search to booking conversion: target > 15 % from routergpt.config.yaml: environments.prod.metrics.targets.search_to_booking');

    // config show lists every target with its source.
    const shown = JSON.parse((await runCli(['config', 'show', '--env', 'prod', '--json'], { cwd, env: { DATABASE_URL: db.url } })).stdout);
    const rows = Object.fromEntries(shown.values.map((r: { key: string }) => [r.key, r]));
    expect(rows['metrics.error_rate']).toMatchObject({ value: '< 3 %, a verdict from 100 requests', source: 'file', origin: 'routergpt.config.yaml: environments.prod.metrics.targets.error_rate' });
    expect(rows['metrics.usage_rate']).toMatchObject({ value: '> 10 %, a verdict from 20 bookings', source: 'default' });
    expect(rows['metrics.satisfaction'].value).toBe('> 4/5, a verdict from 20 ratings (routergpt.config.yaml: environments.prod.metrics.min_sample.satisfaction)');
  });

  for (const [yaml, message] of [
    ['metrics: { targets: { error_rat: 2 } }', 'error_rat'],
    ['metrics: { targets: { response_time: fast } }', 'environments.prod.metrics.targets.response_time "fast" is not a duration'],
    ['metrics: { targets: { satisfaction: 7 } }', 'satisfaction'],
  ] as const) {
    it(`a bad metrics block (${yaml}) is a configuration error: exit 2, naming the key`, async () => {
      const cwd = tempDir();
      writeFileSync(path.join(cwd, 'routergpt.config.yaml'), `environments:\n  prod:\n    database: { url_env: DATABASE_URL }\n    ${yaml}\n`);
      const result = await runCli(['metrics', '--env', 'prod'], { cwd, env: { DATABASE_URL: db.url } });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe('');
    });
  }
});

describe('routergpt metrics without data', () => {
  it('an empty database: every metric inconclusive (never pass), said so, exit 0', async () => {
    const result = await runCli(['metrics', '--env', 'prod', '--json'], env(empty));
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(schemaValidator()(report)).toEqual([]);
    expect(report).toMatchObject({ verdict: 'inconclusive', counts: { pass: 0, fail: 0, inconclusive: 5 } });
    expect(report.metrics.map((x: MetricJson) => [x.id, x.actual, x.sample, x.reason])).toEqual([
      ['usage-rate', null, 0, 'no bookings in the window'],
      ['search-to-booking', null, 0, 'no searches in the window'],
      ['response-time', null, 0, 'no timed requests in the window'],
      ['error-rate', null, 0, 'no requests in the window'],
      ['satisfaction', null, 0, 'no ratings in the window'],
    ]);
    const human = await runCli(['metrics', '--env', 'prod', '--reporter', 'junit'], env(empty));
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toContain('tests="5" failures="0" errors="0"');
    expect(human.stdout.match(/<skipped message="[^"]+: no [a-z ]+ in the window"\/>/g)).toHaveLength(5);
  });

  it('a window with too little data (--until): inconclusive with the count and the minimum; the rest judged', async () => {
    // From 45 to 35 days back only the rows made 40 days ago: one router booking (R2), 1000
    // refused requests and no error, one rating of 1 (D11).
    const result = await runCli(['metrics', '--env', 'prod', '--since', '45d', '--until', '35d', '--json'], env());
    expect(result.exitCode, result.stderr).toBe(0);
    const m = byId(JSON.parse(result.stdout));
    expect(m['usage-rate']).toMatchObject({ verdict: 'inconclusive', actual: 100, sample: 1, reason: 'only 1 booking in the window (a verdict needs 20)' });
    expect(m['search-to-booking']).toMatchObject({ verdict: 'inconclusive', actual: null, sample: 0 });
    // 0 errors in 1000 requests: 0 % < 1 %.
    expect(m['error-rate']).toMatchObject({ verdict: 'pass', actual: 0, sample: 1000, parts: { errors: 0, refused: 1000 } });
    expect(m.satisfaction).toMatchObject({ verdict: 'inconclusive', actual: 1, sample: 1, reason: 'only 1 rating in the window (a verdict needs 10)' });
  });
});

describe('bad input', () => {
  for (const [args, message] of [
    [['--since', '7x'], '--since "7x" is not a duration or a date'],
    [['--since', '2999-01-01'], 'is not in the past'],
    [['--since', '1d', '--until', '2d'], '--until "2d" is not after --since'],
    [['--metric', 'latency'], 'Unknown metric "latency"'],
    [['--metric', 'eror-rate'], 'did you mean "error-rate"?'],
    [['--funnel-window', 'soon'], '--funnel-window'],
    [['--reporter', 'github'], 'Unknown reporter "github"'],
  ] as const) {
    it(`${args.join(' ')}: exit 2, one short message, no stack trace`, async () => {
      const result = await runCli(['metrics', '--env', 'prod', ...args], env());
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
    });
  }

  it('an unreachable database: exit 2, as every command', async () => {
    const result = await runCli(['metrics', '--env', 'prod'], { env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
  });
});
