import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbedded, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { premigratedTemplate } from '../../src/db/embedded-premigrated.js';
import { seedFromTemplate, templateDirFor, type TemplateVariant } from '../../src/db/embedded-template.js';
import { loadMigrations } from '../../src/db/migrator/files.js';
import { computeStatus, migrateUp, readApplied, type MigrateResult } from '../../src/db/migrator/migrator.js';
import { TEMPLATE_APPLIED_BY } from '../../src/db/migrator/template-rows.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { detectDrift } from '../../src/db/schema/drift.js';
import { readNormalisedSchema } from '../../src/db/schema/read-schema.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';

/**
 * Issue 16: a fresh embedded `migrate up` copies a cached cluster with the current migration set
 * already applied (src/db/embedded-premigrated.ts) instead of running every file on the
 * WebAssembly backend — and the state it leaves is the one applying the files leaves: the same
 * history (this run's time and name on every row), schema and data, with the values a migration
 * draws per database drawn again.
 */
const MIGRATIONS_DIR = path.join(REPO_ROOT, 'migrations');
const migrations = loadMigrations(MIGRATIONS_DIR);

interface State {
  db: EmbeddedDatabase;
  pool: Pool;
  result: MigrateResult;
  startedAt: Date;
}

async function migratedState(dataDir: string, cache: string, variant?: TemplateVariant): Promise<State> {
  const startedAt = new Date(Date.now() - 1000); // the database's clock, seen from here
  const db = await openEmbedded({ dataDir, drainMs: 0, templateCache: cache, ...(variant ? { templateVariant: variant } : {}) });
  const pool = createPool({ connectionString: db.url, max: 2 });
  const result = await migrateUp({ pool, migrations, lockTimeoutMs: 5000, lockWaitMs: 10_000, appliedBy: 'alice@example.test' });
  return { db, pool, result, startedAt };
}

async function close(state: State | undefined): Promise<void> {
  await state?.pool.end().catch(() => {});
  await state?.db.close();
}

/** Every table in our schemas that holds rows, with those rows (the per-database columns left out). */
async function tableContents(pool: Pool): Promise<Record<string, unknown[]>> {
  const perDatabase = new Set(['applied_at', 'execution_ms', 'key', 'created_at', 'updated_at']);
  const { rows: tables } = await pool.query<{ name: string }>(
    "SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname IN ('public', 'routergpt') ORDER BY 1",
  );
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables) {
    const { rows } = await pool.query<Record<string, unknown>>(`SELECT * FROM ${name} ORDER BY 1`);
    if (rows.length > 0) out[name] = rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !perDatabase.has(k))));
  }
  return out;
}

const syntheticKey = async (pool: Pool) => (await pool.query<{ key: string; created_at: Date }>('SELECT key, created_at FROM routergpt.synthetic_key')).rows[0]!;

describe('the pre-migrated template: a fresh migrate up copies it, indistinguishably', () => {
  const root = tempDir('routergpt-premigrated-');
  const cache = path.join(root, 'cache');
  const variant = premigratedTemplate(migrations, { lockTimeoutMs: 5000 });
  const template = templateDirFor(cache, undefined, variant.id);
  let real: State | undefined;
  let copy: State | undefined;

  beforeAll(async () => {
    real = await migratedState(path.join(root, 'real'), cache); // applies every file
    copy = await migratedState(path.join(root, 'copy'), cache, variant); // first use: makes the template, then copies it
  }, 240_000);
  afterAll(async () => {
    await close(real);
    await close(copy);
  });

  it('reports every migration applied, as a run of the files does; the history says this run applied them, now', async () => {
    expect(existsSync(path.join(template, 'routergpt-template.json'))).toBe(true);
    expect(copy!.result.ran.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    expect(copy!.result.ran.map((r) => r.version)).toEqual(real!.result.ran.map((r) => r.version));
    const rows = await readApplied(copy!.pool);
    expect(rows.map((r) => [r.version, r.name, r.checksum])).toEqual(migrations.map((m) => [m.version, m.name, m.checksum]));
    for (const row of rows) {
      expect(row.applied_by).toBe('alice@example.test');
      expect(row.applied_at.getTime()).toBeGreaterThanOrEqual(copy!.startedAt.getTime());
    }
    // migrate status sees the same thing on both (but for the times).
    const shape = (s: ReturnType<typeof computeStatus>) => JSON.stringify(s, (k, v: unknown) => (k === 'appliedAt' ? undefined : v));
    expect(shape(computeStatus(migrations, rows))).toBe(shape(computeStatus(migrations, await readApplied(real!.pool))));
    // A migrate up afterwards has nothing to do.
    const again = await migrateUp({ pool: copy!.pool, migrations, lockTimeoutMs: 5000, lockWaitMs: 10_000, appliedBy: 'bob' });
    expect(again.ran).toEqual([]);
  });

  it('has the schema the files make (db.schema-drift compares clean) and the same data', async () => {
    expect(await readNormalisedSchema(copy!.pool)).toEqual(await readNormalisedSchema(real!.pool));
    const drift = await detectDrift(copy!.pool, MIGRATIONS_DIR);
    expect(drift.outcome).toBe('compared');
    if (drift.outcome === 'compared') expect(drift.differences).toEqual([]);
    const contents = await tableContents(copy!.pool);
    expect(contents).toEqual(await tableContents(real!.pool));
    // A migration that leaves rows in another table may draw values per database (a time, a
    // random key): look at it, and redraw them in src/db/migrator/template-rows.ts, before adding it here.
    expect(Object.keys(contents)).toEqual(['public.feature_flags', 'public.router_analytics_rollup_state', 'public.routergpt_schema_migrations', 'routergpt.synthetic_key']);
  });

  it('draws its own synthetic-traffic key, and a second copy draws another', async () => {
    const key = await syntheticKey(copy!.pool);
    expect(key.key).not.toBe((await syntheticKey(real!.pool)).key);
    expect(key.created_at.getTime()).toBeGreaterThanOrEqual(copy!.startedAt.getTime());
    const flag = (await copy!.pool.query<{ updated_at: Date }>("SELECT updated_at FROM feature_flags WHERE key = 'router_gpt'")).rows[0]!;
    expect(flag.updated_at.getTime()).toBeGreaterThanOrEqual(copy!.startedAt.getTime());
    const second = await migratedState(path.join(root, 'second'), cache, variant);
    try {
      expect(second.result.ran).toHaveLength(migrations.length);
      expect((await syntheticKey(second.pool)).key).not.toBe(key.key);
    } finally {
      await close(second);
    }
  }, 60_000);

  it('the template itself records the migrations as its own, to be claimed; a corrupt one is made again, never used', async () => {
    const manifest = JSON.parse(readFileSync(path.join(template, 'routergpt-template.json'), 'utf8')) as { variant: string };
    expect(manifest.variant).toBe(variant.id);
    const file = path.join(template, 'pgdata', 'PG_VERSION');
    writeFileSync(file, '9\n');
    const result = await seedFromTemplate(path.join(root, 'after-corruption', 'pgdata'), cache, variant);
    expect(result).toEqual({ seeded: 'rebuilt', templateDir: template, variant: variant.id });
    expect(readFileSync(file, 'utf8')).not.toBe('9\n');
    // Opened as it is, the copy shows the template's own rows, before any migrator claims them.
    const db = await openEmbedded({ dataDir: path.join(root, 'after-corruption'), drainMs: 0, templateCache: cache });
    try {
      const { rows } = await db.pglite!.query<{ applied_by: string }>('SELECT DISTINCT applied_by FROM routergpt_schema_migrations');
      expect(rows).toEqual([{ applied_by: TEMPLATE_APPLIED_BY }]);
    } finally {
      await db.close();
    }
  }, 240_000);

  it('another migration set gets its own template, and the older one is removed; a variant that cannot be made falls back to the plain template', async () => {
    const fewer = premigratedTemplate(migrations.slice(0, 2), { lockTimeoutMs: 5000 });
    expect(fewer.id).not.toBe(variant.id);
    expect((await seedFromTemplate(path.join(root, 'fewer', 'pgdata'), cache, fewer))?.seeded).toBe('created');
    const names = readdirSync(path.join(cache, 'pglite'));
    expect(names).toContain(path.basename(templateDirFor(cache, undefined, fewer.id)));
    expect(names).not.toContain(path.basename(template));
    const broken: TemplateVariant = { id: 'broken', build: () => Promise.reject(new Error('no')) };
    expect(await seedFromTemplate(path.join(root, 'broken', 'pgdata'), cache, broken)).toEqual({ seeded: 'copied', templateDir: templateDirFor(cache) });
  }, 240_000);
});
