import type { Command } from 'commander';
import { action } from '../../cli/action.js';
import type { IO } from '../../cli/io.js';
import { UsageError } from '../../errors.js';
import { didYouMean } from '../../lib/nearest.js';

export function registerCompletion(program: Command, io: IO): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish) for subcommands, flags and their values')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText('after', `
Install:
  bash  routergpt completion bash > ~/.local/share/bash-completion/completions/routergpt
  zsh   routergpt completion zsh > "\${fpath[1]}/_routergpt"   (then restart the shell)
  fish  routergpt completion fish > ~/.config/fish/completions/routergpt.fish`)
    .action(
      action<Record<string, never>>(io, async (ctx, _opts, command) => {
        const shell = command.args[0] ?? '';
        const { SHELLS, completionScript } = await import('./generate.js');
        if (!(SHELLS as readonly string[]).includes(shell)) {
          throw new UsageError(`Unknown shell "${shell}"${didYouMean(shell, SHELLS) || '.'}`, `Use one of ${SHELLS.join(', ')}: routergpt completion bash.`);
        }
        ctx.io.stdout.write(completionScript(shell as (typeof SHELLS)[number], program));
      }),
    );
}
