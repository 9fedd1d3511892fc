/**
 * Issue 14, part B — PostgreSQL restarted under the API server. A throwaway cluster (never the
 * shared server other test files use), the real `routergpt serve` process on it, traffic on
 * loopback, and `pg_ctl restart -m fast` / `stop -m fast` … `start` underneath. While the database
 * is away the router routes answer 503 `unavailable` with Retry-After (never a 500, never a
 * crash); once it is back they answer 200 again without restarting the server; and every
 * analytics event the responses recorded — the 503s' error events too — reaches the table after
 * recovery (writer.ts keeps them and retries with a backoff; none is dropped or lost).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.js';
import { seedDemo } from '../../src/db/seed.js';
import { spawnCli } from '../helpers/cli.js';
import { bySize } from '../helpers/fuzz-profile.js';
import { startThrowawayCluster, type Cluster } from '../helpers/pg-cluster.js';
import { migrateTo, NEWEST_MIGRATION, postJson } from '../server/helpers.js';

let cluster: Cluster;
let pool: Pool;
let child: ReturnType<typeof spawnCli>;
let base: string;
let stderr = '';

/** Every router response of this file, by what it was: the analytics table must end up with one row for each. */
const answered = { search200: 0, delegate201: 0, unavailable503: 0 };

const SEARCH = { latitude: 33.4255, longitude: -111.94, radius_miles: 10 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  status: number;
  code?: string;
  retryAfter: string | null;
}

/** A search; a connection the server dropped or refused is an outcome too (status 0), never a stuck worker. */
async function search(): Promise<Outcome> {
  const r = await postJson(`${base}/router/search-by-location`, SEARCH).catch((error: Error) => ({ status: 0, body: { error: { code: String((error.cause as { code?: string } | undefined)?.code ?? error.message) } }, headers: new Headers() }));
  if (r.status === 200) answered.search200 += 1;
  if (r.status === 503) answered.unavailable503 += 1;
  return { status: r.status, code: r.body?.error?.code, retryAfter: r.headers.get('retry-after') };
}

/** 503s must be the documented `unavailable` with Retry-After; anything else (500 above all) is a defect. */
function expectOnly200Or503(outcomes: Outcome[]): void {
  const wrong = outcomes.filter((o) => o.status !== 200 && !(o.status === 503 && o.code === 'unavailable' && o.retryAfter === '5'));
  expect(wrong, JSON.stringify(wrong.slice(0, 5))).toEqual([]);
}

beforeAll(async () => {
  cluster = await startThrowawayCluster();
  pool = createPool({ connectionString: cluster.url, max: 2 });
  await migrateTo(pool, NEWEST_MIGRATION);
  await seedDemo(pool);
  child = spawnCli(['serve', '--env', 'prod', '--port', '0'], {
    env: { DATABASE_URL: cluster.url, RATE_LIMIT_SEARCH_PER_MIN: '1000000', RATE_LIMIT_DELEGATE_PER_MIN: '1000000', LOG_LEVEL: 'warn' },
  });
  base = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /listening on (http:\/\/[^\s]+?) /.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`serve exited early:\n${stderr}`)));
  });
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGTERM');
  await child?.catch(() => {});
  await pool?.end().catch(() => {});
  await cluster?.stop();
});

describe('fault: PostgreSQL restarted under the API server', () => {
  it('pg_ctl restart -m fast under traffic: only 200 or 503 unavailable with Retry-After, 200 again after it, the server still running', async () => {
    const before = await Promise.all(Array.from({ length: 10 }, search));
    expect(before.map((o) => o.status)).toEqual(Array(10).fill(200));

    // Bounded traffic on loopback: a few paced workers, from before the restart until a tail after it
    // (counted in requests, not in time: a loaded machine answers fewer per second).
    const during: Outcome[] = [];
    const tail: Outcome[] = [];
    let phase: 'before' | 'restarting' | 'after' | 'done' = 'before';
    const each = bySize(60, 1_000);
    const workers = Array.from({ length: 8 }, async () => {
      while (phase !== 'done') {
        const seen = phase;
        const outcome = await search();
        (seen === 'after' ? tail : during).push(outcome);
        await sleep(2);
      }
    });
    // Bounded in time as well: a server that stopped answering ends the wait (and fails below).
    const until = async (done: () => boolean) => {
      for (const deadline = Date.now() + 30_000; !done() && child.exitCode === null && Date.now() < deadline; ) await sleep(10);
    };
    await until(() => during.length >= each);
    phase = 'restarting';
    const restartStarted = Date.now();
    await cluster.restart();
    const restartMs = Date.now() - restartStarted;
    phase = 'after';
    await until(() => tail.length >= each);
    phase = 'done';
    await Promise.all(workers);
    expectOnly200Or503(during);

    // Back without restarting the server: the pool reconnects, the requests sent after the restart succeed.
    expect(tail.map((o) => o.status)).toEqual(tail.map(() => 200));
    expect(child.exitCode, stderr).toBeNull();
    const outcomes = [...during, ...tail];
    console.info(`restart -m fast: ${restartMs} ms; ${outcomes.length} requests (${tail.length} after it): ${outcomes.filter((o) => o.status === 200).length} × 200, ${outcomes.filter((o) => o.status === 503).length} × 503`);
  });

  it('while the database is stopped every router route is 503 unavailable with Retry-After; the first requests after it starts are answered', async () => {
    await cluster.halt();
    try {
      const down = await Promise.all(Array.from({ length: bySize(30, 300) }, search));
      expect(down.map((o) => o.status)).toEqual(down.map(() => 503));
      expectOnly200Or503(down);
      for (const [route, body] of [
        ['/router/delegate', { shop_slug: 'bishops-barbershop-tempe', intent: 'haircut' }],
        ['/chat', { session_id: '00000000-0000-4000-8000-000000000000', message: 'hi' }],
      ] as const) {
        const r = await postJson(`${base}${route}`, body);
        answered.unavailable503 += r.status === 503 ? 1 : 0;
        expect({ route, status: r.status, code: r.body?.error?.code, retryAfter: r.headers.get('retry-after') }).toEqual({ route, status: 503, code: 'unavailable', retryAfter: '5' });
      }
      // The server process is still there, and says so.
      const health = await fetch(`${base}/health`);
      expect([200, 503]).toContain(health.status);
      expect(child.exitCode, stderr).toBeNull();
    } finally {
      await cluster.start();
    }
    const first = await search();
    expect(first.status).toBe(200);
    const delegate = await postJson(`${base}/router/delegate`, { shop_slug: 'bishops-barbershop-tempe', intent: 'haircut' });
    expect(delegate.status, JSON.stringify(delegate.body)).toBe(201);
    answered.delegate201 += 1;
  });

  it('analytics recorded while the database was away are written after it is back: one row per response, none dropped or lost', async () => {
    const expected = [
      { event_type: 'delegate', status: null, n: answered.delegate201 },
      { event_type: 'error', status: 503, n: answered.unavailable503 },
      { event_type: 'search', status: null, n: answered.search200 },
    ].filter((r) => r.n > 0);
    expect(answered.unavailable503).toBeGreaterThan(0);
    const count = async () =>
      (
        await pool.query<{ event_type: string; status: number | null; n: number }>(
          `SELECT event_type, (payload->>'status')::int AS status, count(*)::int AS n FROM router_analytics GROUP BY 1, 2 ORDER BY 1, 2`,
        )
      ).rows;
    // The writer retries with a backoff (×2 per failure, from 500 ms): the buffered events land within seconds.
    let rows = await count();
    for (const deadline = Date.now() + 45_000; JSON.stringify(rows) !== JSON.stringify(expected) && Date.now() < deadline; ) {
      await sleep(250);
      rows = await count();
    }
    expect(rows).toEqual(expected);
    // Shut down cleanly: nothing left buffered, nothing dropped.
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode, stderr).toBe(0);
    expect(stderr).not.toMatch(/analytics event\(s\) (were lost|could not be written)/);
    expect(stderr).not.toMatch(/"level":(50|60).*"statusCode":500|Internal|uncaught/i);
  });
});
