import type { Command } from 'commander';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { printJson } from '../../cli/render/output.js';

/** The runtime feature toggle on its own: `rollback --tier toggle` turns it off; this turns it back on. */
export function registerRouter(program: Command, io: IO): void {
  const router = program.command('router').description('the runtime feature toggle the API reads within a second (no restart)');
  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    router
      .command(name)
      .description(`${name} the router routes (/router/*, /chat) at runtime`)
      .option('-y, --yes', 'do not ask for confirmation')
      .action(
        action<{ yes?: boolean }>(io, async (ctx, opts) => {
          const { config } = await ctx.loadConfig();
          if (config.protected.value) {
            const { confirmOrThrow } = await import('../../cli/confirm.js');
            await confirmOrThrow({ io: ctx.io, yes: Boolean(opts.yes), typed: config.name, message: `${enabled ? 'Enable' : 'Disable'} the router on ${config.name}?` });
          }
          const { setRouterFlag } = await import('./run-router.js');
          const result = await setRouterFlag(config, enabled);
          if (ctx.globals.json) return printJson(ctx.io, result);
          ctx.io.stdout.write(`${config.name}: router ${result.enabled ? 'enabled' : 'disabled'} (was ${result.previous === null ? 'unset' : result.previous ? 'enabled' : 'disabled'}); the API follows within ~1 s\n`);
        }),
      );
  }
  router
    .command('status')
    .description('show the runtime flag (and who changed it last)')
    .action(
      action(io, async (ctx) => {
        const { config } = await ctx.loadConfig();
        const { readRouterFlagOf } = await import('./run-router.js');
        const result = await readRouterFlagOf(config);
        if (ctx.globals.json) return printJson(ctx.io, result);
        ctx.io.stdout.write(`${config.name}: router ${result.enabled === false ? 'DISABLED' : 'enabled'}${result.updatedBy ? ` (last changed by ${result.updatedBy} at ${result.updatedAt})` : ''}; ENABLE_ROUTER_GPT=${String(config.enableRouterGpt.value)} (${config.enableRouterGpt.origin})\n`);
      }),
    );
}
