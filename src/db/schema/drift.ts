/**
 * Schema drift: the live schema compared with what the applied migrations produce, according to
 * the committed snapshot (snapshot.ts). Read-only; the caller (db.schema-drift) renders it.
 *
 * The expected schema is rebuilt from the snapshot's per-migration history for exactly the
 * versions the database records, so a database that is behind (the pre-deployment gate runs
 * before db.migrate) is compared with the schema of *its* version, not with the newest.
 */
import { readApplied } from '../migrator/migrator.js';
import type { Pool } from '../pool.js';
import { diffSchemas, type SchemaDifference } from './diff-schema.js';
import { readNormalisedSchema, serverMajor } from './read-schema.js';
import { readSnapshot, schemaAt, staleSnapshotReason, type SchemaSnapshot } from './snapshot.js';

export type DriftReport =
  | { outcome: 'no-snapshot' }
  | { outcome: 'stale'; reason: string }
  /** Tables exist but no migration is recorded: nothing says which version to compare with. */
  | { outcome: 'unmanaged'; objects: number }
  /** The database records versions the snapshot does not know (a newer release migrated it). */
  | { outcome: 'ahead'; current: string; unknown: string[]; snapshotVersion: string }
  | {
      outcome: 'compared';
      /** The highest applied version (null: none, an empty database). */
      current: string | null;
      differences: SchemaDifference[];
      objects: number;
      /** False when the snapshot was read on another major version: view queries are then compared by their columns only. */
      viewQueriesCompared: boolean;
      postgres: { snapshot: string; database: number };
    };

export async function detectDrift(pool: Pool, migrationsDir: string, loaded?: SchemaSnapshot): Promise<DriftReport> {
  const snapshot = loaded ?? readSnapshot(migrationsDir);
  if (!snapshot) return { outcome: 'no-snapshot' };
  const reason = staleSnapshotReason(migrationsDir, snapshot);
  if (reason) return { outcome: 'stale', reason };
  const applied = (await readApplied(pool)).map((r) => r.version);
  const [live, major] = await Promise.all([readNormalisedSchema(pool), serverMajor(pool)]);
  if (applied.length === 0 && Object.keys(live).length > 0) return { outcome: 'unmanaged', objects: Object.keys(live).length };
  const unknown = applied.filter((v) => !snapshot.history[v]);
  if (unknown.length > 0) return { outcome: 'ahead', current: applied.at(-1)!, unknown, snapshotVersion: snapshot.version };
  const sameMajor = String(major) === snapshot.postgres;
  const differences = diffSchemas(schemaAt(snapshot, applied), live, sameMajor ? {} : { ignore: { view: ['definition'] } });
  return { outcome: 'compared', current: applied.at(-1) ?? null, differences, objects: Object.keys(live).length, viewQueriesCompared: sameMajor, postgres: { snapshot: snapshot.postgres, database: major } };
}
