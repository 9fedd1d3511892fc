import { fail, pass } from '../../checks/define-check.js';
import { quoteIdent } from '../../db/backup/checksums.js';
import { detectUnmanaged, refuseUnmanaged, unmanagedAdvice, unmanagedSummary } from '../../db/migrator/baseline.js';
import { loadVerifiedMigrations } from '../../db/migrator/files.js';
import { getStatus, MIGRATIONS_TABLE, migrateDown, migrateUp, planUp, verifyNoEdits } from '../../db/migrator/migrator.js';
import { durationParam } from './params.js';
import { defineStep, type StepContext, type UndoSource } from '../define-step.js';

/** Checked against routergpt.sum before every query (an edited released file is a ConfigError). */
function migrations(ctx: StepContext) {
  return loadVerifiedMigrations(ctx.config.migrationsDir.value, ctx.log);
}

/** Apply pending migrations (the foundation's migrator: lock, checksums, lock_timeout, CONCURRENTLY). */
export const dbMigrateStep = defineStep({
  id: 'db.migrate',
  params: ['lock_wait'],
  title: 'Run all migrations in order',
  changesData: 'user-data',
  needs: ['db'],
  async plan(ctx) {
    const files = migrations(ctx);
    const status = await getStatus(ctx.db.pool, files);
    verifyNoEdits(status);
    // Tables of the migrations but no history (built with psql -f): adopt it first, not "apply 001".
    const unmanaged = status.applied.length === 0 ? await detectUnmanaged(ctx.db.pool, files) : undefined;
    if (unmanaged) return [`unmanaged schema: ${unmanagedAdvice(unmanaged, ctx.config.name)}`, `(${unmanagedSummary(unmanaged)})`];
    const groups = planUp(files, status);
    if (groups.length === 0) return [`Nothing to apply: the database is at ${status.current ?? 'nothing'}`];
    return [`From ${status.current ?? 'an empty schema'}:`, ...groups.map((g) => `apply ${g.version}_${g.name} (${g.transactional ? 'one transaction' : `${g.statements.length} statements outside a transaction`})`)];
  },
  async run(ctx) {
    const files = migrations(ctx);
    const before = await getStatus(ctx.db.pool, files);
    const result = await migrateUp({
      pool: ctx.db.pool,
      migrations: files,
      lockTimeoutMs: ctx.config.lockTimeoutMs.value,
      // How long to wait for another migrator before giving up (exit 4, naming it).
      lockWaitMs: durationParam('db.migrate', ctx.params, 'lock_wait') ?? 60_000,
      appliedBy: `routergpt deploy ${ctx.runId}`,
      beforeApply: refuseUnmanaged(files, ctx.config.name),
      onEvent: (e) => {
        if (e.type === 'applied') ctx.log(`applied ${e.version}_${e.name} (${Math.round(e.ms)} ms)`);
        if (e.type === 'waiting-for-lock') ctx.log('waiting for the migration lock…');
      },
    });
    return {
      status: result.ran.length > 0 ? 'done' : 'skipped',
      summary: result.ran.length > 0 ? `applied ${result.ran.map((r) => r.version).join(', ')}; now at ${result.status.current}` : `already at ${result.status.current}`,
      // `before` is what `rollback --tier migrations` goes back to.
      outputs: { before: before.current ?? '000', after: result.status.current, applied: result.ran.map((r) => `${r.version}_${r.name}`) },
    };
  },
  async verify(ctx) {
    const status = await getStatus(ctx.db.pool, migrations(ctx));
    if (status.pending.length || status.edited.length || status.missing.length) return fail(`migrations not clean: ${status.pending.length} pending, ${status.edited.length} edited, ${status.missing.length} missing`);
    return pass(`at ${status.current}, checksums match`);
  },
  /** Rollback tier `migrations`: the down files back to the version before the deploy. */
  undo: {
    tier: 'migrations',
    title: 'Down migrations back to the pre-deploy version',
    destructive: true,
    // A db.migrate that failed half-way (or was killed) may have applied some: undo those too.
    applies: (source) => ['done', 'warn', 'failed', 'running'].includes(source.state),
    async plan(ctx, source) {
      const to = await targetVersion(ctx, source);
      if (!to) return ['The deploy applied no migrations: nothing to undo'];
      const status = await getStatus(ctx.db.pool, migrations(ctx));
      const undo = status.applied.filter((a) => a.version > to).reverse();
      if (!undo.length) return [`Already at or below ${to}: nothing to revert`];
      return [`From ${status.current} down to ${to}:`, ...undo.map((u) => `revert ${u.version}_${u.name} (${u.version}_${u.name}.down.sql)`), ...(await droppedTables(ctx, undo.map((u) => u.version)))];
    },
    async run(ctx, source) {
      const to = await targetVersion(ctx, source);
      if (!to) return { status: 'skipped', summary: 'the deploy applied no migrations' };
      await ctx.confirm(`Revert migrations after ${to} on ${ctx.config.name}? Tables they created are dropped with their data.`);
      const result = await migrateDown({ pool: ctx.db.pool, migrations: migrations(ctx), lockTimeoutMs: ctx.config.lockTimeoutMs.value, lockWaitMs: 60_000 }, { to });
      return { status: result.ran.length ? 'done' : 'skipped', summary: result.ran.length ? `reverted ${result.ran.map((r) => r.version).join(', ')}; now at ${result.status.current ?? 'nothing'}` : `already at ${to}`, outputs: { to, reverted: result.ran.map((r) => r.version) } };
    },
  },
});

/**
 * The loss preview of a migrations rollback: the tables the reverted migrations created are
 * dropped by their down files, with every row in them ("lose: router_analytics: 85 rows").
 */
async function droppedTables(ctx: StepContext, versions: string[]): Promise<string[]> {
  const files = migrations(ctx).filter((m) => versions.includes(m.version));
  const lines: string[] = [];
  for (const file of files) {
    for (const [, table] of file.sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(?:public\.)?"?([a-z_][a-z0-9_]*)"?/gi)) {
      const { rows } = await ctx.db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM public.${quoteIdent(table!)}`).catch(() => ({ rows: [] as Array<{ n: string }> }));
      if (rows[0]) lines.push(`lose: ${table}: ${rows[0].n} row(s), dropped by ${file.version}_${file.name}.down.sql`);
    }
  }
  return lines;
}

/**
 * The version to go back to: the one before the oldest migration the deploy run applied — read
 * from the migrations table (`applied_by`), so a deploy whose db.migrate failed half-way, or was
 * resumed, is still undone completely; else the `before` the step journaled.
 */
async function targetVersion(ctx: StepContext, source: UndoSource): Promise<string | undefined> {
  const { rows } = await ctx.db.pool.query<{ version: string | null }>(`SELECT min(version) AS version FROM ${MIGRATIONS_TABLE} WHERE applied_by = $1`, [`routergpt deploy ${source.runId}`]).catch(() => ({ rows: [] as Array<{ version: string | null }> }));
  const oldest = rows[0]?.version;
  if (oldest) return String(Number(oldest) - 1).padStart(oldest.length, '0');
  const { before, applied } = source.outputs;
  return typeof before === 'string' && Array.isArray(applied) && applied.length > 0 ? before : undefined;
}

export default dbMigrateStep;
