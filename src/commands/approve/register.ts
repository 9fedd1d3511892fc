import type { Command } from 'commander';
import { plural } from '../../lib/plural.js';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { note, printJson } from '../../cli/render/output.js';

export function registerApprove(program: Command, io: IO): void {
  program
    .command('approve')
    .description('approve a deploy that waits for approval (waiting-approval), as --as ID: it continues once enough people other than the deployer have approved')
    .argument('<run>', 'the run id (`routergpt status` lists it)')
    .option('--note <text>', 'a note recorded with the approval')
    .addHelpText('after', '\nExit codes: 0 recorded (or already recorded: nothing changed), 2 an unknown run, a run not waiting for approval, or the deployer approving their own run.\nDocs: docs/runbook.md#approvals')
    .action(
      action<{ note?: string }>(io, async (ctx, opts, command) => {
        const { config } = await ctx.loadConfig();
        const { runApprove } = await import('./run-approve.js');
        const result = await runApprove({ config, io: ctx.io, cwd: ctx.io.cwd, run: String(command.args[0]), ...(ctx.globals.as !== undefined ? { as: ctx.globals.as } : {}), ...(opts.note ? { note: opts.note } : {}) });
        if (ctx.globals.json) return printJson(ctx.io, result);
        const count = `${result.approvals} of ${plural(result.required, 'approval')}`;
        if (!result.recorded) return note(ctx.io, `${result.by} had already approved ${result.item} of ${result.run}; nothing recorded again (${count})`);
        note(ctx.io, `approved ${result.item} of ${result.run} as ${result.by}${result.identitySource === 'os' ? ' (the OS account: pass --as ID to approve as yourself)' : ''} — ${count}; the waiting deploy continues ${result.approvals >= result.required ? 'within seconds' : 'when the rest arrive'}`);
      }),
    );
}
