/**
 * The watch's verdicts on fixtures with hand-computed answers (real PostgreSQL: the figures come
 * from the same queries `routergpt watch` runs), the choice of baseline (previous release, a week
 * earlier, none), inconclusive without traffic, and the loop ending early on a fail — with a real
 * server on loopback answering /health, and a virtual clock so a 10-minute watch takes no time.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WATCH } from '../../src/config/watch-settings.js';
import { windowFigures } from '../../src/db/analytics/watch.js';
import { chooseBaseline, WEEK_MS } from '../../src/runbook/watch/baseline.js';
import { evaluateWindow, windowStatus } from '../../src/runbook/watch/evaluate.js';
import { healthReader } from '../../src/runbook/watch/health.js';
import type { WatchAction, WatchReport, WatchVerdict } from '../../src/runbook/watch/types.js';
import { watchExitCode, watchRelease } from '../../src/runbook/watch/watch-loop.js';
import { buildTestApp, createServerDb, listen, testConfig, type ServerDb } from '../server/helpers.js';

const SEARCH = '/router/search-by-location';
/** The watch under test starts here; the previous release (v1) was first seen a day before. */
const S = new Date('2030-03-04T17:00:00Z');
const B0 = new Date(S.getTime() - 86_400_000);
const at = (base: Date, seconds: number) => new Date(base.getTime() + seconds * 1000);
const MIN = 10;

let sdb: ServerDb;
let app: FastifyInstance;
let apiBase: string;
let shopId: number;

async function event(type: string, createdAt: Date, release: string | null, fields: { latency?: number; payload?: object; searchId?: string; sessionId?: string; shopId?: number; synthetic?: boolean } = {}) {
  await sdb.pool.query(
    `INSERT INTO router_analytics (event_type, latency_ms, payload, created_at, release, search_id, session_id, shop_id, synthetic) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [type, fields.latency ?? null, JSON.stringify(fields.payload ?? {}), createdAt, release, fields.searchId ?? null, fields.sessionId ?? null, fields.shopId ?? null, fields.synthetic ?? false],
  );
}

async function refusal(minute: Date, route: string, status: number, count: number, release = '') {
  await sdb.pool.query(`INSERT INTO router_refusals (minute, route, policy, status, client_hmac, release, count) VALUES (date_trunc('minute', $1::timestamptz), $2, 'search', $3, 'h1', $4, $5)`, [minute, route, status, release, count]);
}

/** v1's first minutes: 20 searches at 10, 20, … 200 ms (p50 105, p95 190.5), 20 delegations at 50 ms. */
async function previousRelease() {
  for (let i = 0; i < 20; i += 1) {
    await event('search', at(B0, i), 'v1', { latency: (i + 1) * 10 });
    await event('delegate', at(B0, i), 'v1', { latency: 50 });
  }
}

/**
 * v2 under watch, 1–2 minutes in: 20 searches at 30, 60, … 600 ms (p50 315, p95 571.5), one 5xx on
 * search, 3 × 429 and 1 × 422 refused; 20 delegations at 60 ms. Search: 25 requests, error rate
 * 1/25 = 4 %, 429 rate 3/25 = 12 %.
 */
async function brokenSearch() {
  for (let i = 0; i < 20; i += 1) {
    await event('search', at(S, 60 + i), 'v2', { latency: (i + 1) * 30 });
    await event('delegate', at(S, 60 + i), 'v2', { latency: 60 });
  }
  await event('error', at(S, 90), 'v2', { latency: 3, payload: { route: SEARCH, status: 500 } });
  // Synthetic traffic (routergpt's own checks) never counts.
  await event('error', at(S, 91), 'v2', { payload: { route: SEARCH, status: 500 }, synthetic: true });
  await refusal(at(S, 60), SEARCH, 429, 3, 'v2');
  await refusal(at(S, 60), SEARCH, 422, 1, 'v2');
}

function verdict(report: ReturnType<typeof evaluateWindow>, route: string, metric: string): WatchVerdict {
  return report.routes.find((r) => r.route === route)!.verdicts.find((v) => v.metric === metric)!;
}

beforeAll(async () => {
  sdb = await createServerDb('watch');
  shopId = (await sdb.pool.query<{ id: number }>(`INSERT INTO shops (slug, name, category, city, state, timezone, latitude, longitude) VALUES ('w-shop', 'W', 'barbershop', 'Tempe', 'AZ', 'America/Phoenix', 33.4, -111.9) RETURNING id::int AS id`)).rows[0]!.id;
  app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), release: 'v2' });
  apiBase = await listen(app);
}, 60_000);

beforeEach(async () => {
  await sdb.pool.query('DELETE FROM router_analytics; DELETE FROM router_refusals');
});

afterAll(async () => {
  await app?.close();
  await sdb?.close();
});

describe('verdicts on a hand-computed fixture', () => {
  it('search broken: error rate and p95 fail, p50 and the 429 rate warn; delegate passes; idle routes are inconclusive', async () => {
    await previousRelease();
    await brokenSearch();
    const choice = await chooseBaseline(sdb.pool, 'v2', S, 10 * 60_000);
    expect(choice.baseline).toMatchObject({ kind: 'previous-release', release: 'v1', from: B0.toISOString(), requests: 40 });
    const to = at(S, 300);
    const current = await windowFigures(sdb.pool, { from: S, to });
    const baseline = await windowFigures(sdb.pool, choice.windowFor(S, to)!);
    expect(current.routes.find((r) => r.route === 'search')).toEqual({ route: 'search', requests: 25, successes: 20, errors: 1, refusals: 4, refused429: 3, p50Ms: 315, p95Ms: 571.5 });
    expect(baseline.routes.find((r) => r.route === 'search')).toMatchObject({ requests: 20, errors: 0, p50Ms: 105, p95Ms: 190.5 });

    const result = evaluateWindow({ current, baseline, limits: DEFAULT_WATCH.limits, minRequests: MIN });
    expect(verdict(result, 'search', 'requests')).toMatchObject({ status: 'pass', actual: 25, baseline: 20 });
    expect(verdict(result, 'search', 'error_rate')).toMatchObject({ status: 'fail', actual: 0.04, baseline: 0, limit: 0.01, samples: 25 });
    expect(verdict(result, 'search', 'error_rate').reason).toBe('1 errors (5xx) of 25 requests = 4.00 % > limit 1.00 % and > baseline 0.00 % + 0.50 %');
    expect(verdict(result, 'search', 'p95_ms')).toMatchObject({ status: 'fail', actual: 571.5, baseline: 190.5, limit: 500, samples: 20 });
    expect(verdict(result, 'search', 'p95_ms').reason).toBe('p95 571.5 ms over 20 successful requests > limit 500 ms and > 1.2 × baseline 190.5 ms');
    expect(verdict(result, 'search', 'p50_ms')).toMatchObject({ status: 'warn', actual: 315, baseline: 105 });
    // 429s warn at most: the rate limiter doing its job is not the release failing.
    expect(verdict(result, 'search', 'rate_429')).toMatchObject({ status: 'warn', actual: 0.12, baseline: 0, limit: 0.05 });
    expect(result.routes.find((r) => r.route === 'search')!.status).toBe('fail');
    // Delegate: 60 ms against 50 ms (≤ 1.5 ×) and the 200 ms budget.
    expect(verdict(result, 'delegate', 'p95_ms')).toMatchObject({ status: 'pass', actual: 60, baseline: 50, limit: 200 });
    expect(result.routes.find((r) => r.route === 'delegate')!.status).toBe('pass');
    expect(result.routes.find((r) => r.route === 'chat')!.verdicts.every((v) => v.status === 'inconclusive')).toBe(true);
    expect(windowStatus(result, { status: 'pass', httpStatus: 200, reason: '' }, current, baseline, MIN)).toBe('fail');
  });

  it('the old release was as bad: over the limit only warns (within half the limit of the baseline, within 1.2 × its p95)', async () => {
    // v1: 20 requests, 1 error (5 %), searches at 600 ms; v2 the same error rate, 650 ms (within 1.2 × 600).
    for (let i = 0; i < 19; i += 1) await event('search', at(B0, i), 'v1', { latency: 600 });
    await event('error', at(B0, 19), 'v1', { payload: { route: SEARCH, status: 500 } });
    for (let i = 0; i < 19; i += 1) await event('search', at(S, 10 + i), 'v2', { latency: 650 });
    await event('error', at(S, 40), 'v2', { payload: { route: SEARCH, status: 500 } });
    const choice = await chooseBaseline(sdb.pool, 'v2', S, 60_000);
    const to = at(S, 60);
    const result = evaluateWindow({ current: await windowFigures(sdb.pool, { from: S, to }), baseline: await windowFigures(sdb.pool, choice.windowFor(S, to)!), limits: DEFAULT_WATCH.limits, minRequests: MIN });
    expect(verdict(result, 'search', 'error_rate')).toMatchObject({ status: 'warn', actual: 0.05, baseline: 0.05 });
    expect(verdict(result, 'search', 'p95_ms')).toMatchObject({ status: 'warn', actual: 650, baseline: 600, limit: 500 });
  });

  it('conversion: 20 searches, 10 delegated to a shop they found, 5 booked — 50 %, 50 %, 25 %', async () => {
    for (let i = 0; i < 20; i += 1) {
      const searchId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const sessionId = `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      await event('search', at(S, 10 + i), 'v2', { latency: 20, searchId, payload: { shop_ids: [shopId] } });
      if (i < 10) await event('delegate', at(S, 40 + i), 'v2', { latency: 20, searchId, sessionId, shopId });
      if (i < 5) await event('booking', at(S, 60 + i), 'v2', { sessionId, shopId });
    }
    const result = evaluateWindow({ current: await windowFigures(sdb.pool, { from: S, to: at(S, 120) }), limits: DEFAULT_WATCH.limits, minRequests: MIN });
    expect(result.conversion.map((v) => [v.metric, v.status, v.actual, v.samples])).toEqual([
      ['search_to_delegate', 'pass', 0.5, 20],
      ['delegate_to_booking', 'pass', 0.5, 10],
      ['search_to_booking', 'pass', 0.25, 20],
    ]);
    expect(result.conversion[0]!.reason).toBe('10 of 20 searches delegated = 50.00 % (no baseline)');
  });
});

describe('a window with traffic it cannot judge', () => {
  it('every request refused (the router off: 503s): no latency to measure, so inconclusive — not pass', async () => {
    await refusal(at(S, 30), SEARCH, 503, 30, 'v2');
    const current = await windowFigures(sdb.pool, { from: S, to: at(S, 120) });
    const result = evaluateWindow({ current, limits: DEFAULT_WATCH.limits, minRequests: MIN });
    // A refusal is a request, never an error.
    expect(verdict(result, 'search', 'requests')).toMatchObject({ status: 'pass', actual: 30 });
    expect(verdict(result, 'search', 'error_rate')).toMatchObject({ status: 'pass', actual: 0 });
    expect(verdict(result, 'search', 'p95_ms')).toMatchObject({ status: 'inconclusive', actual: null, samples: 0 });
    expect(windowStatus(result, { status: 'pass', httpStatus: 200, reason: '' }, current, undefined, MIN)).toBe('inconclusive');
  });
});

describe('the baseline', () => {
  it('is the previous release\'s first window of the same length, its own rows only', async () => {
    await previousRelease();
    // v1 traffic later on (a day into it) is not its first window.
    await event('search', at(B0, 3600), 'v1', { latency: 9999 });
    const choice = await chooseBaseline(sdb.pool, 'v2', S, 120_000);
    expect(choice.baseline.kind).toBe('previous-release');
    expect(choice.windowFor(S, at(S, 30))).toEqual({ from: B0, to: at(B0, 30), release: 'v1' });
    const base = await windowFigures(sdb.pool, choice.windowFor(S, at(S, 30))!);
    expect(base.routes.find((r) => r.route === 'search')!.p95Ms).toBe(190.5);
  });

  it('else the same window one week earlier (no other release recorded)', async () => {
    await event('search', new Date(S.getTime() - WEEK_MS + 30_000), 'v2', { latency: 40 });
    const choice = await chooseBaseline(sdb.pool, 'v2', S, 120_000);
    expect(choice.baseline).toMatchObject({ kind: 'week-earlier', from: new Date(S.getTime() - WEEK_MS).toISOString(), requests: 1 });
    expect(choice.baseline.reason).toContain('no release before v2 is recorded');
    expect(choice.windowFor(S, at(S, 60))).toEqual({ from: new Date(S.getTime() - WEEK_MS), to: new Date(S.getTime() - WEEK_MS + 60_000) });
  });

  it('a week earlier too when /health reports no version, and says why', async () => {
    await event('search', new Date(S.getTime() - WEEK_MS + 30_000), null, { latency: 40 });
    const choice = await chooseBaseline(sdb.pool, undefined, S, 120_000);
    expect(choice.baseline.kind).toBe('week-earlier');
    expect(choice.baseline.reason).toContain('/health reported no version');
  });

  it('none: said so, and the absolute limits still apply', async () => {
    await brokenSearch();
    const choice = await chooseBaseline(sdb.pool, 'v2', S, 120_000);
    expect(choice.baseline).toMatchObject({ kind: 'none', requests: 0 });
    expect(choice.baseline.reason).toBe('no baseline: no release before v2 is recorded in router_analytics, and the same window one week earlier had no traffic — the absolute limits alone apply');
    expect(choice.windowFor(S, at(S, 60))).toBeUndefined();
    const result = evaluateWindow({ current: await windowFigures(sdb.pool, { from: S, to: at(S, 300) }), limits: DEFAULT_WATCH.limits, minRequests: MIN });
    expect(verdict(result, 'search', 'error_rate')).toMatchObject({ status: 'fail', actual: 0.04, limit: 0.01 });
    expect(verdict(result, 'search', 'error_rate')).not.toHaveProperty('baseline');
    expect(verdict(result, 'search', 'error_rate').reason).toBe('1 errors (5xx) of 25 requests = 4.00 % > limit 1.00 % (no baseline)');
    expect(verdict(result, 'search', 'p95_ms').reason).toBe('p95 571.5 ms over 20 successful requests > limit 500 ms (no baseline)');
  });
});

/** The loop on a virtual clock: sleeping moves the clock; /health is the real server's. */
async function watchOn(options: { forMs: number; intervalMs: number; strict?: boolean; resumed?: WatchReport; checkpoints?: WatchReport[]; canary?: { release: string; fleetRelease?: string; canaryHosts: number; fleetHosts: number } }) {
  let clock = options.resumed ? Date.parse(options.resumed.startedAt) + options.resumed.windows.length * options.intervalMs : S.getTime();
  const actions: WatchReport[] = [];
  const report = await watchRelease({
    db: sdb.pool,
    env: 'prod',
    apiBase,
    settings: { ...DEFAULT_WATCH, forMs: options.forMs, intervalMs: options.intervalMs, minRequests: MIN },
    strict: options.strict ?? false,
    onFail: 'stop',
    readHealth: await healthReader(apiBase, testConfig(sdb.db.url), sdb.pool),
    now: () => new Date(clock),
    sleep: async (ms) => {
      clock += ms;
    },
    ...(options.resumed ? { resumed: structuredClone(options.resumed) } : {}),
    ...(options.canary ? { canary: options.canary } : {}),
    checkpoint: async (r) => {
      options.checkpoints?.push(structuredClone(r));
    },
    handleFail: async (r): Promise<WatchAction> => {
      actions.push(r);
      return { onFail: 'stop', taken: 'stopped', reason: 'test' };
    },
  });
  return { report, actions };
}

describe('a canary bake: the canary release against the rest of the fleet over the same minutes', () => {
  const uuid = (kind: number, i: number) => `00000000-0000-4000-800${kind}-${String(i).padStart(12, '0')}`;
  /** In the watch's first 5 minutes: v1 on two hosts, v2 (the canary) on one; every search delegated on v1, none on v2. */
  async function sideBySide() {
    for (let i = 0; i < 16; i += 1) {
      if (i < 2) await event('error', at(S, 10 + i), 'v1', { payload: { route: SEARCH, status: 503 } });
      else {
        await event('search', at(S, 10 + i), 'v1', { latency: 40, searchId: uuid(1, i), payload: { shop_ids: [shopId] } });
        await event('delegate', at(S, 20 + i), 'v1', { latency: 30, searchId: uuid(1, i), sessionId: uuid(2, i), shopId });
      }
    }
    for (let i = 0; i < 11; i += 1) {
      if (i < 1) await event('error', at(S, 40 + i), 'v2', { payload: { route: SEARCH, status: 503 } });
      else await event('search', at(S, 40 + i), 'v2', { latency: 45, searchId: uuid(3, i), payload: { shop_ids: [shopId] } });
    }
  }

  it("judges the canary's rows only, against the fleet's unscaled rates, its volume per host, its funnel by release", async () => {
    await sideBySide();
    const { report } = await watchOn({ forMs: 5 * 60_000, intervalMs: 5 * 60_000, canary: { release: 'v2', fleetRelease: 'v1', canaryHosts: 1, fleetHosts: 2 } });
    expect(report).toMatchObject({ release: 'v2', releaseOnly: true, baseline: { kind: 'concurrent', release: 'v1', scale: 0.5, requests: 30 } });
    const search = report.windows[0]!.routes.find((r) => r.route === 'search')!;
    const v = (metric: string) => search.verdicts.find((x) => x.metric === metric)!;
    // 11 canary requests against 16 of the fleet's, weighed × 0.5 per host: not "fell away".
    expect(v('requests')).toMatchObject({ status: 'pass', actual: 11, baseline: 16 });
    expect(v('requests').reason).toBe('11 requests (baseline 16 × 0.5 per host = 8)');
    // A shared outage: 1 of 11 (9.1 %) on the canary, 2 of 16 (12.5 %) on the fleet — over the
    // limit, but not the canary's doing: warn, judged on the fleet's 16 requests as they are (not 8,
    // which would be under min_requests and leave no baseline, making it a fail).
    expect(v('error_rate')).toMatchObject({ status: 'warn', baseline: 0.125, samples: 11 });
    // The funnel by release: the fleet's searches were all delegated, the canary's none.
    const conversion = report.windows[0]!.conversion.find((c) => c.metric === 'search_to_delegate')!;
    expect(conversion).toMatchObject({ status: 'warn', actual: 0, baseline: 1, samples: 10 });
    expect(report.status).not.toBe('fail');
  });

  it("with the fleet's release unknown, the baseline is every release but the canary's", async () => {
    await sideBySide();
    await event('search', at(S, 60), null, { latency: 40 });
    const { report } = await watchOn({ forMs: 5 * 60_000, intervalMs: 5 * 60_000, canary: { release: 'v2', canaryHosts: 1, fleetHosts: 2 } });
    expect(report.baseline).toMatchObject({ kind: 'concurrent', exceptRelease: 'v2', requests: 31 });
    expect(report.baseline.release).toBeUndefined();
    expect(report.baseline.reason).toContain('every release but v2');
    expect(report.windows[0]!.routes.find((r) => r.route === 'search')!.verdicts.find((x) => x.metric === 'requests')).toMatchObject({ actual: 11, baseline: 17 });
  });
});

describe('the watch loop', () => {
  it('no traffic: every window inconclusive, never pass — exit 0, or 3 under --strict', async () => {
    const { report } = await watchOn({ forMs: 10 * 60_000, intervalMs: 5 * 60_000 });
    expect(report.release).toBe('v2');
    expect(report.baseline.kind).toBe('none');
    expect(report.windows.map((w) => [w.index, w.status, w.to])).toEqual([
      [1, 'inconclusive', at(S, 300).toISOString()],
      [2, 'inconclusive', at(S, 600).toISOString()],
    ]);
    expect(report.windows[1]!.health).toMatchObject({ status: 'pass', httpStatus: 200, version: 'v2' });
    expect(report.windows[1]!.routes[0]!.verdicts[0]!.reason).toBe('0 requests < min_requests 10: too few to judge');
    expect(report).toMatchObject({ status: 'inconclusive', completed: true });
    expect(watchExitCode(report)).toBe(0);
    expect(watchExitCode({ ...report, strict: true })).toBe(3);
  });

  it('a fail ends the watch at the window that saw it and hands the report to on-fail; exit 1', async () => {
    await previousRelease();
    await brokenSearch();
    const checkpoints: WatchReport[] = [];
    const { report, actions } = await watchOn({ forMs: 10 * 60_000, intervalMs: 5 * 60_000, checkpoints });
    expect(report.windows).toHaveLength(1);
    expect(report).toMatchObject({ status: 'fail', completed: false, action: { taken: 'stopped' } });
    expect(actions).toHaveLength(1);
    expect(watchExitCode(report)).toBe(1);
    // Journaled before it acted, and after.
    expect(checkpoints.at(-1)!.action).toEqual({ onFail: 'stop', taken: 'stopped', reason: 'test' });
  });

  it('resumed from a checkpoint, it continues after the last window done', async () => {
    for (let i = 0; i < 20; i += 1) await event('delegate', at(S, 30 + i), 'v2', { latency: 40 });
    const checkpoints: WatchReport[] = [];
    await watchOn({ forMs: 3 * 60_000, intervalMs: 60_000, checkpoints });
    // The process died after window 1 was journaled.
    const afterFirst = checkpoints.find((c) => c.windows.length === 1)!;
    const { report } = await watchOn({ forMs: 3 * 60_000, intervalMs: 60_000, resumed: afterFirst });
    expect(report.windows.map((w) => w.index)).toEqual([1, 2, 3]);
    expect(report.startedAt).toBe(S.toISOString());
    expect(report).toMatchObject({ status: 'pass', completed: true });
    expect(report.windows[2]!.routes.find((r) => r.route === 'delegate')!.verdicts[0]).toMatchObject({ status: 'pass', actual: 20 });
  });
});
