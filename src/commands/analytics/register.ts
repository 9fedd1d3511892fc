import type { Command } from 'commander';
import { action } from '../../cli/action.js';
import { positiveInt } from '../../cli/flags.js';
import type { IO } from '../../cli/io.js';
import { note, outputColumns } from '../../cli/render/output.js';
import { parseDuration, parseSince } from '../../config/duration.js';
import { UsageError } from '../../errors.js';

interface AnalyticsFlags {
  since: string;
  funnelWindow: string;
  shops: string;
  reporter?: string[];
}

export function registerAnalytics(program: Command, io: IO): void {
  program
    .command('analytics')
    .description("the checklist's analytics review over a window: daily activity with a chart, the ordered search → delegate → booking funnel, popular shops, the last hour, time between events (real traffic only)")
    .option('--since <duration|date>', 'start of the window: a duration back from now (7d, 24h) or an ISO date', '7d')
    .option('--funnel-window <duration>', 'how long after a search (and after a delegation) the next funnel stage still counts', '24h')
    .option('--shops <n>', 'how many popular shops to list', '20')
    .option('--reporter <name[=file]>', 'human, json, markdown (repeatable; NAME=FILE writes a file)', (v: string, p: string[] = []) => [...p, v])
    .action(
      action<AnalyticsFlags>(io, async (ctx, opts) => {
        const { ANALYTICS_REPORTERS, renderAnalytics } = await import('../../report/analytics.js');
        const { parseReporterOptions } = await import('../../report/reporter-options.js');
        const reporters = parseReporterOptions(opts.reporter, Boolean(ctx.globals.json), ANALYTICS_REPORTERS);
        const now = new Date();
        const since = parseSince(opts.since, now);
        if (since.getTime() >= now.getTime()) throw new UsageError(`--since ${JSON.stringify(opts.since)} is not in the past.`, 'Use a duration back from now (e.g. --since 7d) or an earlier date.');
        const funnelWindowHours = parseDuration(opts.funnelWindow, '--funnel-window') / 3_600_000;
        const shops = positiveInt('--shops', opts.shops, 20);
        const { config } = await ctx.loadConfig();
        const { runAnalytics } = await import('./run-analytics.js');
        const report = await runAnalytics({ config, since, now, funnelWindowHours, shops, onNote: (line) => note(ctx.io, `routergpt analytics: ${line}`) });
        const { writeReports } = await import('../../report/write-reports.js');
        const columns = outputColumns(ctx.io);
        const written = await writeReports(reporters, (spec, color) => renderAnalytics(report, spec.name, { color, columns }), ctx.io);
        for (const file of written) note(ctx.io, `wrote ${file}`);
      }),
    );
}
