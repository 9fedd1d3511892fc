import type { Command } from 'commander';
import type { IO } from '../../cli/io.js';
import { action } from '../../cli/action.js';
import { positiveInt } from '../../cli/flags.js';
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
        const result = await runStatus({ config, limit: positiveInt('--limit', opts.limit, 10), run: opts.run });
        // JSON: each run is its record plus what is derived at read time (state, stoppedAt, rolledBackBy).
        if (ctx.globals.json) return printJson(ctx.io, { ...result, runs: result.runs.map(({ record, ...derived }) => ({ ...record, ...derived })) });
        if (result.source === 'files') note(ctx.io, `(database unreachable: showing this machine's journal files — ${result.note})`);
        if (opts.run && result.runs[0]) {
          const { renderRunSummary } = await import('../../runbook/render.js');
          const { rollbackCommandsFor } = await import('../../runbook/rollback.js');
          const { record } = result.runs[0];
          ctx.io.stdout.write(renderRunSummary(record, record.kind === 'deploy' && record.status !== 'succeeded' ? rollbackCommandsFor(record) : []));
          return;
        }
        // Which host runs which release (deploy.hosts with a url, each asked on its own /health).
        if (result.hosts.length) await printTable(ctx.io, ['host', 'url', 'release', 'health'], result.hosts.map((h) => [h.name, h.url, h.release ?? '—', h.said]));
        if (result.runs.length === 0) return note(ctx.io, `no runs recorded for ${config.name} yet (run \`routergpt deploy --env ${config.name} --dry-run\` to see the plan)`);
        // Loaded here, not at start-up: runs.js reaches the run lock and with it pg (STYLE.md §15).
        const [{ describeState, resumeHint }, { approversOfRun }] = await Promise.all([import('../../runbook/runs.js'), import('../../runbook/journal.js')]);
        await printTable(
          ctx.io,
          ['run', 'kind', 'status', 'release', 'started', 'by', 'items', 'sign-off'],
          result.runs.map((view) => {
            const r = view.record;
            const done = r.items.filter((i) => i.state === 'done' || i.state === 'warn' || i.state === 'skipped').length;
            const kind = r.kind === 'rollback' ? `rollback ${(r.tiers ?? []).join(',')}${r.target ? ` of ${r.target}` : ''}` : r.kind;
            return [r.id, kind, describeState(view), r.release ?? '—', r.startedAt.replace('T', ' ').slice(0, 19), r.startedBy, `${done}/${r.items.length}`, r.signoff ? `${r.signoff.deployedBy}${approversOfRun(r).length ? ` / ${approversOfRun(r).join(', ')}` : ''}` : '—'];
          }),
        );
        const stuck = result.runs.find((v) => v.state === 'interrupted');
        if (stuck) note(ctx.io, `run ${stuck.record.id} was interrupted at ${stuck.stoppedAt ?? 'its start'} (its process is gone) → ${resumeHint(stuck)}`);
      }),
    );
}
