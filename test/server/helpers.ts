import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/resolve.js';
import type { EnvironmentConfig } from '../../src/config/types.js';
import { loadMigrations } from '../../src/db/migrator/files.js';
import { migrateDown, migrateUp, type MigrateResult } from '../../src/db/migrator/migrator.js';
import { type Pool } from '../../src/db/pool.js';
import { haversineMiles } from '../../src/db/search/geo.js';
import { buildApp, type ServerDeps } from '../../src/server/app.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';
import { createMigratedDatabase } from '../helpers/migrated-db.js';
import { type TestDatabase } from '../helpers/db.js';

export interface ServerDb {
  db: TestDatabase;
  pool: Pool;
  close(): Promise<void>;
}

/** A fresh, migrated database on the test server, with a pool. */
export async function createServerDb(prefix = 'srv'): Promise<ServerDb> {
  const migrated = await createMigratedDatabase({ prefix });
  return { db: migrated, pool: migrated.pool, close: migrated.close };
}

/** The repository's migrations: what a server built with testConfig ships (the built-in migrations_dir). */
export const REPO_MIGRATIONS = loadMigrations(path.join(REPO_ROOT, 'migrations'));
/** The newest of them: the version a fully migrated database is at, and the one /health expects. */
export const NEWEST_MIGRATION = REPO_MIGRATIONS.at(-1)!.version;

/** Migrate a database up or down to `to` ('000': everything undone) with the repository's migrations. */
export async function migrateTo(pool: Pool, to: string): Promise<MigrateResult> {
  const deps = { pool, migrations: REPO_MIGRATIONS, lockTimeoutMs: 5000, lockWaitMs: 10_000 };
  const current = (await pool.query<{ version: string }>('SELECT max(version) AS version FROM routergpt_schema_migrations').catch(() => ({ rows: [] }))).rows[0]?.version ?? '000';
  return to < current ? migrateDown(deps, { to }) : migrateUp(deps, { to });
}

/** A real resolved config for `prod` pointing at the test database, rate limits raised out of the way. */
export function testConfig(databaseUrl: string, env: Record<string, string> = {}): EnvironmentConfig {
  return loadConfig({ flags: { env: 'prod' }, cwd: tempDir(), env: { DATABASE_URL: databaseUrl, RATE_LIMIT_SEARCH_PER_MIN: '100000', RATE_LIMIT_DELEGATE_PER_MIN: '100000', ...env } }).config;
}

/** Collects pino's JSON lines. */
export class LogCapture extends Writable {
  lines: Array<Record<string, unknown> & { msg?: string }> = [];
  raw = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    const text = chunk.toString();
    this.raw += text;
    for (const line of text.split('\n').filter(Boolean)) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    cb();
  }
  messages(): string[] {
    return this.lines.map((l) => String(l.msg ?? ''));
  }
}

export async function buildTestApp(deps: Partial<ServerDeps> & Pick<ServerDeps, 'pool' | 'config'>): Promise<FastifyInstance> {
  return buildApp({ logger: { level: 'silent' }, rateLimit: { fallbackPerMinute: 100_000 }, ...deps });
}

/** Listen on a real loopback socket; returns the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies are checked field by field in the tests
export type JsonBody = any;

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: JsonBody; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

export interface TestShop {
  id: number;
  slug: string;
  services: { haircut: number; beard: number };
}

/**
 * One shop open every day 09:00–18:00 (America/Phoenix, no DST) with two services:
 * a 30-minute Classic Haircut and a 15-minute Beard Trim.
 */
export async function insertTestShop(pool: Pool, slug = 'test-barber', lat = 33.4255, lon = -111.94): Promise<TestShop> {
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO shops (slug, name, category, city, state, timezone, latitude, longitude) VALUES ($1, 'Test Barber', 'barbershop', 'Tempe', 'AZ', 'America/Phoenix', $2, $3) RETURNING id::int AS id`,
    [slug, lat, lon],
  );
  const id = rows[0]!.id;
  const services = await pool.query<{ id: number; name: string }>(
    `INSERT INTO services (shop_id, name, duration_minutes, price_cents) VALUES ($1, 'Classic Haircut', 30, 3000), ($1, 'Beard Trim', 15, 1500) RETURNING id::int AS id, name`,
    [id],
  );
  await pool.query(`INSERT INTO opening_hours (shop_id, weekday, opens, closes) SELECT $1, d, '09:00', '18:00' FROM generate_series(0, 6) d`, [id]);
  return { id, slug, services: { haircut: services.rows.find((s) => s.name === 'Classic Haircut')!.id, beard: services.rows.find((s) => s.name === 'Beard Trim')!.id } };
}

/** Monday 2030-03-04 10:00 in Phoenix (UTC-7). */
export const FIXED_NOW = new Date('2030-03-04T17:00:00Z');

/** A located shop, as the location-search tests' brute-force oracle reads it. */
export interface LocatedShop {
  slug: string;
  category: string;
  latitude: number;
  longitude: number;
}

/** The slugs a location search must answer: every row's JS haversine, within the radius, nearest first, ties by slug. */
export function searchOracle(rows: LocatedShop[], lat: number, lon: number, radius: number, category: string | undefined, limit: number): string[] {
  return rows
    .filter((r) => category === undefined || r.category === category)
    .map((r) => ({ slug: r.slug, d: haversineMiles(lat, lon, r.latitude, r.longitude) }))
    .filter((r) => r.d <= radius)
    .sort((a, b) => a.d - b.d || (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0))
    .slice(0, limit)
    .map((r) => r.slug);
}
