import type { Command } from 'commander';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/program.js';
import { finishRun } from '../../cli/render/run-result.js';

interface RollbackFlags {
  tier?: string[];
  run?: string;
  dryRun?: boolean;
  yes?: boolean;
}

export function registerRollback(program: Command, io: IO): void {
  program
    .command('rollback')
    .description('undo a deploy, fastest tier first: toggle (router off at runtime), code, purge, migrations, restore')
    .option('--tier <tier>', 'toggle | code | purge | migrations | restore (repeatable or comma-separated; default toggle)', (v: string, p: string[] = []) => [...p, v])
    .option('--run <run>', 'the deploy run to undo (default: the latest deploy of the environment)')
    .option('--dry-run', 'print what each tier would do and change nothing')
    .option('-y, --yes', 'do not ask for confirmation (typed in protected environments)')
    .addHelpText('after', '\nTiers run in this order whatever the flags say: toggle → code → purge → migrations → restore.\nExit codes: 0 rolled back, 1 a tier failed, 2 usage (nothing changed), 4 another run holds the lock, 130 cancelled.')
    .action(
      action<RollbackFlags>(io, async (ctx, opts) => {
        const { parseTiers, runRollback } = await import('./run-rollback.js');
        const tiers = parseTiers(opts.tier);
        const { config } = await ctx.loadConfig();
        const result = await runRollback({ config, io: ctx.io, cwd: ctx.io.cwd, tiers, run: opts.run, dryRun: Boolean(opts.dryRun), yes: Boolean(opts.yes) });
        await finishRun(ctx, result, 'rollback');
      }),
    );
}
