import type { Command } from 'commander';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { outputColumns, printJson, printTable } from '../../cli/render/output.js';

export function registerChecklist(program: Command, io: IO): void {
  const checklist = program.command('checklist').description('the deployment checklist as code (checklists/<env>.yaml)');
  checklist
    .command('show')
    .description('list the checklist\'s phases and items (check, step, manual, sign-off)')
    .option('--checklist <file>', 'a checklist file instead of checklists/<env>.yaml')
    .action(
      action<{ checklist?: string }>(io, async (ctx, opts) => {
        const { config } = await ctx.loadConfig({ requireDatabase: false });
        const { runChecklistShow } = await import('./run-checklist.js');
        const list = runChecklistShow({ config, cwd: ctx.io.cwd, file: opts.checklist });
        if (ctx.globals.json) return printJson(ctx.io, list);
        ctx.io.stderr.write(`${list.name}: ${list.file}\n`);
        // Fits the terminal (100 columns without one): the phase on its first item, a group of
        // checks as its ids (they wrap), one line per item where it fits.
        const rows = list.phases.flatMap((p) =>
          p.items.map((i, n) => [n === 0 ? (p.run === 'deploy' ? p.id : `${p.id} (${p.run})`) : '', i.kind, i.id.startsWith('checks:') ? i.id.slice('checks:'.length).split('+').join(' ') : i.id, i.title ?? '']),
        );
        await printTable(ctx.io, ['phase', 'kind', 'item', 'title'], rows, { columns: outputColumns(ctx.io), compact: true, wrap: [0, 2, 3] });
      }),
    );
  checklist
    .command('render')
    .description('the checklist as Markdown, with the status of the latest run')
    .option('--run <run>', 'mark items from this run instead of the latest deploy')
    .option('--checklist <file>', 'a checklist file instead of checklists/<env>.yaml')
    .action(
      action<{ run?: string; checklist?: string }>(io, async (ctx, opts) => {
        const { config } = await ctx.loadConfig({ requireDatabase: false });
        const { runChecklistShow, renderChecklistMarkdown, latestRun } = await import('./run-checklist.js');
        const list = runChecklistShow({ config, cwd: ctx.io.cwd, file: opts.checklist });
        const run = await latestRun(config, opts.run);
        ctx.io.stdout.write(renderChecklistMarkdown(list, run));
      }),
    );
}
