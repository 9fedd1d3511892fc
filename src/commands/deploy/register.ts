import type { Command } from 'commander';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { collectReporter, finishRun, verifyReporters } from '../../cli/render/run-result.js';
import { UsageError } from '../../errors.js';
import { didYouMean } from '../../lib/nearest.js';
import { CADENCES, type Cadence } from '../../runbook/cadence.js';

interface DeployFlags {
  dryRun?: boolean;
  yes?: boolean;
  reporter?: string[];
  resume?: string | boolean;
  signoffFile?: string;
  checklist?: string;
  baseUrl?: string;
  release?: string;
  strict?: boolean;
  approvalTimeout?: string;
}

const RELEASE_HELP = 'the release this run ships: a commit, tag or image tag (default: ROUTERGPT_RELEASE, else `git describe --always --dirty`); journaled and given to the deploy commands as ROUTERGPT_RELEASE';

export function registerDeploy(program: Command, io: IO): void {
  program
    .command('deploy')
    .description('run the deployment checklist for an environment: gate checks, verified backup, migrations, data steps, code deploy, smoke tests, sign-off — journaled and resumable')
    .option('--dry-run', 'print every item\'s plan and change nothing')
    .option('--reporter <name[=file]>', 'human | json | junit | github | markdown | html, to stdout or FILE (repeatable; --json is --reporter json)', collectReporter)
    .option('-y, --yes', 'do not ask for confirmations (manual items still need a terminal or --signoff-file)')
    .option('--resume [run]', 'continue the latest unfinished deploy (or RUN) from the first item not done')
    .option('--signoff-file <file>', 'answers to the manual items and the final sign-off, for runs without a terminal')
    .option('--checklist <file>', 'use this checklist instead of checklists/<env>.yaml')
    .option('--base-url <url>', 'the API to smoke-test (default: PUBLIC_API_BASE; on local, a server started in-process)')
    .option('--release <id>', RELEASE_HELP)
    .option('--approval-timeout <duration>', 'how long a run without a terminal waits in waiting-approval for `routergpt approve` (default: approvals.timeout, 30m)')
    .option('--strict', 'exit 3 when the run succeeded with warnings (a check that warned, a manual item pre-answered in the sign-off file)')
    .addHelpText('after', '\nExit codes: 0 succeeded (warnings allowed), 1 an item failed or no approval came before the timeout (the rollback plan is printed), 2 usage/config or an approval by the deployer (nothing changed), 3 warnings with --strict, 4 another run holds the lock, 130 cancelled.\nDocs: docs/runbook.md, docs/signoff.md')
    .action(
      action<DeployFlags>(io, async (ctx, opts) => {
        await verifyReporters(ctx, opts.reporter);
        const { parseDuration } = await import('../../config/duration.js');
        const approvalTimeoutMs = opts.approvalTimeout !== undefined ? parseDuration(opts.approvalTimeout, '--approval-timeout') : undefined;
        const { config } = await ctx.loadConfig();
        const { runDeploy } = await import('./run-deploy.js');
        const result = await runDeploy({
          config,
          ...(ctx.globals.as !== undefined ? { as: ctx.globals.as } : {}),
          ...(approvalTimeoutMs !== undefined ? { approvalTimeoutMs } : {}),
          io: ctx.io,
          cwd: ctx.io.cwd,
          checklistFile: opts.checklist,
          dryRun: Boolean(opts.dryRun),
          yes: Boolean(opts.yes),
          resume: opts.resume === undefined || opts.resume === false ? undefined : opts.resume === true ? true : opts.resume,
          signoffFile: opts.signoffFile,
          baseUrl: opts.baseUrl,
          release: opts.release,
        });
        await finishRun(ctx, result, 'deploy', result.rollbackPlan, opts.reporter, Boolean(opts.strict));
      }),
    );
}

export function registerMaintain(program: Command, io: IO): void {
  const maintain = program
    .command('maintain')
    .description(`run the checklist's ongoing maintenance of one cadence (${CADENCES.join(', ')}), journaled and cron-safe; \`maintain schedule\` prints the crontab lines or systemd units`)
    .argument('[cadence]', `${CADENCES.join(' | ')} (a subcommand)`)
    .action(
      action<Record<string, never>>(io, async (_ctx, _opts, command) => {
        const given = command.args[0];
        const choices = CADENCES.join(', ');
        if (given !== undefined) throw new UsageError(`Unknown maintenance cadence "${given}"${didYouMean(given, [...CADENCES, 'schedule']) || '.'}`, `Use one of ${choices}: e.g. \`routergpt maintain daily\`.`);
        throw new UsageError(`Say which maintenance to run: ${choices}.`, 'Run e.g. `routergpt maintain daily` (no prompts: cron-safe), or `routergpt maintain schedule --cron` for the lines that run each cadence.');
      }),
    );
  for (const cadence of CADENCES) {
    maintain
      .command(cadence)
      .description(`run the checklist's ${cadence} maintenance phases (${CADENCE_WHAT[cadence]}), journaled; no prompts`)
      .option('--dry-run', 'print the plan and change nothing')
      .option('--reporter <name[=file]>', 'human | json | junit | github | markdown | html, to stdout or FILE (repeatable; --json is --reporter json)', collectReporter)
      .option('--strict', 'exit 3 when a finding warns')
      .option('--signoff-file <file>', 'answers to the manual review items (monthly), for runs without a terminal')
      .option('--checklist <file>', 'use this checklist instead of checklists/<env>.yaml')
      .option('--release <id>', 'the release running now, recorded in the run (default: ROUTERGPT_RELEASE, else `git describe --always --dirty`)')
      .action(
        action<DeployFlags>(io, async (ctx, opts) => {
          await verifyReporters(ctx, opts.reporter);
          const { config } = await ctx.loadConfig();
          const { runDeploy } = await import('./run-deploy.js');
          // Maintenance items are read-only findings and idempotent housekeeping: nothing to confirm.
          const result = await runDeploy({ config, kind: 'maintenance', cadence, ...(ctx.globals.as !== undefined ? { as: ctx.globals.as } : {}), io: ctx.io, cwd: ctx.io.cwd, checklistFile: opts.checklist, dryRun: Boolean(opts.dryRun), yes: true, signoffFile: opts.signoffFile, release: opts.release });
          await finishRun(ctx, result, `${cadence} maintenance`, [], opts.reporter, Boolean(opts.strict));
        }),
      );
  }
  maintain
    .command('schedule')
    .description('print the crontab lines (default) or systemd units that run each maintenance cadence of the environment')
    .option('--cron', 'crontab lines (default)')
    .option('--systemd', 'a service and a timer per cadence')
    .action(
      action<{ cron?: boolean; systemd?: boolean }>(io, async (ctx, opts) => {
        if (opts.cron && opts.systemd) throw new UsageError('--cron and --systemd are two formats of the same schedule: pick one.', 'Use `routergpt maintain schedule --cron` or `routergpt maintain schedule --systemd`.');
        // The lines name the environment; they need no database now.
        const { config } = await ctx.loadConfig({ requireDatabase: false });
        const { maintenanceSchedule } = await import('./schedule.js');
        ctx.io.stdout.write(maintenanceSchedule({ env: config.name, cwd: ctx.io.cwd, bin: process.argv[1] ?? 'routergpt', format: opts.systemd ? 'systemd' : 'cron', node: process.execPath }));
      }),
    );
}

const CADENCE_WHAT: Record<Cadence, string> = {
  daily: 'errors by route, response times, rate-limit hits, archiving old analytics',
  weekly: 'analytics review, geocoding cache cleanup, disk space, backup age, a backup then deleting and anonymising past retention',
  monthly: 'search query plan, the analytics archive, rate-limit review, the documentation review',
};
