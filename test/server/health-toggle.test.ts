/** GET /health against a database that goes away and comes back; the RouterGPT feature toggle. */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { adminUrl } from '../helpers/db.js';
import { buildTestApp, createServerDb, listen, migrateTo, NEWEST_MIGRATION as NEWEST, postJson, testConfig, type ServerDb } from './helpers.js';
import { VERSION } from '../../src/version.js';

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Poll until fn() is true; fails after `deadlineMs` (a bound, not a speed assertion). */
async function eventually(fn: () => Promise<boolean>, deadlineMs = 15_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A loopback port nothing listens on: bind, note the port, close. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let sdb: ServerDb;
beforeAll(async () => {
  sdb = await createServerDb('health');
});
afterAll(async () => {
  await sdb?.close();
});

describe('GET /health', () => {
  it('200 {"ok":true} with the database and toggle state', async () => {
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url) });
    try {
      const url = await listen(app);
      const res = await fetch(`${url}/health`);
      expect(res.status).toBe(200);
      // `version`: ROUTERGPT_RELEASE of the server's environment, else the package version.
      expect(await res.json()).toEqual({ ok: true, version: process.env.ROUTERGPT_RELEASE ?? VERSION, database: 'ok', router_enabled: true, schema: { applied: NEWEST, expected: NEWEST, ahead: false }, rate_limits: { store: 'memory', redis: 'not-configured' } });
    } finally {
      await app.close();
    }
  });

  it('redis-unreachable: still 200 (limits fall back to this server), rate_limits.redis reports unreachable', async () => {
    const port = await closedPort();
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url, { REDIS_URL: `redis://127.0.0.1:${port}` }), rateLimit: { fallbackPerMinute: 100_000, connectTimeoutMs: 300 } });
    try {
      const url = await listen(app);
      const res = await fetch(`${url}/health`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { ok: boolean; rate_limits: { store: string; redis: string; lastError?: string; since?: string } };
      expect(body).toMatchObject({ ok: true, database: 'ok', rate_limits: { store: 'redis', redis: 'unreachable' } });
      expect(body.rate_limits.lastError).toEqual(expect.any(String));
      expect(Number.isNaN(Date.parse(body.rate_limits.since ?? ''))).toBe(false);
      // Searches are still served.
      expect((await postJson(`${url}/router/search-by-location`, { latitude: 1, longitude: 1 })).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('database-dropped: 503 with a reason, then 200 again by itself once the database is back', async () => {
    // A throwaway database the app's pool points at; dropping it kills the pool's connections.
    const name = `health_gone_${process.pid}`;
    await admin(`CREATE DATABASE ${name}`);
    const url = new URL(adminUrl());
    url.pathname = `/${name}`;
    const pool = createPool({ connectionString: url.toString(), max: 2, connectionTimeoutMillis: 1000 });
    // Migrated, or /health would rightly answer 503 schema_behind instead of 200.
    await migrateTo(pool, NEWEST);
    const app = await buildTestApp({ pool, config: testConfig(url.toString()) });
    try {
      const base = await listen(app);
      expect((await fetch(`${base}/health`)).status).toBe(200);
      await admin(`DROP DATABASE ${name} WITH (FORCE)`);
      await eventually(async () => (await fetch(`${base}/health`)).status === 503);
      const down = await fetch(`${base}/health`);
      const body = (await down.json()) as { ok: boolean; reason: string; database: string };
      expect(body).toMatchObject({ ok: false, database: 'unreachable' });
      expect(body.reason).toMatch(/database/);
      // Back as a restore would bring it: with its schema.
      await admin(`CREATE DATABASE ${name}`);
      await eventually(async () => {
        try {
          await migrateTo(pool, NEWEST);
          return true;
        } catch {
          return false; // the pool's dead connections are still being replaced
        }
      });
      await eventually(async () => (await fetch(`${base}/health`)).status === 200);
    } finally {
      await app.close();
      await pool.end();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  });
});

describe('feature toggle', () => {
  it('ENABLE_ROUTER_GPT=false: router routes answer 503 router_disabled, /health reports it', async () => {
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url, { ENABLE_ROUTER_GPT: 'false' }) });
    try {
      const url = await listen(app);
      for (const [path, body] of [['/router/search-by-location', { latitude: 1, longitude: 1 }], ['/router/delegate', { shop_slug: 'x' }], ['/chat', { session_id: 'nope', message: 'hi' }]] as const) {
        const res = await postJson(`${url}${path}`, body);
        expect(res.status, path).toBe(503);
        expect(res.body.error.code).toBe('router_disabled');
        expect(res.body.error.message).toMatch(/ENABLE_ROUTER_GPT/);
      }
      const health = await (await fetch(`${url}/health`)).json();
      expect(health).toMatchObject({ ok: true, router_enabled: false });
    } finally {
      await app.close();
    }
  });

  it("the 'router_gpt' feature_flags row switches the router off and on without a restart", async () => {
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), flagTtlMs: 100 });
    const search = () => postJson(`${url}/router/search-by-location`, { latitude: 1, longitude: 1 });
    let url = '';
    try {
      url = await listen(app);
      expect((await search()).status).toBe(200);
      await sdb.pool.query(`UPDATE feature_flags SET enabled = false, updated_by = 'rollback test' WHERE key = 'router_gpt'`);
      await eventually(async () => (await search()).status === 503);
      const off = await search();
      expect(off.body.error).toMatchObject({ code: 'router_disabled' });
      expect(off.body.error.message).toMatch(/feature flag.*rollback test/);
      expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ router_enabled: false });
      await sdb.pool.query(`UPDATE feature_flags SET enabled = true WHERE key = 'router_gpt'`);
      await eventually(async () => (await search()).status === 200);
    } finally {
      await app.close();
    }
  });
});
