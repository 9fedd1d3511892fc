import type { Command } from 'commander';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { note, printJson, printTable } from '../../cli/render/output.js';
import { failureExitCode } from '../../cli/render/run-result.js';
import { ChecksFailedError, UsageError } from '../../errors.js';

interface BackupFlags {
  label?: string;
  list?: boolean;
  verify?: string | boolean;
  restoreTest?: boolean;
  checklist?: string;
  resume?: string | boolean;
  dryRun?: boolean;
}

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function registerBackup(program: Command, io: IO): void {
  program
    .command('backup')
    .description("the deploy's verified backup on its own (journaled); --list every backup of the environment; --verify FILE checks one against its manifest")
    .option('--label <label>', 'part of the file name: <label>-<time>.dump (default: manual)')
    .option('--list', 'every backup of the environment, newest first: time, label, size, verification state')
    .option('--verify [file]', 'check FILE (a backup or its .manifest.json) against its manifest; with --list: check every backup in full')
    .option('--restore-test', "with --verify FILE: also restore it into a scratch database and compare (default: as the checklist's db.backup step says)")
    .option('--checklist <file>', "take the db.backup step's parameters (format, jobs, retention, restoreTest) from this checklist instead of checklists/<env>.yaml")
    .option('--resume [run]', 'run an unfinished backup run again (the latest, or RUN)')
    .option('--dry-run', 'print what the backup would run and write, and change nothing')
    .addHelpText(
      'after',
      '\nThe backup is the db.backup step of the deploy (and of the rollback\'s safety backup): pg_dump (the\nWebAssembly pg_dump on the embedded database), a manifest with SHA-256, row counts, per-table checksums\nand the write ledger, the same verification, and retention (backup.retention, the oldest deleted).\nExit codes: 0 backed up / verified, 1 the backup or its verification failed (a mismatch is named),\n2 usage: a missing file or not a routergpt backup (nothing changed), 4 another run holds the lock.\nDocs: docs/commands.md#routergpt-backup',
    )
    .action(
      action<BackupFlags>(io, async (ctx, opts) => {
        const verifyFile = typeof opts.verify === 'string' ? opts.verify : undefined;
        if (opts.list && verifyFile) throw new UsageError('--list --verify checks every backup; --verify FILE checks one: not both.', 'Use `routergpt backup --list --verify`, or `routergpt backup --verify FILE`.');
        if ((opts.list || opts.verify) && (opts.label !== undefined || opts.resume !== undefined || opts.dryRun)) throw new UsageError('--label, --resume and --dry-run are for taking a backup, not with --list or --verify.', 'Drop them, or run `routergpt backup --label L` on its own.');
        if (opts.restoreTest && !verifyFile) throw new UsageError('--restore-test goes with --verify FILE.', 'Run `routergpt backup --verify FILE --restore-test`.');
        if (opts.verify === true && !opts.list) throw new UsageError('--verify needs the backup to check.', 'Run `routergpt backup --verify FILE` (see `routergpt backup --list` for the files), or `routergpt backup --list --verify` for all.');
        const { config } = await ctx.loadConfig({ requireDatabase: !(opts.list || (verifyFile && !opts.restoreTest)) });
        const core = await import('./run-backup.js');

        if (opts.list) {
          const { dir, backups } = await core.listEnvBackups(config, opts.verify === true);
          if (ctx.globals.json) printJson(ctx.io, { env: config.name, dir, backups });
          else if (backups.length === 0) note(ctx.io, `no backups of ${config.name} in ${dir} yet (take one with \`routergpt backup --env ${config.name}\`)`);
          else await printTable(ctx.io, ['taken', 'label', 'size', 'verification', 'file'], backups.map((b) => [b.createdAt.replace('T', ' ').slice(0, 19), b.label, size(b.sizeBytes), b.verification, b.file]));
          const bad = backups.filter((b) => b.state === 'bad');
          if (opts.verify === true && bad.length) throw new ChecksFailedError(`${bad.length} backup(s) do not match their manifest`);
          return;
        }

        if (verifyFile) {
          const result = await core.verifyBackupFile({ config, cwd: ctx.io.cwd, file: verifyFile, checklistFile: opts.checklist, ...(opts.restoreTest ? { restoreTest: true } : {}) });
          const { verdict } = result;
          if (ctx.globals.json) printJson(ctx.io, { file: result.file, manifest: result.manifestFile, env: result.manifest.env ?? null, createdAt: result.manifest.createdAt, status: verdict.status, summary: verdict.summary, details: verdict.details ?? [] });
          else ctx.io.stdout.write(`${verdict.status === 'fail' ? '✗' : '✓'} ${verdict.summary}\n${(verdict.details ?? []).map((d) => `  ${d}\n`).join('')}${verdict.hint && verdict.status === 'fail' ? `→ ${verdict.hint}\n` : ''}`);
          if (verdict.status === 'fail') throw new ChecksFailedError(verdict.summary);
          return;
        }

        const result = await core.runBackup({
          config,
          io: ctx.io,
          cwd: ctx.io.cwd,
          ...(opts.label !== undefined ? { label: opts.label } : {}),
          ...(opts.checklist ? { checklistFile: opts.checklist } : {}),
          ...(opts.resume !== undefined && opts.resume !== false ? { resume: opts.resume === true ? true : opts.resume } : {}),
          dryRun: Boolean(opts.dryRun),
        });
        if (!result.run || !result.summary) {
          if (ctx.globals.json) printJson(ctx.io, { dryRun: true, plan: result.plan });
          return;
        }
        const s = result.summary;
        if (ctx.globals.json) printJson(ctx.io, s);
        else {
          const lines = [
            ...(s.file ? [`Backup:       ${s.file} (${size(s.sizeBytes ?? 0)}, ${s.format}, ${Object.keys(s.tables ?? {}).length} tables)`, `Manifest:     ${s.manifest}`] : []),
            ...(s.verification ? [`Verification: ${s.verification.status} — ${s.verification.summary}`] : []),
            `Run:          ${s.run} (${s.status}; \`routergpt status --env ${config.name} --run ${s.run}\`)`,
          ];
          ctx.io.stdout.write(`${lines.join('\n')}\n`);
        }
        if (result.run.status !== 'succeeded') throw new ChecksFailedError('backup failed', failureExitCode(result.run.items));
      }),
    );
}
