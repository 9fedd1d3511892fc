import type { Command } from 'commander';
import { action } from '../../cli/action.js';
import type { IO } from '../../cli/io.js';
import { note, outputColumns } from '../../cli/render/output.js';
import { parseDuration, parseSince } from '../../config/duration.js';
import { isMetricId, METRIC_IDS, type MetricId } from '../../db/analytics/metric-catalogue.js';
import { ChecksFailedError, UsageError } from '../../errors.js';
import { didYouMean } from '../../lib/nearest.js';
import { plural } from '../../lib/plural.js';

interface MetricsFlags {
  since: string;
  until?: string;
  metric?: string[];
  funnelWindow: string;
  reporter?: string[];
}

/** `--metric a,b --metric c` → the ids, in the checklist's order; an unknown name is a usage error naming the known ones. */
function parseMetricFilter(values: string[] | undefined): MetricId[] | undefined {
  const names = values?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (!names || names.length === 0) return undefined;
  for (const name of names) {
    if (!isMetricId(name)) throw new UsageError(`Unknown metric "${name}"${didYouMean(name, METRIC_IDS) || '.'}`, `Use one of ${METRIC_IDS.join(', ')} (repeat --metric or separate with commas).`);
  }
  return METRIC_IDS.filter((id) => names.includes(id));
}

export function registerMetrics(program: Command, io: IO): void {
  program
    .command('metrics')
    .description("the checklist's Success Metrics over a window — usage rate, search → booking conversion, average response time, error rate, satisfaction — each with target, actual, sample and verdict; exit 1 when a target is missed (real traffic only; docs/metrics.md)")
    .option('--since <duration|date>', 'start of the window: a duration back from now (30d, 24h) or an ISO date', '30d')
    .option('--until <duration|date>', 'end of the window (default: now): a duration back from now or an ISO date')
    .option('--metric <id>', `only this metric: ${METRIC_IDS.join(', ')} (repeatable)`, (v: string, p: string[] = []) => [...p, v])
    .option('--funnel-window <duration>', 'search → booking conversion: how long after a search (and after its delegation) the next stage still counts', '24h')
    .option('--reporter <name[=file]>', 'human, json, markdown, junit (repeatable; NAME=FILE writes a file)', (v: string, p: string[] = []) => [...p, v])
    .action(
      action<MetricsFlags>(io, async (ctx, opts) => {
        const { METRICS_REPORTERS, renderMetrics } = await import('../../report/metrics.js');
        const { parseReporterOptions } = await import('../../report/reporter-options.js');
        const reporters = parseReporterOptions(opts.reporter, Boolean(ctx.globals.json), METRICS_REPORTERS);
        const now = new Date();
        const since = parseSince(opts.since, now);
        if (since.getTime() >= now.getTime()) throw new UsageError(`--since ${JSON.stringify(opts.since)} is not in the past.`, 'Use a duration back from now (e.g. --since 30d) or an earlier date.');
        const until = opts.until === undefined ? now : parseSince(opts.until, now, '--until');
        if (until.getTime() <= since.getTime()) throw new UsageError(`--until ${JSON.stringify(opts.until)} is not after --since ${JSON.stringify(opts.since)}.`, 'Give an end later than the start (e.g. --since 60d --until 30d).');
        const metrics = parseMetricFilter(opts.metric);
        const funnelWindowHours = parseDuration(opts.funnelWindow, '--funnel-window') / 3_600_000;
        const { config } = await ctx.loadConfig();
        const { runMetrics } = await import('./run-metrics.js');
        const report = await runMetrics({ config, since, until, funnelWindowHours, ...(metrics ? { metrics } : {}), onNote: (line) => note(ctx.io, `routergpt metrics: ${line}`) });
        const { writeReports } = await import('../../report/write-reports.js');
        const columns = outputColumns(ctx.io);
        const written = await writeReports(reporters, (spec, color) => renderMetrics(report, spec.name, { color, columns }), ctx.io);
        for (const file of written) note(ctx.io, `wrote ${file}`);
        if (report.verdict === 'fail') throw new ChecksFailedError(`${plural(report.counts.fail, 'success metric target')} missed`);
      }),
    );
}
