/**
 * Issue 9 "Done when": `verify` and `smoke` against a real server (the built CLI's `serve` on
 * real PostgreSQL, loopback) add no unmarked row to router_analytics, and no session or booking
 * that the views or metrics count; the booking api.chat-router-context makes is cancelled with
 * its slots freed before the check ends. Without a database and without ROUTERGPT_SYNTHETIC_KEY,
 * `smoke --base-url` says its requests are not marked.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSyntheticKey } from '../../src/db/synthetic-key.js';
import type { VerifyReport } from '../../src/report/types.js';
import { runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { createMigratedDatabase, type MigratedDatabase } from '../helpers/migrated-db.js';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('verify and smoke against a real server leave no real-looking traffic', () => {
  const cwd = tempDir('routergpt-synthetic-');
  let db: MigratedDatabase;
  let base: string;
  let env: Record<string, string>;
  let serve: ReturnType<typeof spawnCli> | undefined;
  let verify: VerifyReport;
  let smoke: VerifyReport;
  let baseUrlSmoke: { stderr: string; exitCode: number };

  beforeAll(async () => {
    db = await createMigratedDatabase({ seed: true, prefix: 'synv' });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { DATABASE_URL: db.url, PUBLIC_API_BASE: base };
    serve = spawnCli(['serve', '--env', 'staging', '--port', String(port)], { cwd, env });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        if ((await fetch(`${base}/health`)).ok) break;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) throw new Error('serve did not answer /health');
      await new Promise((r) => setTimeout(r, 200));
    }
    const v = await runCli(['verify', '--env', 'staging', '--only', 'api', '--reporter', 'json'], { cwd, env });
    verify = JSON.parse(v.stdout) as VerifyReport;
    const s = await runCli(['smoke', '--env', 'staging', '--reporter', 'json'], { cwd, env });
    smoke = JSON.parse(s.stdout) as VerifyReport;
    // No database, the key from the variable: still marked.
    const key = (await readSyntheticKey(db.pool))!;
    const b = await runCli(['smoke', '--base-url', base, '--only', 'api.search', '--reporter', 'json'], { cwd, env: { ROUTERGPT_SYNTHETIC_KEY: key } });
    expect(b.stderr).not.toContain('not marked synthetic');
    // SIGTERM flushes the analytics buffer before the server exits.
    serve.kill('SIGTERM');
    await serve;
    serve = undefined;
    baseUrlSmoke = await runCli(['smoke', '--base-url', base, '--only', 'api.health'], { cwd });
  }, 300_000);

  afterAll(async () => {
    serve?.kill('SIGTERM');
    await serve?.catch(() => {});
    await db?.close();
  });

  const count = async (sql: string) => (await db.pool.query<{ n: number }>(sql)).rows[0]!.n;

  it('the API checks ran and sent traffic, all of it marked: no unmarked row in router_analytics', async () => {
    expect(verify.checks.filter((c) => c.id.startsWith('api.')).length).toBeGreaterThan(8);
    expect(smoke.checks.some((c) => c.id === 'api.chat-router-context')).toBe(true);
    expect(await count(`SELECT count(*)::int AS n FROM router_analytics WHERE synthetic AND event_type = 'search'`)).toBeGreaterThan(5);
    expect(await count(`SELECT count(*)::int AS n FROM router_analytics WHERE synthetic AND event_type = 'delegate'`)).toBeGreaterThan(0);
    expect((await db.pool.query('SELECT event_type, count(*)::int AS n FROM router_analytics WHERE NOT synthetic GROUP BY 1')).rows).toEqual([]);
  });

  it('no session and no booking the views or metrics count', async () => {
    expect(await count('SELECT count(*)::int AS n FROM chat_sessions WHERE synthetic')).toBeGreaterThan(0);
    expect(await count('SELECT count(*)::int AS n FROM chat_sessions WHERE NOT synthetic')).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM bookings WHERE NOT synthetic')).toBe(0);
    expect((await db.pool.query('SELECT * FROM router_conversion_funnel')).rows).toEqual([]);
    expect((await db.pool.query('SELECT * FROM router_usage_summary')).rows).toEqual([]);
    expect(await count('SELECT count(*)::int AS n FROM router_shop_discovery WHERE times_discovered > 0 OR times_delegated > 0 OR bookings > 0')).toBe(0);
  });

  it('each booking a check made is cancelled and its slots are free again', async () => {
    const chat = [...verify.checks, ...smoke.checks].filter((c) => c.id === 'api.chat-router-context');
    expect(chat.map((c) => c.status)).toEqual(['pass', 'pass']);
    for (const c of chat) expect(c.summary).toMatch(/^booked .*; then cancelled, its slots freed$/);
    const bookings = await db.pool.query<{ status: string; synthetic: boolean; slots: number }>(
      'SELECT b.status, b.synthetic, (SELECT count(*)::int FROM booking_slots s WHERE s.booking_id = b.id) AS slots FROM bookings b',
    );
    expect(bookings.rows.length).toBe(2);
    expect(bookings.rows).toEqual(bookings.rows.map(() => ({ status: 'cancelled', synthetic: true, slots: 0 })));
    expect(await count('SELECT count(*)::int AS n FROM booking_slots')).toBe(0);
  });

  it('smoke --base-url with no database and no ROUTERGPT_SYNTHETIC_KEY warns once that its requests are not marked', () => {
    const lines = baseUrlSmoke.stderr.split('\n').filter((l) => l.includes('not marked synthetic'));
    expect(lines).toEqual(['warning: requests are not marked synthetic — there is no database to read the key from; set ROUTERGPT_SYNTHETIC_KEY (the key in routergpt.synthetic_key) or they will count as real traffic']);
  });
});
