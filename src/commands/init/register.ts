import type { Command } from 'commander';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { note, printJson } from '../../cli/render/output.js';

export function registerInit(program: Command, io: IO): void {
  program
    .command('init')
    .description('write routergpt.config.yaml (local, staging, prod) and .env.example, and git-ignore .env and .routergpt/ (state, journals, backups)')
    .option('--force', 'overwrite existing files')
    .action(
      action<{ force?: boolean }>(io, async (ctx, opts) => {
        const { runInit } = await import('./run-init.js');
        const result = runInit({ dir: ctx.io.cwd, force: Boolean(opts.force) });
        if (ctx.globals.json) return printJson(ctx.io, result);
        for (const f of result.written) note(ctx.io, `wrote ${f}`);
        for (const f of result.kept) note(ctx.io, `kept ${f} (exists; --force to overwrite)`);
        for (const w of result.warnings) note(ctx.io, `warning: ${w}`);
        note(ctx.io, result.gitignore === 'unchanged' ? '.gitignore already ignores everything routergpt writes here (.env, .routergpt/, backups)' : `.gitignore ${result.gitignore}: now ignores ${result.ignored.join(', ')}`);
        note(ctx.io, 'Next: edit routergpt.config.yaml, copy .env.example to .env, then run `routergpt config show --env prod`.');
      }),
    );
}
