import type { Command } from 'commander';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { note, printJson, printTable } from '../../cli/render/output.js';

export function registerConfig(program: Command, io: IO): void {
  const config = program.command('config').description('inspect the resolved configuration');
  config
    .command('show')
    .description('print the resolved config of an environment, each value with its source (secrets masked)')
    .action(
      action(io, async (ctx) => {
        const loaded = await ctx.loadConfig();
        const { runConfigShow } = await import('./run-config-show.js');
        const result = runConfigShow(loaded.config, loaded.environments);
        if (ctx.globals.json) return printJson(ctx.io, result);
        note(ctx.io, `environment: ${result.env}   config file: ${result.configFile ?? '(none: built-in defaults)'}`);
        await printTable(ctx.io, ['key', 'value', 'source'], result.values.map((r) => [r.key, r.value, r.origin]));
      }),
    );
}
