import type { Command } from 'commander';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { ChecksFailedError, ExitCode } from '../../errors.js';
import { note, printJson, printTable } from '../../cli/render/output.js';

export function registerConfig(program: Command, io: IO): void {
  const config = program.command('config').description('inspect the resolved configuration');
  config
    .command('show')
    .description('print the resolved config of an environment, each value with its source (secrets masked); unset required values are marked')
    .option('--check', 'also exit 2 when a value the environment requires is not set (DATABASE_URL for staging/prod)')
    .action(
      action<{ check?: boolean }>(io, async (ctx, opts) => {
        // Only what it needs: an unset DATABASE_URL is shown as missing, not refused; invalid values are listed after the table.
        const loaded = await ctx.loadConfig({ requireDatabase: false, collectProblems: true });
        const { runConfigShow, configShowVerdict } = await import('./run-config-show.js');
        const result = runConfigShow(loaded.config, loaded.environments, loaded.missing, loaded.problems);
        if (ctx.globals.json) printJson(ctx.io, result);
        else {
          note(ctx.io, `environment: ${result.env}   config file: ${result.configFile ?? '(none: built-in defaults)'}`);
          await printTable(ctx.io, ['key', 'value', 'source'], result.values.map((r) => [r.key, r.value, r.origin]));
        }
        const error = configShowVerdict(result, Boolean(opts.check));
        // With --json the problems are in the one document printed (problems, missing): only the exit code is left to give.
        if (error) throw ctx.globals.json ? new ChecksFailedError(error.message, ExitCode.usage) : error;
      }),
    );
}
