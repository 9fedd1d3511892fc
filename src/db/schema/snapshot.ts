/**
 * `migrations/routergpt.schema.json`: the normalised schema (read-schema.ts) that the migrations
 * produce, committed beside them and compared with live databases by `db.schema-drift`.
 *
 * It is written by `routergpt migrate hash --schema-from URL`, which builds the schema in a
 * scratch database on a throwaway server (test harness, CI, a developer's PostgreSQL) — never
 * by replaying migrations at deploy time, never on a production server. Format:
 *
 *     { "format": "routergpt.schema/v1",
 *       "sum": "h1:…",          // routergpt.sum's whole-set hash when it was written: stale if it differs
 *       "postgres": "15",       // the major version it was read on
 *       "version": "009",       // the last migration
 *       "objects": { key: definition, … },          // the schema after every migration
 *       "history": { "001": { "added": {…}, "removed": […] }, … } }
 *
 * `history` holds, per migration, what it added or changed and what it removed, read after
 * applying each one in turn: the schema after any applied version is rebuilt from it, so the
 * pre-deployment gate can check a database that is still behind (at 005 before 006–009 run).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from '../pg-driver.js';
import { ConfigError, OperationError } from '../../errors.js';
import { maskUrl } from '../../config/mask.js';
import type { MigrationFile } from '../migrator/files.js';
import { migrateUp } from '../migrator/migrator.js';
import { computeSum } from '../migrator/sum.js';
import { createPool } from '../pool.js';
import { readNormalisedSchema, serverMajor, sortSchema, type NormalisedSchema, type ObjectDefinition } from './read-schema.js';

export const SNAPSHOT_FILE = 'routergpt.schema.json';
export const SNAPSHOT_FORMAT = 'routergpt.schema/v1';

export interface SchemaDelta {
  /** Objects the migration created or changed, with their definition after it. */
  added: NormalisedSchema;
  /** Keys of the objects it dropped. */
  removed: string[];
}

export interface SchemaSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  sum: string;
  postgres: string;
  version: string;
  objects: NormalisedSchema;
  history: Record<string, SchemaDelta>;
}

/** The command that rewrites it, for hints. */
export const REGENERATE_COMMAND = 'routergpt migrate hash --schema-from "$TEST_DATABASE_URL"';
export const REGENERATE_HINT = `Regenerate it from a throwaway PostgreSQL server: \`${REGENERATE_COMMAND}\` (or \`npm run migrations:hash\`), and commit migrations/${SNAPSHOT_FILE}.`;

const sameDef = (a: ObjectDefinition, b: ObjectDefinition) => JSON.stringify(a) === JSON.stringify(b);

export function deltaBetween(before: NormalisedSchema, after: NormalisedSchema): SchemaDelta {
  const added: NormalisedSchema = {};
  for (const [key, def] of Object.entries(after)) if (!before[key] || !sameDef(before[key]!, def)) added[key] = def;
  return { added, removed: Object.keys(before).filter((k) => !after[k]).sort() };
}

/** The schema after the given applied versions (in order), rebuilt from the history. */
export function schemaAt(snapshot: SchemaSnapshot, versions: readonly string[]): NormalisedSchema {
  const schema: NormalisedSchema = {};
  for (const version of [...versions].sort()) {
    const delta = snapshot.history[version];
    if (!delta) continue;
    for (const key of delta.removed) delete schema[key];
    Object.assign(schema, delta.added);
  }
  return sortSchema(schema);
}

/** Deterministic text: two-space JSON, keys as built (sorted), a final newline. */
export function formatSnapshot(snapshot: SchemaSnapshot): string {
  return `${JSON.stringify(snapshot, null, 2)}\n`;
}

function snapshotProblems(value: unknown): string[] {
  const s = value as Partial<SchemaSnapshot> | null;
  if (!s || typeof s !== 'object') return ['it is not a JSON object'];
  const problems: string[] = [];
  if (s.format !== SNAPSHOT_FORMAT) problems.push(`"format" is ${JSON.stringify(s.format)}, expected "${SNAPSHOT_FORMAT}"`);
  if (typeof s.sum !== 'string') problems.push('"sum" is missing');
  if (typeof s.version !== 'string') problems.push('"version" is missing');
  if (!s.objects || typeof s.objects !== 'object') problems.push('"objects" is missing');
  if (!s.history || typeof s.history !== 'object') problems.push('"history" is missing');
  if (problems.length === 0 && JSON.stringify(schemaAt(s as SchemaSnapshot, Object.keys(s.history!))) !== JSON.stringify(sortSchema(s.objects!))) {
    problems.push('"history" does not add up to "objects" (was it edited by hand?)');
  }
  return problems;
}

/** The committed snapshot, or undefined when the folder has none; a malformed one is a ConfigError. */
export function readSnapshot(dir: string): SchemaSnapshot | undefined {
  const file = path.join(dir, SNAPSHOT_FILE);
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}.`, REGENERATE_HINT);
  }
  const problems = snapshotProblems(parsed);
  if (problems.length > 0) throw new ConfigError(`${file} is malformed: ${problems.join('; ')}.`, REGENERATE_HINT);
  return parsed as SchemaSnapshot;
}

/** Why the snapshot does not describe the folder's migrations (undefined: it does). */
export function staleSnapshotReason(dir: string, snapshot: SchemaSnapshot): string | undefined {
  const total = computeSum(dir).total;
  if (snapshot.sum === total) return undefined;
  return `migrations/${SNAPSHOT_FILE} was written for another set of migration files (its sum ${snapshot.sum}, the files' ${total})`;
}

export interface BuildSnapshotOptions {
  /** A throwaway server: a scratch database is created on it, migrated, read and dropped. */
  serverUrl: string;
  migrations: MigrationFile[];
  migrationsDir: string;
  /** Progress for stderr. */
  onProgress?: (line: string) => void;
}

/**
 * Apply every migration, one at a time, to a scratch database on `serverUrl`, reading the
 * normalised schema after each; drop the scratch database (also on failure).
 */
export async function buildSnapshot(options: BuildSnapshotOptions): Promise<SchemaSnapshot> {
  const { serverUrl, migrations } = options;
  const scratch = `routergpt_schema_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl, application_name: 'routergpt migrate hash' });
  try {
    await admin.connect();
  } catch (error) {
    throw new ConfigError(`Cannot connect to the --schema-from server ${maskUrl(serverUrl)}: ${(error as Error).message}.`, 'Give the URL of a throwaway PostgreSQL server (TEST_DATABASE_URL); a scratch database is created there and dropped.');
  }
  try {
    const major = await serverMajor(admin);
    await admin.query(`CREATE DATABASE "${scratch}"`);
    const url = new URL(serverUrl);
    url.pathname = `/${scratch}`;
    const pool = createPool({ connectionString: url.toString(), max: 2, applicationName: 'routergpt migrate hash' });
    try {
      const history: Record<string, SchemaDelta> = {};
      let before: NormalisedSchema = {};
      for (const m of migrations) {
        try {
          await migrateUp({ pool, migrations, lockTimeoutMs: 60_000, lockWaitMs: 10_000, appliedBy: 'routergpt migrate hash' }, { to: m.version });
        } catch (error) {
          throw new OperationError(`Building the schema snapshot failed at ${m.version}_${m.name}: ${(error as Error).message}`, 'Fix the migration; the scratch database was dropped.', { cause: error });
        }
        const after = await readNormalisedSchema(pool);
        history[m.version] = deltaBetween(before, after);
        options.onProgress?.(`  ${m.version}_${m.name}: +${Object.keys(history[m.version]!.added).length} −${history[m.version]!.removed.length} object(s)`);
        before = after;
      }
      return {
        format: SNAPSHOT_FORMAT,
        sum: computeSum(options.migrationsDir).total,
        postgres: String(major),
        version: migrations.at(-1)?.version ?? '000',
        objects: before,
        history,
      };
    } finally {
      await pool.end().catch(() => {});
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`).catch(() => {});
    await admin.end().catch(() => {});
  }
}
