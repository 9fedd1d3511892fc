/**
 * Issue 16 item 2: a location search is ONE statement — the rings evaluated inside the database
 * (searchQuery) — named and planned per search on PostgreSQL, unnamed on the embedded database.
 * Exactness of the answers is search-oracle.test.ts's; here: the statement count, that rings
 * after the answering one are never executed, the generic-plan guard, and PGlite's shared backend.
 */
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDensityGrid } from '../../src/db/search/density.js';
import { ringQuery, ringRadii, searchQuery } from '../../src/db/search/location-sql.js';
import { openEmbedded } from '../../src/db/embedded.js';
import { loadMigrations } from '../../src/db/migrator/files.js';
import { migrateUp } from '../../src/db/migrator/migrator.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { searchShops } from '../../src/server/search/search-shops.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/pg-cluster.js';
import { createServerDb, type LocatedShop, searchOracle, type ServerDb } from './helpers.js';

/** A Queryable that counts what goes through it. */
function counting(pool: Pool) {
  const db = {
    statements: [] as string[],
    query: ((config: string | { text: string }, values?: unknown[]) => {
      db.statements.push(typeof config === 'string' ? config : config.text);
      return pool.query(config as never, values as never);
    }) as Pool['query'],
  };
  return db;
}

// A dense cluster at Tempe (400 shops within ~0.3 mi), a sparse ring of 30 shops 10–12 mi out,
// nothing else: ring 1 (1 mi) is full at Tempe; 10 mi out, rings 1 and 4 mi are empty.
const FIXTURE = `
INSERT INTO shops (slug, name, category, latitude, longitude)
SELECT 'dense-' || lpad(g::text, 4, '0'), 'Dense ' || g, CASE WHEN g % 2 = 0 THEN 'barbershop' ELSE 'salon' END,
       33.4255 + ((g * 7919) % 100 - 50) * 0.0001, -111.94 + ((g * 104729) % 100 - 50) * 0.0001
  FROM generate_series(1, 400) g
UNION ALL
SELECT 'sparse-' || lpad(g::text, 4, '0'), 'Sparse ' || g, 'spa',
       33.4255 + (0.15 + 0.01 * (g % 3)) * cos(radians(g * 12)), -111.94 + (0.18 + 0.01 * (g % 3)) * sin(radians(g * 12))
  FROM generate_series(1, 30) g`;

const SEARCHES = [
  { latitude: 33.4255, longitude: -111.94, radiusMiles: 50, limit: 20 }, // ring 1 full
  { latitude: 33.4255, longitude: -111.94, radiusMiles: 50, category: 'spa', limit: 20 }, // only the 16 mi ring holds 20 spas
  { latitude: 33.4255, longitude: -111.94, radiusMiles: 11, category: 'spa', limit: 50 }, // never full: the requested radius answers
  { latitude: 33.6, longitude: -111.94, radiusMiles: 30, limit: 20 }, // 12 mi north of Tempe: rings 1 and 4 empty
  { latitude: 33.4255, longitude: -111.94, radiusMiles: 0.5, limit: 10 }, // a single ring
  { latitude: 33.4255, longitude: 179.99, radiusMiles: 20, limit: 5 }, // boxes across ±180°, nothing there
];

describe('one statement per location search (issue 16)', () => {
  let sdb: ServerDb;
  let rows: LocatedShop[];

  beforeAll(async () => {
    sdb = await createServerDb('onestmt');
    await sdb.pool.query(FIXTURE);
    await sdb.pool.query('ANALYZE shops');
    rows = (await sdb.pool.query<LocatedShop>('SELECT slug, category, latitude, longitude FROM shops')).rows;
  });
  afterAll(async () => {
    await sdb?.close();
  });

  it('every search, whatever ring answers, is one statement (after one version() probe per pool) and equals the oracle', async () => {
    const db = counting(sdb.pool);
    await searchShops(db, SEARCHES[0]!);
    expect(db.statements[0]).toMatch(/version\(\)/);
    db.statements.length = 0;
    for (const s of SEARCHES) {
      const got = await searchShops(db, s);
      expect(got.map((h) => h.slug), JSON.stringify(s)).toEqual(searchOracle(rows, s.latitude, s.longitude, s.radiusMiles, s.category, s.limit));
    }
    expect(db.statements).toHaveLength(SEARCHES.length);
  });

  it('the statement answers with the first full ring, and never executes the rings after it', async () => {
    // Tempe, 50 mi: ring 1 is full, so rings 4, 16 and 50 mi show "never executed".
    const q = searchQuery(SEARCHES[0]!);
    expect(q.radii).toEqual([1, 4, 16, 50]);
    const { rows: plan } = await sdb.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${q.text}`, q.values);
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    const ctes = text.split(/\n\s*CTE /).slice(1);
    expect(ctes.map((c) => c.split('\n')[0])).toEqual(['r1', 'r2', 'r3', 'r4', 'answer']);
    expect(ctes[0]).not.toContain('never executed');
    for (const later of ctes.slice(1, 4)) expect(later).toMatch(/Limit \(never executed\)/);
    // Spas: rings 1 and 4 mi hold none, the 16 mi ring all 30 → the answer is ring 3's first 20.
    const spa = await searchShops(sdb.pool, SEARCHES[1]!);
    const ring3 = (await sdb.pool.query<{ slug: string }>(ringQuery(SEARCHES[1]!, 16).text, ringQuery(SEARCHES[1]!, 16).values)).rows;
    expect(spa.map((h) => h.slug)).toEqual(ring3.map((h) => h.slug));
    expect(spa).toHaveLength(20);
  });

  it('each ring of the statement gets its own boxes: two across ±180°, one elsewhere, and the name says so', () => {
    const across = searchQuery(SEARCHES[5]!);
    expect(across.name).toBe('routergpt_search_a2222'); // rings 1, 4, 16, 20 mi
    expect(across.text.match(/s\.latitude BETWEEN/g)).toHaveLength(8);
    const tempe = searchQuery({ ...SEARCHES[1]!, radiusMiles: 5 });
    expect(tempe.name).toBe('routergpt_search_c111'); // rings 1, 4, 5 mi
    expect(tempe.text).toContain('s.category = $4');
    expect(ringRadii(5)).toEqual(tempe.radii);
    // Same shape, same text (one prepared statement per shape, not per search).
    expect(searchQuery({ ...SEARCHES[1]!, radiusMiles: 7, latitude: 40 }).text).toBe(tempe.text);
  });

  it('on PostgreSQL it is a named prepared statement that is never planned generically (plan_cache_mode guard)', async () => {
    const client = new pg.Client({ connectionString: sdb.db.url });
    await client.connect();
    try {
      // More than the five custom plans after which PostgreSQL would first consider a generic one.
      for (let i = 0; i < 12; i += 1) await searchShops(client as never, { ...SEARCHES[3]!, latitude: 33.5 + i * 0.01 });
      const { rows: prepared } = await client.query<{ name: string; generic_plans: string; custom_plans: string }>(
        "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'routergpt_search_%'",
      );
      expect(prepared).toEqual([{ name: searchQuery(SEARCHES[3]!).name, generic_plans: '0', custom_plans: '12' }]);
      const { rows: mode } = await client.query<{ m: string }>("SELECT current_setting('plan_cache_mode') AS m");
      expect(mode[0]!.m).toBe('force_custom_plan');
    } finally {
      await client.end();
    }
  });
});

describe('one statement per location search while the database is unreachable', () => {
  it('a search fails with the connection error after ONE attempt (the probe), and the next search asks again', async () => {
    const pool = createPool({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`, max: 2, connectionTimeoutMillis: 2000 });
    try {
      const db = counting(pool);
      await expect(searchShops(db, SEARCHES[0]!)).rejects.toThrow(/ECONNREFUSED/);
      expect(db.statements).toEqual(['SELECT version() AS v']);
      await expect(searchShops(db, SEARCHES[0]!)).rejects.toThrow(/ECONNREFUSED/);
      expect(db.statements).toHaveLength(2);
    } finally {
      await pool.end();
    }
  });
});

describe('one statement per location search on the embedded database (PGlite: one shared backend)', () => {
  it('concurrent searches over several connections use unnamed statements and do not collide', async () => {
    const embedded = await openEmbedded({ dataDir: path.join(tempDir('routergpt-onestmt-'), 'pgdata'), drainMs: 1000 });
    const pool = createPool({ connectionString: embedded.url, max: 3 });
    try {
      await migrateUp({ pool, migrations: loadMigrations(path.join(REPO_ROOT, 'migrations')), lockTimeoutMs: 5000, lockWaitMs: 10_000 });
      await pool.query(FIXTURE);
      const rows = (await pool.query<LocatedShop>('SELECT slug, category, latitude, longitude FROM shops')).rows;
      // Two pools on the same backend: with named statements the second would fail "already exists".
      const other = createPool({ connectionString: embedded.url, max: 3 });
      try {
        // Without the density grid, and with it (the first ring through routergpt_search_ring,
        // migration 017, whose cached generic plan lives in the one shared backend).
        const grid = await loadDensityGrid(pool);
        for (const density of [undefined, grid]) {
          const all = await Promise.all([...SEARCHES, ...SEARCHES].map((s, i) => searchShops(i % 2 ? other : pool, s, density)));
          for (const [i, got] of all.entries()) {
            const s = [...SEARCHES, ...SEARCHES][i]!;
            expect(got.map((h) => h.slug)).toEqual(searchOracle(rows, s.latitude, s.longitude, s.radiusMiles, s.category, s.limit));
          }
        }
      } finally {
        await other.end();
      }
      const { rows: prepared } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'routergpt_search_%'");
      expect(prepared[0]!.n).toBe(0);
    } finally {
      await pool.end();
      await embedded.close();
    }
  }, 60_000);
});
