import type { Command } from 'commander';
import { action } from '../../cli/action.js';
import { positiveInt } from '../../cli/flags.js';
import type { IO } from '../../cli/io.js';
import { note, outputColumns } from '../../cli/render/output.js';
import { parseDuration } from '../../config/duration.js';
import { ChecksFailedError, ExitCode, UsageError } from '../../errors.js';
import { didYouMean } from '../../lib/nearest.js';

interface WatchFlags {
  for?: string;
  interval?: string;
  onFail: string;
  strict?: boolean;
  minRequests?: string;
  baseUrl?: string;
  reporter?: string[];
}

const ON_FAIL = ['toggle', 'stop', 'pause'] as const;

export function registerWatch(program: Command, io: IO): void {
  program
    .command('watch')
    .description('watch the release under live traffic: every interval, /health and per route requests, error rate, p50/p95, 429 rate and conversion against the previous release (else a week earlier) and the checklist\'s budgets; a fail ends it (docs/metrics.md#watch-verdicts)')
    .option('--for <duration>', 'how long to watch (default: watch.for, 15m)')
    .option('--interval <duration>', 'how often to evaluate the window so far (default: watch.interval, 1m; at most --for)')
    .option('--on-fail <action>', 'toggle (switch the router off at once, journaled as a rollback run of the latest deploy) | stop (only fail) | pause (ask a person; without a terminal: stop)', 'stop')
    .option('--strict', 'exit 3 when a verdict warns or is inconclusive')
    .option('--min-requests <n>', 'fewer requests than this on a route: inconclusive (default: watch.min_requests, 20)')
    .option('--base-url <url>', 'the API to watch (default: PUBLIC_API_BASE, else a running `routergpt serve`)')
    .option('--reporter <name[=file]>', 'human, json, markdown (repeatable; NAME=FILE writes a file; --json is --reporter json)', (v: string, p: string[] = []) => [...p, v])
    .addHelpText('after', '\nExit codes: 0 every verdict passed, warned or was inconclusive, 1 a verdict failed, 2 usage (nothing was\nchanged), 3 a warning or an inconclusive verdict under --strict, 130 cancelled.')
    .action(
      action<WatchFlags>(io, async (ctx, opts) => {
        if (!(ON_FAIL as readonly string[]).includes(opts.onFail)) throw new UsageError(`Unknown --on-fail "${opts.onFail}"${didYouMean(opts.onFail, ON_FAIL) || '.'}`, `Use --on-fail ${ON_FAIL.join('|')}.`);
        const forMs = opts.for !== undefined ? parseDuration(opts.for, '--for') : undefined;
        const intervalMs = opts.interval !== undefined ? parseDuration(opts.interval, '--interval') : undefined;
        if (forMs === 0) throw new UsageError('--for 0 watches nothing.', 'Give a length, e.g. --for 15m.');
        if (intervalMs === 0) throw new UsageError('--interval 0 would never wait.', 'Give an interval, e.g. --interval 1m.');
        if (forMs !== undefined && intervalMs !== undefined && intervalMs > forMs) throw new UsageError(`--interval ${opts.interval} is longer than --for ${opts.for}.`, `Use an interval at most as long as the watch, e.g. --for ${opts.for} --interval ${opts.for}.`);
        const minRequests = opts.minRequests !== undefined ? positiveInt('--min-requests', opts.minRequests, 20) : undefined;
        const { WATCH_REPORTERS, renderWatch, liveView, windowLines } = await import('../../report/watch.js');
        const { parseReporterOptions } = await import('../../report/reporter-options.js');
        const reporters = parseReporterOptions(opts.reporter, Boolean(ctx.globals.json), WATCH_REPORTERS);
        const { config } = await ctx.loadConfig();
        const base = config.watch.value;
        const watchFor = forMs ?? base.forMs;
        // Only --for given, shorter than the configured interval: one window at its end.
        const interval = intervalMs ?? Math.min(base.intervalMs, watchFor);
        if (interval > watchFor) throw new UsageError(`--interval ${opts.interval} is longer than the watch (${config.watch.origin}: ${watchFor / 1000} s).`, 'Use an interval at most as long as the watch, or pass --for.');
        if (opts.baseUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(opts.baseUrl)) throw new UsageError(`--base-url ${JSON.stringify(opts.baseUrl)} is not an http(s) URL.`, 'Use e.g. --base-url https://api.example.com.');
        let apiBase = opts.baseUrl?.replace(/\/+$/, '') ?? config.publicApiBase.value;
        if (!apiBase) {
          const { readLiveServeRecord } = await import('../../server/serve-record.js');
          const serving = readLiveServeRecord(config);
          if (serving) {
            apiBase = serving.url;
            note(ctx.io, `(watching the API that \`routergpt serve\` (pid ${serving.pid}) runs at ${serving.url})`);
          }
        }
        if (!apiBase) throw new UsageError(`There is no API to watch on ${config.name}: PUBLIC_API_BASE is not set and no \`routergpt serve\` is running.`, 'Pass --base-url URL, or set PUBLIC_API_BASE (public_api_base in routergpt.config.yaml).');
        const { canPrompt, terminalPrompter } = await import('../../cli/prompter.js');
        const prompter = opts.onFail === 'pause' && canPrompt(ctx.io) ? terminalPrompter(ctx.io) : undefined;
        const columns = outputColumns(ctx.io);
        // A frame redrawn per interval on a terminal; plain lines elsewhere (CI logs, pipes). Both on stderr.
        const live = ctx.io.stderrIsTTY && !prompter ? liveView(ctx.io.stderr, { color: ctx.io.color, columns }) : undefined;
        const { runWatch } = await import('./run-watch.js');
        const report = await runWatch({
          config,
          io: ctx.io,
          cwd: ctx.io.cwd,
          apiBase,
          settings: { ...base, forMs: watchFor, intervalMs: interval, ...(minRequests !== undefined ? { minRequests } : {}) },
          onFail: opts.onFail as (typeof ON_FAIL)[number],
          strict: Boolean(opts.strict),
          ...(ctx.globals.as !== undefined ? { as: ctx.globals.as } : {}),
          ...(prompter ? { prompter } : {}),
          onWindow: live ?? ((window, r) => {
            for (const line of windowLines(r, window)) ctx.io.stderr.write(`${line}\n`);
          }),
        });
        const { writeReports } = await import('../../report/write-reports.js');
        const written = await writeReports(reporters, (spec, color) => renderWatch(report, spec.name, { color, columns }), ctx.io);
        for (const file of written) note(ctx.io, `wrote ${file}`);
        const { watchExitCode } = await import('../../runbook/watch/watch-loop.js');
        const code = watchExitCode(report);
        if (code === ExitCode.failed) throw new ChecksFailedError('the watch failed');
        if (code === ExitCode.strictWarnings) throw new ChecksFailedError(`the watch ended ${report.status} (--strict)`, ExitCode.strictWarnings);
      }),
    );
}
