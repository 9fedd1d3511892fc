/**
 * `migrate repair --version NNN`: a database applied an earlier edit of migration NNN (its
 * recorded checksum differs from the file's), and the committed file is the one to keep. Only
 * after checking that the objects the file creates exist in the live schema (baseline.ts's
 * object checks: tables, columns with a compatible type, indexes, views, functions — and, with
 * the committed schema snapshot, every object the migration made compared by its normalised
 * definition) is the recorded checksum set to the file's. The live schema is never changed.
 *
 * Like Flyway's and dbmate's repair it is idempotent: a migration whose checksum already matches
 * has nothing to repair (exit 0). A version that is not a file, or not applied, is a usage error.
 */
import { ConfigError, UsageError } from '../../errors.js';
import type { Pool, Queryable } from '../pool.js';
import { diffSchemas } from '../schema/diff-schema.js';
import { readNormalisedSchema, type NormalisedSchema } from '../schema/read-schema.js';
import { schemaAt, type SchemaSnapshot } from '../schema/snapshot.js';
import { schemaProblems } from './baseline.js';
import { readCatalog } from './catalog.js';
import { expectedAfter, parseMigrations } from './migration-objects.js';
import type { MigrationFile } from './files.js';
import { MIGRATIONS_TABLE, readApplied, withMigrationLock, type MigratorDeps } from './migrator.js';

export interface RepairDeps extends Pick<MigratorDeps, 'pool' | 'migrations' | 'lockWaitMs' | 'onEvent'> {
  /**
   * The committed schema snapshot, when it is current: then the file's objects are also compared
   * by definition (an index on other columns, a column of another type or default), not only by name.
   */
  snapshot?: SchemaSnapshot;
}

export interface RepairResult {
  version: string;
  name: string;
  /** `repaired` (on a dry run: would be), or nothing to do. */
  outcome: 'repaired' | 'nothing-to-repair';
  /** The checksum the database recorded before, and the file's. */
  recordedChecksum: string;
  fileChecksum: string;
  /** How many of the file's objects were checked in the live schema. */
  objectsChecked: number;
  dryRun: boolean;
  warnings: string[];
}

export const repairCommand = (version: string, env?: string) => `routergpt migrate repair --version ${version}${env ? ` --env ${env}` : ''}`;

/** --version must name a migration file; checked before anything connects. */
export function verifyRepairTarget(migrations: MigrationFile[], version: string): MigrationFile {
  const m = migrations.find((x) => x.version === version);
  if (m) return m;
  throw new UsageError(`There is no migration ${version}: --version names an applied migration whose recorded checksum differs from its file.`, `Use one of ${migrations.map((x) => x.version).join(', ')} (\`routergpt migrate status\` marks edited ones "EDITED since applied").`);
}

/** Read-only: what a repair would do, after checking the objects; throws what it refuses. */
/** The snapshot's objects of `version` that still stand at the applied versions, compared with the live ones. */
async function snapshotProblems(pool: Pool, snapshot: SchemaSnapshot, applied: string[], version: string): Promise<{ problems: string[]; checked: number }> {
  const expected = schemaAt(snapshot, applied);
  const made = Object.keys(snapshot.history[version]?.added ?? {}).filter((key) => JSON.stringify(expected[key]) === JSON.stringify(snapshot.history[version]!.added[key]));
  if (made.length === 0) return { problems: [], checked: 0 };
  const live = await readNormalisedSchema(pool);
  const pick = (schema: NormalisedSchema) => Object.fromEntries(made.filter((k) => schema[k]).map((k) => [k, schema[k]!]));
  return { problems: diffSchemas(pick(expected), pick(live)).map((d) => d.message), checked: made.length };
}

async function prepareRepair(db: Queryable, deps: RepairDeps, version: string): Promise<Omit<RepairResult, 'dryRun'>> {
  const { migrations } = deps;
  const m = verifyRepairTarget(migrations, version);
  const applied = await readApplied(db);
  const row = applied.find((r) => r.version === version);
  if (!row) {
    throw new UsageError(`Migration ${version}_${m.name} is not applied on this database: there is no recorded checksum to repair. Nothing was changed.`, 'Apply it with `routergpt migrate up`; repair is for an applied migration whose file was edited since.');
  }
  const base = { version, name: m.name, recordedChecksum: row.checksum, fileChecksum: m.checksum };
  if (row.checksum === m.checksum) return { ...base, outcome: 'nothing-to-repair', objectsChecked: 0, warnings: [] };
  const parsed = parseMigrations(migrations);
  const label = `${m.version}_${m.name}`;
  // The file's objects as they should stand at the database's current version (a later migration may drop one).
  const current = applied[applied.length - 1]!.version;
  const expected = expectedAfter(parsed, current > version ? current : version);
  const mine = [...expected.present.values(), ...expected.absent.values()].filter((e) => e.by === label).length;
  const bySnapshot = deps.snapshot ? await snapshotProblems(deps.pool, deps.snapshot, applied.map((r) => r.version), version) : { problems: [], checked: 0 };
  // Both say "missing" about a missing object: keep the parser's wording once.
  const parserProblems = schemaProblems(expected, await readCatalog(db), label);
  const problems = [...parserProblems, ...bySnapshot.problems.filter((p) => !/^missing (table|column|index|view|function) /.test(p))];
  const checked = Math.max(mine, bySnapshot.checked);
  if (problems.length > 0) {
    throw new ConfigError(
      `Cannot repair ${label}: the live schema does not match the file:\n${problems.map((p) => `  - ${p}`).join('\n')}\nThe recorded checksum was not changed.`,
      `Make the schema match ${label}.sql by hand (or restore the file as it was applied, from git, and put the change in a new migration), then run \`migrate repair --version ${version}\` again.`,
      { problems },
    );
  }
  const warnings = checked === 0 ? [`${label}.sql creates no table, column, index, view or function the check can see: only its checksum is realigned`] : [];
  return { ...base, outcome: 'repaired', objectsChecked: checked, warnings };
}

/**
 * Realign the recorded checksum of `version` with its file, once its objects are checked: under
 * the migrators' advisory lock, re-checked there; the update names the old checksum, so a
 * concurrent change is not overwritten. A dry run checks and reports, takes no lock, writes nothing.
 */
export async function repairMigration(deps: RepairDeps, options: { version: string; dryRun?: boolean }): Promise<RepairResult> {
  verifyRepairTarget(deps.migrations, options.version);
  if (options.dryRun) return { ...(await prepareRepair(deps.pool, deps, options.version)), dryRun: true };
  return withMigrationLock(deps, async (client) => {
    const prepared = await prepareRepair(client, deps, options.version);
    if (prepared.outcome === 'nothing-to-repair') return { ...prepared, dryRun: false };
    const updated = await client.query(`UPDATE ${MIGRATIONS_TABLE} SET checksum = $2 WHERE version = $1 AND checksum = $3`, [prepared.version, prepared.fileChecksum, prepared.recordedChecksum]);
    return { ...prepared, outcome: (updated.rowCount ?? 0) > 0 ? 'repaired' : 'nothing-to-repair', dryRun: false };
  });
}
