/**
 * Adopting a database whose schema was built without routergpt (the migration files applied
 * with `psql -f`, nothing in the migrations table): which migrations' objects are there, and
 * `migrate baseline`, which records 001…NNN as applied without running them.
 *
 * What the files create comes from migration-objects.ts (a pragmatic parser), what the database
 * has from catalog.ts; this file compares the two and holds the command's core.
 */
import { ConfigError, OperationError, UsageError } from '../../errors.js';
import type { Queryable } from '../pool.js';
import { catalogType, canonicalType, readCatalog, type CatalogSnapshot } from './catalog.js';
import type { MigrationFile } from './files.js';
import { expectedAfter, labelOf, parseMigrations, type Expectation, type ExpectedSchema, type ParsedMigration } from './migration-objects.js';
import { computeStatus, ensureTable, readApplied, recordApplied, verifyNoEdits, withMigrationLock, type MigratorDeps } from './migrator.js';

export { canonicalType, readCatalog, type CatalogSnapshot } from './catalog.js';
export { expectedAfter, parseMigrations, parseSchemaChanges, type ExpectedSchema, type ParsedMigration, type SchemaChange, type SchemaObject } from './migration-objects.js';

// ---------------------------------------------------------------------------------------------
// Comparing

function presenceProblem({ object: o, by }: Expectation, catalog: CatalogSnapshot, expected: ExpectedSchema): string | undefined {
  switch (o.kind) {
    case 'table':
      return catalog.tables.has(o.name) ? undefined : `table ${o.name} does not exist (${by} creates it)`;
    case 'column': {
      // A missing table is reported once, not once per column.
      if (!catalog.tables.has(o.table) && expected.present.has(`table:${o.table}`)) return undefined;
      const actual = catalog.columns.get(`${o.table}.${o.name}`);
      if (!actual) return `table ${o.table} has no column ${o.name} (${by} adds it as ${o.type})`;
      const want = canonicalType(o.type);
      const have = catalogType(actual.udt);
      if (want === have || (actual.domain !== null && canonicalType(actual.domain) === want)) return undefined;
      return `column ${o.table}.${o.name} is ${have}, but ${by} makes it ${want}`;
    }
    case 'index': {
      const valid = catalog.indexes.get(o.name);
      if (valid === undefined) return `index ${o.name} does not exist (${by} creates it)`;
      return valid ? undefined : `index ${o.name} is invalid, left by an interrupted concurrent build (${by} creates it)`;
    }
    case 'view':
      return catalog.views.has(o.name) ? undefined : `view ${o.name} does not exist (${by} creates it)`;
    case 'function':
      return catalog.functions.has(o.name) ? undefined : `function ${o.name}() does not exist (${by} creates it)`;
  }
}

function absenceProblem({ object: o, by }: Expectation, catalog: CatalogSnapshot): string | undefined {
  const exists = o.kind === 'table' ? catalog.tables.has(o.name) : o.kind === 'column' ? catalog.columns.has(`${o.table}.${o.name}`) : o.kind === 'index' ? catalog.indexes.has(o.name) : o.kind === 'view' ? catalog.views.has(o.name) : catalog.functions.has(o.name);
  if (!exists) return undefined;
  return o.kind === 'column' ? `table ${o.table} still has column ${o.name}, but ${by} drops it` : `${o.kind} ${o.name} still exists, but ${by} drops it`;
}

/** Every way the database differs from what 001…NNN leave (empty: it matches); `only` keeps one file's expectations. */
export function schemaProblems(expected: ExpectedSchema, catalog: CatalogSnapshot, only?: string): string[] {
  const mine = (e: Expectation) => only === undefined || e.by === only;
  return [
    ...[...expected.present.values()].filter(mine).map((e) => presenceProblem(e, catalog, expected)),
    ...[...expected.absent.values()].filter(mine).map((e) => absenceProblem(e, catalog)),
  ].filter((p): p is string => p !== undefined);
}

/** What is wrong with one migration's own objects (not the earlier ones'), in the schema as it stands after it. */
const ownProblems = (parsed: ParsedMigration[], p: ParsedMigration, catalog: CatalogSnapshot) => schemaProblems(expectedAfter(parsed, p.migration.version), catalog, labelOf(p.migration));

/**
 * The highest migration whose own objects all exist. Not "everything up to it": when 004 lost
 * a column but 005's table is there, 005 is the answer, and `baseline --to 005` then names the
 * missing column — where "003" would send `migrate up` into "relation bookings already exists".
 * A migration the parser sees nothing in (rows only) leaves no trace to find: never the answer.
 */
export function inferApplied(parsed: ParsedMigration[], catalog: CatalogSnapshot): { inferred: string | undefined; nextProblems: string[] } {
  let inferred: string | undefined;
  for (const p of parsed) if (p.changes.length > 0 && ownProblems(parsed, p, catalog).length === 0) inferred = p.migration.version;
  const next = parsed.find((p) => p.changes.length > 0 && (inferred === undefined || p.migration.version > inferred));
  return { inferred, nextProblems: next && inferred === undefined ? ownProblems(parsed, next, catalog) : [] };
}

// ---------------------------------------------------------------------------------------------
// Detection (`migrate status`, deploy's db.migrate) and its messages

export interface UnmanagedSchema {
  /** Tables the migrations create that exist, in migration order. */
  tables: string[];
  /** The highest migration whose objects all exist; undefined: not even 001's. */
  inferred: string | undefined;
  /** Why the migration after `inferred` does not look applied. */
  nextProblems: string[];
}

/**
 * A schema routergpt does not manage yet: tables of the migrations exist, but the migrations
 * table is missing or empty — applying 001 would fail on "relation shops already exists".
 */
export async function detectUnmanaged(db: Queryable, migrations: MigrationFile[]): Promise<UnmanagedSchema | undefined> {
  if ((await readApplied(db)).length > 0) return undefined;
  const catalog = await readCatalog(db);
  const parsed = parseMigrations(migrations);
  const created = parsed.flatMap((p) => p.changes.filter((c) => c.op === 'create' && c.object.kind === 'table').map((c) => c.object.name));
  const tables = [...new Set(created)].filter((t) => catalog.tables.has(t));
  if (tables.length === 0) return undefined;
  return { tables, ...inferApplied(parsed, catalog) };
}

export const baselineCommand = (version: string, env?: string) => `routergpt migrate baseline --to ${version}${env ? ` --env ${env}` : ''}`;

function tablesExist(tables: string[]): string {
  const list = tables.length <= 4 ? tables.join(', ') : `${tables.slice(0, 3).join(', ')}, … (${tables.length} tables)`;
  return tables.length === 1 ? `table ${list} exists` : `tables ${list} exist`;
}

/** The next action for an unmanaged schema. */
export function unmanagedAdvice(u: UnmanagedSchema, env?: string): string {
  if (u.inferred) return `run \`${baselineCommand(u.inferred, env)}\``;
  return `repair the schema from migrations/ (${u.nextProblems.slice(0, 3).join('; ')}), then run \`${baselineCommand('NNN', env)}\``;
}

/** "tables shops, … exist but no migration is recorded; it looks like 005 is applied" */
export function unmanagedSummary(u: UnmanagedSchema): string {
  return `${tablesExist(u.tables)} but no migration is recorded${u.inferred ? `; it looks like ${u.inferred} is applied` : ", and not even 001's objects are all there"}`;
}

/** "unmanaged schema: tables shops, … exist but no migration is recorded; it looks like 005 is applied → run `…`" */
export function describeUnmanaged(u: UnmanagedSchema, env?: string): string {
  return `unmanaged schema: ${unmanagedSummary(u)} → ${unmanagedAdvice(u, env)}`;
}

/** What applying migrations refuses with on an unmanaged schema, instead of failing on "relation … already exists". */
export function unmanagedError(u: UnmanagedSchema, env?: string): OperationError {
  return new OperationError(
    `Unmanaged schema: ${unmanagedSummary(u)}. Applying 001 would fail on the existing tables; nothing was changed.`,
    `${unmanagedAdvice(u, env).replace(/^./, (c) => c.toUpperCase())}, then try again.`,
  );
}

/**
 * migrateUp's `beforeApply`: refuses an unmanaged schema under the migration lock. Checked
 * before the lock, a concurrent `migrate up` that committed 001 between our two reads would
 * look like an unmanaged schema.
 */
export function refuseUnmanaged(migrations: MigrationFile[], env?: string): NonNullable<MigratorDeps['beforeApply']> {
  return async (client, status) => {
    if (status.applied.length > 0) return;
    const unmanaged = await detectUnmanaged(client, migrations);
    if (unmanaged) throw unmanagedError(unmanaged, env);
  };
}

// ---------------------------------------------------------------------------------------------
// `migrate baseline`

export type BaselineDeps = Pick<MigratorDeps, 'pool' | 'migrations' | 'lockWaitMs' | 'onEvent' | 'appliedBy'>;

export interface BaselineResult {
  to: string;
  /** The highest version recorded before (null: none). */
  before: string | null;
  /** Recorded by this call (on a dry run: what would be). Empty: nothing to do. */
  recorded: Array<{ version: string; name: string }>;
  dryRun: boolean;
  /** Worth knowing, but no reason to stop (later migrations' objects exist too). */
  warnings: string[];
}

/** --to must name a migration file; checked before anything connects. */
export function verifyBaselineTarget(migrations: MigrationFile[], to: string): void {
  if (migrations.some((m) => m.version === to)) return;
  const versions = migrations.map((m) => m.version);
  throw new UsageError(`There is no migration ${to}: --to names the last migration the database already has.`, `Use one of ${versions.join(', ')} (\`routergpt migrate status\` lists them).`);
}

/** Read-only: what a baseline to `to` would record, after checking the objects; throws what it refuses. */
async function prepareBaseline(db: Queryable, migrations: MigrationFile[], to: string): Promise<Omit<BaselineResult, 'dryRun'>> {
  const status = computeStatus(migrations, await readApplied(db));
  verifyNoEdits(status);
  const before = status.current;
  if (before !== null && before >= to) return { to, before, recorded: [], warnings: [] };
  const gaps = before === null ? [] : status.pending.filter((p) => p.version < before);
  if (gaps.length > 0) {
    throw new OperationError(`The migrations table records ${before} but not ${gaps.map((g) => g.version).join(', ')}: with a gap in the history a baseline cannot tell what is applied. Nothing was recorded.`, 'Apply the missing ones with `routergpt migrate up`, then run the baseline again.');
  }
  const parsed = parseMigrations(migrations);
  const catalog = await readCatalog(db);
  const problems = schemaProblems(expectedAfter(parsed, to), catalog);
  if (problems.length > 0) {
    throw new ConfigError(
      `Cannot baseline to ${to}: the database lacks what migrations up to ${to} create:\n${problems.map((p) => `  - ${p}`).join('\n')}\nNothing was recorded.`,
      'Add or fix what is listed by hand (the SQL is in the migration files named above), then run the baseline again.',
      { problems },
    );
  }
  const { inferred } = inferApplied(parsed, catalog);
  const warnings = inferred !== undefined && inferred > to ? [`the objects of the migrations after ${to} up to ${inferred} exist too: \`migrate up\` would fail creating them again; --to ${inferred} looks right`] : [];
  const recorded = migrations.filter((m) => m.version <= to && status.pending.some((p) => p.version === m.version)).map((m) => ({ version: m.version, name: m.name }));
  return { to, before, recorded, warnings };
}

/**
 * Record 001…`to` as applied without running them, once their objects are checked: under the
 * migrators' advisory lock, re-checked there, in one transaction (all rows or none). Already at
 * `to` or beyond: nothing to do. A dry run checks and reports, takes no lock and writes nothing.
 */
export async function baselineMigrations(deps: BaselineDeps, options: { to: string; dryRun?: boolean }): Promise<BaselineResult> {
  const { to } = options;
  verifyBaselineTarget(deps.migrations, to);
  if (options.dryRun) return { ...(await prepareBaseline(deps.pool, deps.migrations, to)), dryRun: true };
  return withMigrationLock(deps, async (client) => {
    const prepared = await prepareBaseline(client, deps.migrations, to);
    if (prepared.recorded.length === 0) return { ...prepared, dryRun: false };
    const recorded: BaselineResult['recorded'] = [];
    await client.query('BEGIN');
    try {
      await ensureTable(client);
      for (const entry of prepared.recorded) {
        const m = deps.migrations.find((x) => x.version === entry.version)!;
        if (await recordApplied(client, m, 0, deps.appliedBy)) recorded.push(entry);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    return { ...prepared, recorded, dryRun: false };
  });
}
