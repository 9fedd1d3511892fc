import type { Command } from 'commander';
import { ChecksFailedError, UsageError } from '../../errors.js';
import { ExitCode } from '../../cli/exit-codes.js';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { note, printJson, printTable } from '../../cli/render/output.js';
import { parseDuration } from '../../config/duration.js';
import type { MigrationEvent } from '../../db/migrator/migrator.js';

const VERSION_RE = /^\d{3,}$/;

function parseVersion(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!VERSION_RE.test(value)) throw new UsageError(`${flag} expects a migration number like 006 (got "${value}").`, `Run \`routergpt migrate status\` to see the numbers.`);
  return value;
}

const parseLockWait = (value: string | undefined): number => parseDuration(value ?? '60s', '--lock-wait');

function progress(io: IO, verbose: boolean) {
  return (event: MigrationEvent) => {
    switch (event.type) {
      case 'waiting-for-lock': {
        const h = event.holder;
        note(io, `waiting for the migration lock held by ${h ? `pid ${h.pid} (${h.applicationName || 'unnamed'})` : 'another session'}…`);
        break;
      }
      case 'applying':
        if (verbose) note(io, `${event.direction === 'up' ? 'applying' : 'reverting'} ${event.version}_${event.name}…`);
        break;
      case 'applied':
        note(io, `${event.direction === 'up' ? '↑ applied ' : '↓ reverted'} ${event.version}_${event.name} (${Math.round(event.ms)} ms${event.fromTemplate ? ', in the pre-migrated template this state was copied from' : ''})`);
        break;
      case 'retrying':
        note(io, `retrying ${event.version} (attempt ${event.attempt}): ${event.reason}`);
        break;
      case 'rebuilding-invalid-index':
        note(io, `index ${event.index} was left invalid by an interrupted build; dropping it to rebuild`);
        break;
    }
  };
}

/** "No routergpt.sum" warnings go to stderr with the other notes. */
const warnOn = (io: IO) => (line: string) => note(io, line);

export function registerMigrate(program: Command, io: IO): void {
  const migrate = program.command('migrate').description('apply, inspect and undo the SQL migrations in migrations/');

  migrate
    .command('status')
    .description('applied, pending, edited and missing migrations')
    .option('--exit-code', 'exit 1 when a migration is pending, edited or missing')
    .action(
      action<{ exitCode?: boolean }>(io, async (ctx, opts) => {
        const { config } = await ctx.loadConfig();
        const { runMigrateStatus } = await import('./run-migrate.js');
        const status = await runMigrateStatus({ config, onWarning: warnOn(ctx.io) });
        const dirty = status.pending.length + status.edited.length + status.missing.length > 0;
        if (ctx.globals.json) printJson(ctx.io, status);
        else {
          note(ctx.io, `${status.env}: ${status.database}`);
          const edited = new Set(status.edited.map((e) => e.version));
          const rows = [
            ...status.applied.map((m) => [m.version, m.name, edited.has(m.version) ? 'EDITED since applied' : 'applied', m.appliedAt ?? '']),
            ...status.pending.map((m) => [m.version, m.name, 'pending', '']),
            ...status.missing.map((m) => [m.version, m.name, 'MISSING file', m.appliedAt ?? '']),
          ].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
          await printTable(ctx.io, ['version', 'name', 'state', 'applied at'], rows);
          if (status.unmanaged) {
            const { describeUnmanaged } = await import('../../db/migrator/baseline.js');
            note(ctx.io, describeUnmanaged(status.unmanaged, ctx.globals.env));
          } else if (status.pending.length > 0) note(ctx.io, `${status.pending.length} pending: run \`routergpt migrate up${ctx.globals.env ? ` --env ${ctx.globals.env}` : ''}\``);
          for (const e of status.edited) note(ctx.io, `${e.version} was edited since it was applied: if the database applied an earlier edit and the file is right, run \`routergpt migrate repair --version ${e.version}${ctx.globals.env ? ` --env ${ctx.globals.env}` : ''}\`; otherwise restore the file`);
        }
        if (opts.exitCode && dirty) throw new ChecksFailedError('migrations pending', ExitCode.failed);
      }),
    );

  migrate
    .command('up')
    .description('apply pending migrations in order, under a lock, each in its own transaction')
    .option('--to <NNN>', 'stop after this migration')
    .option('--lock-wait <duration>', 'how long to wait for another migrator', '60s')
    .option('-y, --yes', 'do not ask for confirmation on protected environments')
    .action(
      action<{ to?: string; lockWait?: string; yes?: boolean }>(io, async (ctx, opts) => {
        const to = parseVersion('--to', opts.to);
        const lockWaitMs = parseLockWait(opts.lockWait);
        const { config } = await ctx.loadConfig();
        if (config.protected.value) {
          const { confirmOrThrow } = await import('../../cli/confirm.js');
          await confirmOrThrow({ io: ctx.io, yes: Boolean(opts.yes), typed: config.name, message: `Apply pending migrations to ${config.name}?` });
        }
        const { runMigrateUp } = await import('./run-migrate.js');
        const result = await runMigrateUp({ config, to, lockWaitMs, onWarning: warnOn(ctx.io), onEvent: progress(ctx.io, Boolean(ctx.globals.verbose)) });
        if (ctx.globals.json) return printJson(ctx.io, { env: config.name, ran: result.ran, current: result.status.current, pending: result.status.pending });
        note(ctx.io, result.ran.length === 0 ? `${config.name}: already up to date (at ${result.status.current ?? 'nothing'})` : `${config.name}: applied ${result.ran.length} migration(s); now at ${result.status.current}`);
      }),
    );

  migrate
    .command('baseline')
    .description('adopt a database built without routergpt: record 001…NNN as applied without running them, once their tables, columns, indexes, views and functions are checked')
    .requiredOption('--to <NNN>', 'the last migration the database already has (`migrate status` suggests it)')
    .option('--dry-run', 'check the objects and print what would be recorded; change nothing')
    .option('--lock-wait <duration>', 'how long to wait for another migrator', '60s')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      action<{ to: string; dryRun?: boolean; lockWait?: string; yes?: boolean }>(io, async (ctx, opts) => {
        const to = parseVersion('--to', opts.to)!;
        const lockWaitMs = parseLockWait(opts.lockWait);
        const { config } = await ctx.loadConfig();
        const { confirmOrThrow } = await import('../../cli/confirm.js');
        const confirm = config.name === 'local' ? undefined : (message: string) => confirmOrThrow({ io: ctx.io, yes: Boolean(opts.yes), typed: config.protected.value ? config.name : undefined, message });
        const { runMigrateBaseline } = await import('./run-migrate-baseline.js');
        const result = await runMigrateBaseline({ config, to, dryRun: Boolean(opts.dryRun), lockWaitMs, confirm, onWarning: warnOn(ctx.io), onEvent: progress(ctx.io, Boolean(ctx.globals.verbose)) });
        if (ctx.globals.json) return printJson(ctx.io, result);
        for (const warning of result.warnings) note(ctx.io, `⚠ ${warning}`);
        const versions = result.recorded.map((r) => r.version).join(', ');
        if (result.recorded.length === 0) note(ctx.io, `${config.name}: nothing to do: migrations up to ${result.before} are already recorded`);
        else if (result.dryRun) note(ctx.io, `${config.name}: the objects of migrations up to ${to} exist; would record ${versions} as applied (dry run: nothing was recorded)`);
        else note(ctx.io, `${config.name}: recorded ${versions} as applied without running them (run ${result.runId}); now at ${to}; \`routergpt migrate up${ctx.globals.env ? ` --env ${ctx.globals.env}` : ''}\` applies any later ones`);
      }),
    );

  migrate
    .command('repair')
    .description('a database applied an earlier edit of migration NNN: once the live objects are checked against the file, record the file\'s checksum (idempotent; nothing to repair exits 0)')
    .option('--version <NNN>', 'the applied migration whose recorded checksum differs from its file (`migrate status` marks it EDITED); required')
    .option('--dry-run', 'check the objects and say what would be recorded; change nothing')
    .option('--lock-wait <duration>', 'how long to wait for another migrator', '60s')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      action<{ version: string; dryRun?: boolean; lockWait?: string; yes?: boolean }>(io, async (ctx, opts) => {
        // The program takes --version wherever it stands (src/cli/program.ts): it arrives in the globals.
        const raw = opts.version ?? (ctx.globals as { version?: string }).version;
        if (raw === undefined) throw new UsageError('migrate repair needs --version NNN: the applied migration whose recorded checksum differs from its file.', 'Run `routergpt migrate status`: it marks such a migration "EDITED since applied".');
        const version = parseVersion('--version', raw)!;
        const lockWaitMs = parseLockWait(opts.lockWait);
        const { config } = await ctx.loadConfig();
        const { confirmOrThrow } = await import('../../cli/confirm.js');
        const confirm = config.name === 'local' ? undefined : (message: string) => confirmOrThrow({ io: ctx.io, yes: Boolean(opts.yes), typed: config.protected.value ? config.name : undefined, message });
        const { runMigrateRepair } = await import('./run-migrate-repair.js');
        const result = await runMigrateRepair({ config, version, dryRun: Boolean(opts.dryRun), lockWaitMs, confirm, onWarning: warnOn(ctx.io), onEvent: progress(ctx.io, Boolean(ctx.globals.verbose)) });
        if (ctx.globals.json) return printJson(ctx.io, result);
        for (const warning of result.warnings) note(ctx.io, `⚠ ${warning}`);
        const label = `${result.version}_${result.name}`;
        if (result.outcome === 'nothing-to-repair') note(ctx.io, `${config.name}: nothing to repair: the recorded checksum of ${label} matches the file`);
        else if (result.dryRun) note(ctx.io, `${config.name}: ${label}'s objects match the file (${result.objectsChecked} checked); would record its checksum (dry run: nothing was changed)`);
        else note(ctx.io, `${config.name}: recorded the checksum of ${label}.sql after checking ${result.objectsChecked} of its objects (run ${result.runId})`);
      }),
    );

  migrate
    .command('plan')
    .description('print the SQL `up` would run, grouped by transaction; changes nothing')
    .option('--to <NNN>', 'stop after this migration')
    .action(
      action<{ to?: string }>(io, async (ctx, opts) => {
        const to = parseVersion('--to', opts.to);
        const { config } = await ctx.loadConfig();
        const { runMigratePlan } = await import('./run-migrate.js');
        const plan = await runMigratePlan({ config, to, onWarning: warnOn(ctx.io) });
        if (ctx.globals.json) return printJson(ctx.io, plan);
        if (plan.groups.length === 0) {
          note(ctx.io, `${config.name}: nothing to apply`);
          return;
        }
        for (const group of plan.groups) {
          ctx.io.stdout.write(`-- ${group.version}_${group.name}: ${group.transactional ? 'one transaction' : `no transaction, ${group.statements.length} statement(s) run one by one`}\n`);
          if (group.transactional) ctx.io.stdout.write('BEGIN;\n');
          for (const statement of group.statements) ctx.io.stdout.write(`${statement.replace(/;\s*$/, '')};\n`);
          if (group.transactional) ctx.io.stdout.write('COMMIT;\n');
          ctx.io.stdout.write('\n');
        }
      }),
    );

  migrate
    .command('down')
    .description('undo applied migrations with their .down.sql files, newest first, down to (not including) --to')
    .requiredOption('--to <NNN>', 'the version to end at (000 undoes everything)')
    .option('--lock-wait <duration>', 'how long to wait for another migrator', '60s')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      action<{ to: string; lockWait?: string; yes?: boolean }>(io, async (ctx, opts) => {
        const to = parseVersion('--to', opts.to)!;
        const lockWaitMs = parseLockWait(opts.lockWait);
        const { config } = await ctx.loadConfig();
        if (config.name !== 'local') {
          const { confirmOrThrow } = await import('../../cli/confirm.js');
          await confirmOrThrow({ io: ctx.io, yes: Boolean(opts.yes), typed: config.protected.value ? config.name : undefined, message: `Undo migrations after ${to} on ${config.name}? Tables they created are dropped with their data.` });
        }
        const { runMigrateDown } = await import('./run-migrate.js');
        const result = await runMigrateDown({ config, to, lockWaitMs, onWarning: warnOn(ctx.io), onEvent: progress(ctx.io, Boolean(ctx.globals.verbose)) });
        if (ctx.globals.json) return printJson(ctx.io, { env: config.name, ran: result.ran, current: result.status.current });
        note(ctx.io, result.ran.length === 0 ? `${config.name}: nothing to undo` : `${config.name}: reverted ${result.ran.length} migration(s); now at ${result.status.current ?? 'nothing'}`);
      }),
    );

  migrate
    .command('lint')
    .description('check the migration files with squawk (locks, rewrites, unsafe DDL)')
    .option('--pg-version <version>', 'PostgreSQL version to lint for', '15')
    .option('--reporter <name[=file]>', 'human, json, github, gitlab (code quality), junit (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--strict', 'exit 3 on warnings')
    .action(
      action<{ pgVersion: string; strict?: boolean; reporter?: string[] }>(io, async (ctx, opts) => {
        const { LINT_REPORTERS, renderLint } = await import('../../report/lint.js');
        const { parseReporterOptions } = await import('../../report/reporter-options.js');
        const reporters = parseReporterOptions(opts.reporter, Boolean(ctx.globals.json), LINT_REPORTERS);
        const { config } = await ctx.loadConfig();
        const { runMigrateLint } = await import('./run-lint.js');
        const result = await runMigrateLint({ migrationsDir: config.migrationsDir.value, pgVersion: opts.pgVersion, onWarning: warnOn(ctx.io) });
        const { default: path } = await import('node:path');
        const relative = path.relative(ctx.io.cwd, config.migrationsDir.value);
        const dir = relative.startsWith('..') || path.isAbsolute(relative) ? config.migrationsDir.value : relative.split(path.sep).join('/');
        const { writeReports } = await import('../../report/write-reports.js');
        const written = await writeReports(reporters, (spec) => renderLint({ dir, ...result }, spec.name), { ...ctx.io });
        for (const file of written) note(ctx.io, `wrote ${file}`);
        if (result.status === 'fail') throw new ChecksFailedError('lint failed');
        if (result.status === 'warn' && opts.strict) throw new ChecksFailedError('lint warnings', ExitCode.strictWarnings);
      }),
    );

  migrate
    .command('hash')
    .description('pin the migration files in migrations/routergpt.sum (a SHA-256 per file and one over the set) and, with --schema-from, rewrite the schema snapshot migrations/routergpt.schema.json')
    .option('--check', 'only verify the sum file and that the schema snapshot was written for these files; exit 1 with the problems')
    .option('--schema-from <url>', 'a throwaway PostgreSQL server (TEST_DATABASE_URL): apply every migration to a scratch database there, read the schema, drop it, and rewrite routergpt.schema.json')
    .action(
      action<{ check?: boolean; schemaFrom?: string }>(io, async (ctx, opts) => {
        const { config } = await ctx.loadConfig();
        const { runMigrateHash, verifySchemaFromUrl, SUM_MISMATCH_HINT, REGENERATE_HINT } = await import('./run-migrate-hash.js');
        const schemaFrom = verifySchemaFromUrl(opts.schemaFrom);
        const onProgress = ctx.globals.verbose ? (line: string) => note(ctx.io, line) : undefined;
        const result = await runMigrateHash({ migrationsDir: config.migrationsDir.value, check: Boolean(opts.check), schemaFrom, onProgress });
        if (ctx.globals.json) printJson(ctx.io, result);
        else if (opts.check) {
          if (result.problems.length === 0) ctx.io.stdout.write(`✔ ${result.sumFile} matches the ${result.files} migration files; ${result.schemaFile} was written for them\n`);
          for (const problem of result.problems) ctx.io.stdout.write(`✖ ${problem.message}\n`);
        } else {
          for (const c of result.changes) ctx.io.stdout.write(`${c.change.padEnd(7)}  ${c.file}\n`);
          note(ctx.io, result.written ? `wrote ${result.sumFile} (${result.files} files${result.changes.length ? `, ${result.changes.length} changed` : ''})` : `${result.sumFile} is up to date (${result.files} files)`);
          if (result.schemaWritten !== undefined) note(ctx.io, `${result.schemaWritten ? 'wrote' : 'unchanged:'} ${result.schemaFile} (${result.schemaObjects} objects, built in a scratch database that was dropped)`);
          if (result.schemaWarning) note(ctx.io, `⚠ ${result.schemaWarning}`);
        }
        if (result.problems.length > 0) {
          if (!ctx.globals.json) {
            const sumOnly = result.problems.filter((p) => !p.kind.startsWith('schema-'));
            if (sumOnly.length > 0) note(ctx.io, sumOnly.every((p) => p.kind === 'sum-missing') ? 'Run `routergpt migrate hash` to pin the files, and commit the sum file.' : SUM_MISMATCH_HINT);
            if (sumOnly.length < result.problems.length) note(ctx.io, REGENERATE_HINT);
          }
          throw new ChecksFailedError('migration sum mismatch');
        }
      }),
    );
}
