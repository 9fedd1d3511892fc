import type { Command } from 'commander';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/program.js';
import { note, printJson, printTable } from '../../cli/render/output.js';

export function registerStatus(program: Command, io: IO): void {
  program
    .command('status')
    .description('recent deploy, rollback and maintenance runs of an environment: outcome, items, who signed')
    .option('-n, --limit <n>', 'how many runs', '10')
    .option('--run <run>', 'show one run in full (Markdown)')
    .action(
      action<{ limit: string; run?: string }>(io, async (ctx, opts) => {
        const { config } = await ctx.loadConfig();
        const { runStatus } = await import('./run-status.js');
        const result = await runStatus({ config, limit: Math.max(1, Number(opts.limit) || 10), run: opts.run });
        if (ctx.globals.json) return printJson(ctx.io, result);
        if (result.source === 'files') note(ctx.io, `(database unreachable: showing this machine's journal files — ${result.note})`);
        if (opts.run && result.runs[0]) {
          const { renderRunSummary } = await import('../../runbook/render.js');
          const { rollbackPlanFor } = await import('../../runbook/rollback-plan.js');
          const run = result.runs[0];
          ctx.io.stdout.write(renderRunSummary(run, run.kind === 'deploy' && run.status !== 'succeeded' ? rollbackPlanFor(run) : []));
          return;
        }
        if (result.runs.length === 0) return note(ctx.io, `no runs recorded for ${config.name} yet (run \`routergpt deploy --env ${config.name} --dry-run\` to see the plan)`);
        await printTable(
          ctx.io,
          ['run', 'kind', 'status', 'started', 'by', 'items', 'sign-off'],
          result.runs.map((r) => {
            const done = r.items.filter((i) => i.state === 'done' || i.state === 'skipped').length;
            const failed = r.items.find((i) => i.state === 'failed');
            return [r.id, r.kind + (r.target ? ` of ${r.target}` : ''), r.status + (failed ? ` at ${failed.id}` : ''), r.startedAt.replace('T', ' ').slice(0, 19), r.startedBy, `${done}/${r.items.length}`, r.signoff ? `${r.signoff.deployedBy}${r.signoff.approver ? ` / ${r.signoff.approver}` : ''}` : '—'];
          }),
        );
      }),
    );
}
