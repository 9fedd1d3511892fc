import type { Command } from 'commander';
import { action } from '../../cli/action.js';
import { positiveInt } from '../../cli/flags.js';
import type { IO } from '../../cli/io.js';
import { note } from '../../cli/render/output.js';
import { parseDuration, parseSince } from '../../config/duration.js';
import { UsageError } from '../../errors.js';

interface ReportFlags {
  html?: string;
  reporter?: string[];
  run?: string;
  since: string;
  funnelWindow: string;
  shops: string;
}

export const REPORT_REPORTERS = ['html'] as const;

export function registerReport(program: Command, io: IO): void {
  program
    .command('report')
    .description('one self-contained HTML file after a deploy: the run (items, timings, who signed and approved), the watch verdicts, the analytics charts and the success metrics — no network needed to view it')
    .option('--html <file>', 'write the HTML report to FILE (short for --reporter html=FILE)')
    .option('--reporter <name[=file]>', 'html (repeatable; html=FILE writes a file, html alone prints to stdout)', (v: string, p: string[] = []) => [...p, v])
    .option('--run <run>', "the run to report (default: the environment's latest deploy run)")
    .option('--since <duration|date>', 'start of the analytics and metrics window: a duration back from now (7d, 24h) or an ISO date', '7d')
    .option('--funnel-window <duration>', 'how long after a search (and after a delegation) the next funnel stage still counts', '24h')
    .option('--shops <n>', 'how many popular shops to chart', '20')
    .action(
      action<ReportFlags>(io, async (ctx, opts) => {
        const { parseReporterOptions } = await import('../../report/reporter-options.js');
        const flags = [...(opts.html !== undefined ? [`html=${opts.html}`] : []), ...(opts.reporter ?? [])];
        if (flags.length === 0) throw new UsageError('Say where the report goes.', 'Pass --html FILE (e.g. --html report.html), or --reporter html to print it.');
        if (opts.html !== undefined && opts.html.trim() === '') throw new UsageError('--html needs a file name.', 'Pass e.g. --html report.html.');
        const reporters = parseReporterOptions(flags, false, REPORT_REPORTERS);
        const now = new Date();
        const since = parseSince(opts.since, now);
        if (since.getTime() >= now.getTime()) throw new UsageError(`--since ${JSON.stringify(opts.since)} is not in the past.`, 'Use a duration back from now (e.g. --since 7d) or an earlier date.');
        const funnelWindowHours = parseDuration(opts.funnelWindow, '--funnel-window') / 3_600_000;
        const shops = positiveInt('--shops', opts.shops, 20);
        // Every output path is checked before the database is touched: a bad one changes nothing.
        const { reportWriteError, verifyReportTarget } = await import('../../report/report-target.js');
        const flagOf = () => (opts.html !== undefined ? '--html' : '--reporter html');
        for (const spec of reporters) if (spec.file) verifyReportTarget(spec.file, flagOf(), ctx.io.cwd);
        const { config } = await ctx.loadConfig();
        const { runReport } = await import('./run-report.js');
        const model = await runReport({ config, since, now, ...(opts.run !== undefined ? { run: opts.run } : {}), funnelWindowHours, shops });
        const { renderHtmlReport } = await import('../../report/html.js');
        const { writeReports } = await import('../../report/write-reports.js');
        const page = await renderHtmlReport(model);
        let written: string[];
        try {
          written = await writeReports(reporters, () => page, ctx.io);
        } catch (error) {
          throw reportWriteError(reporters.find((r) => r.file)?.file ?? '-', flagOf(), error);
        }
        for (const file of written) note(ctx.io, `wrote ${file}`);
      }),
    );
}
