/**
 * /health reports the schema the server runs against (`schema: {applied, expected, ahead}`), and
 * api.schema-matches reads it: a migrations rollback the code was not rolled back with is 503
 * schema_behind within about a second, without a restart; a database ahead of the code is fine.
 * Real PostgreSQL, the real app on loopback, the real migrator.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import apiSchemaMatches from '../../src/checks/api/schema-matches.js';
import { createSchemaStatus } from '../../src/server/schema-status.js';
import { MIGRATIONS_TABLE } from '../../src/db/migrator/migrator.js';
import { OPENAPI_TEMPLATE_PATH } from '../../src/openapi/document.js';
import { createPool } from '../../src/db/pool.js';
import { depsFor, runCheck } from '../checks/helpers.js';
import { createTestDatabase } from '../helpers/db.js';
import { buildTestApp, createServerDb, listen, migrateTo, NEWEST_MIGRATION, REPO_MIGRATIONS, testConfig, type JsonBody, type ServerDb } from './helpers.js';

/** Poll until fn() is true; fails after `deadlineMs` (a bound, not a speed assertion: the cache lives 1 s). */
async function eventually(fn: () => Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function health(base: string): Promise<{ status: number; body: JsonBody }> {
  const res = await fetch(`${base}/health`);
  return { status: res.status, body: await res.json() };
}

/** The document's Health schema (self-contained: no $refs), for the 503 bodies openapi-conformance does not provoke. */
const documentedHealth = new Ajv2020({ strict: false, validateFormats: false }).compile(
  (YAML.parse(readFileSync(OPENAPI_TEMPLATE_PATH, 'utf8')) as { components: { schemas: { Health: object } } }).components.schemas.Health,
);

const NEWEST = NEWEST_MIGRATION;
const PREVIOUS = REPO_MIGRATIONS.at(-2)!.version;
const FUTURE = String(Number(NEWEST) + 1).padStart(NEWEST.length, '0');

let sdb: ServerDb;
beforeAll(async () => {
  sdb = await createServerDb('hschema');
});
afterAll(async () => {
  await sdb?.close();
});

describe('GET /health schema', () => {
  it('migrated: applied == expected, 200, and api.schema-matches passes', async () => {
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url) });
    try {
      const base = await listen(app);
      const { status, body } = await health(base);
      expect(status).toBe(200);
      expect(body).toMatchObject({ ok: true, database: 'ok', schema: { applied: NEWEST, expected: NEWEST, ahead: false } });
      const result = await runCheck(apiSchemaMatches, depsFor(testConfig(sdb.db.url), { apiBase: base }));
      expect(result.status, result.summary).toBe('pass');
      expect(result.summary).toBe(`code and database both at migration ${NEWEST}`);
    } finally {
      await app.close();
    }
  });

  it('newest-migration-rolled-back: 503 schema_behind naming both versions, api.schema-matches fails; migrate up heals it without a restart', async () => {
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url) });
    try {
      const base = await listen(app);
      expect((await health(base)).status).toBe(200);
      await migrateTo(sdb.pool, PREVIOUS);
      await eventually(async () => (await health(base)).status === 503);
      const { body } = await health(base);
      expect(body).toMatchObject({ ok: false, database: 'ok', schema: { applied: PREVIOUS, expected: NEWEST, ahead: false } });
      expect(body.reason).toBe(`schema_behind: the running code needs migration ${NEWEST}, the database is at ${PREVIOUS}`);
      expect(documentedHealth(body), JSON.stringify(documentedHealth.errors)).toBe(true);

      const result = await runCheck(apiSchemaMatches, depsFor(testConfig(sdb.db.url), { apiBase: base }));
      expect(result.status).toBe('fail');
      expect(result.summary).toBe(`running code needs migration ${NEWEST}, the database is at ${PREVIOUS}`);
      expect(result.hint).toContain('routergpt migrate up');
      expect(result.hint).toContain('rollback');
      expect(result.data).toMatchObject({ applied: PREVIOUS, expected: NEWEST });

      await migrateTo(sdb.pool, NEWEST);
      await eventually(async () => (await health(base)).status === 200);
    } finally {
      await app.close();
    }
  });

  it('database-ahead (a newer migration recorded than the code ships): 200 with ahead: true, api.schema-matches warns', async () => {
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url) });
    try {
      const base = await listen(app);
      await sdb.pool.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum, execution_ms, applied_by) VALUES ($1, 'from_a_newer_release', 'x', 0, 'health-schema test')`, [FUTURE]);
      await eventually(async () => (await health(base)).body.schema?.ahead === true);
      const { status, body } = await health(base);
      expect(status).toBe(200);
      expect(body).toMatchObject({ ok: true, schema: { applied: FUTURE, expected: NEWEST, ahead: true } });
      expect(documentedHealth(body), JSON.stringify(documentedHealth.errors)).toBe(true);
      const result = await runCheck(apiSchemaMatches, depsFor(testConfig(sdb.db.url), { apiBase: base }));
      expect(result.status, result.summary).toBe('warn');
      expect(result.summary).toContain(`at ${FUTURE}`);
      expect(result.summary).toContain(`up to ${NEWEST}`);
    } finally {
      await sdb.pool.query(`DELETE FROM ${MIGRATIONS_TABLE} WHERE version = $1`, [FUTURE]);
      await app.close();
    }
  });

  it('no-migrations-table (a fresh database): applied null, 503 schema_behind', async () => {
    const fresh = await createTestDatabase('hschema_fresh');
    const pool = createPool({ connectionString: fresh.url, max: 2 });
    const app = await buildTestApp({ pool, config: testConfig(fresh.url) });
    try {
      const base = await listen(app);
      const { status, body } = await health(base);
      expect(status).toBe(503);
      expect(body.schema).toEqual({ applied: null, expected: NEWEST, ahead: false });
      expect(documentedHealth(body), JSON.stringify(documentedHealth.errors)).toBe(true);
      expect(body.reason).toBe(`schema_behind: the running code needs migration ${NEWEST}, the database has no migration applied`);
    } finally {
      await app.close();
      await pool.end();
      await fresh.drop();
    }
  });
});

describe('the applied version is read at most once per TTL, a burst sharing one query', () => {
  it('counts the queries behind 50 concurrent and 50 sequential reads', async () => {
    let queries = 0;
    let clock = 0;
    const status = createSchemaStatus({
      db: { query: ((...args: Parameters<typeof sdb.pool.query>) => ((queries += 1), sdb.pool.query(...args))) as typeof sdb.pool.query },
      expected: NEWEST,
      ttlMs: 1000,
      now: () => clock,
    });
    const burst = await Promise.all(Array.from({ length: 50 }, () => status.report()));
    expect(new Set(burst.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(burst[0]).toEqual({ applied: NEWEST, expected: NEWEST, ahead: false });
    for (let i = 0; i < 50; i += 1) await status.report();
    expect(queries).toBe(1);
    clock = 999;
    await status.report();
    expect(queries).toBe(1);
    clock = 1000;
    await status.report();
    expect(queries).toBe(2);
  });
});
