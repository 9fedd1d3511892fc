import type { Command } from 'commander';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { collectReporter, finishRun, verifyReporters } from '../../cli/render/run-result.js';

interface RollbackFlags {
  tier?: string[];
  run?: string;
  dryRun?: boolean;
  yes?: boolean;
  reporter?: string[];
  verify?: boolean;
  keepWrites?: boolean;
  backup?: string;
  release?: string;
}

export function registerRollback(program: Command, io: IO): void {
  program
    .command('rollback')
    .description('undo a deploy from its journal: toggle (router off at runtime, break-glass), then code, purge, geocode, migrations, restore')
    .option('--tier <tier>', 'toggle | code | purge | geocode | migrations | restore (repeatable or comma-separated; default toggle)', (v: string, p: string[] = []) => [...p, v])
    .option('--run <run>', 'the deploy run to undo (default: the newest deploy that changed something)')
    .option('--dry-run', 'print what each tier would do and change nothing')
    .option('--reporter <name[=file]>', 'human | json | junit | github | markdown | html, to stdout or FILE (repeatable; --json is --reporter json)', collectReporter)
    .option('-y, --yes', 'do not ask for confirmation (typed in protected environments)')
    .option('--keep-writes', 'with --tier restore: re-apply the bookings and chat rows written since the backup (reports any it cannot keep)')
    .option('--backup <file>', 'with --tier restore: restore this backup (the dump or its .manifest.json; see `routergpt backup --list`) instead of the deploy\'s own; checked first (exit 2 if missing, of another environment, or not verified)')
    .option('--release <id>', 'the release recorded for this rollback run (default: ROUTERGPT_RELEASE, else `git describe --always --dirty`); tier code goes back to the release of the last deploy that succeeded before the target (ROUTERGPT_ROLLBACK_RELEASE)')
    .option('--no-verify', 'skip the verification after the rollback (health, schema matches the code, smoke)')
    .addHelpText('after', '\nThe toggle runs first and takes no run lock (it works while a deploy runs); the other tiers undo the\ntarget deploy\'s steps in reverse step order, after a safety backup when data is replaced.\nExit codes: 0 rolled back, 1 a tier failed, 2 usage (nothing changed), 4 another run holds the lock, 130 cancelled.')
    .action(
      action<RollbackFlags>(io, async (ctx, opts) => {
        const { parseTiers, runRollback } = await import('./run-rollback.js');
        const tiers = parseTiers(opts.tier);
        await verifyReporters(ctx, opts.reporter);
        const { config } = await ctx.loadConfig();
        const result = await runRollback({ config, io: ctx.io, cwd: ctx.io.cwd, tiers, run: opts.run, dryRun: Boolean(opts.dryRun), yes: Boolean(opts.yes), verify: opts.verify !== false, keepWrites: Boolean(opts.keepWrites), ...(opts.backup ? { backup: opts.backup } : {}), ...(ctx.globals.as !== undefined ? { as: ctx.globals.as } : {}), release: opts.release });
        await finishRun(ctx, result, 'rollback', [], opts.reporter);
      }),
    );
}
