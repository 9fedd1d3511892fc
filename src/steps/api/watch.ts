import { fail, pass, warn } from '../../checks/define-check.js';
import { CancelledError, ConfigError, OperationError } from '../../errors.js';
import { windowLines } from '../../report/watch.js';
import { healthReader } from '../../runbook/watch/health.js';
import { failHandler, failures } from '../../runbook/watch/on-fail.js';
import type { WatchReport } from '../../runbook/watch/types.js';
import { abortableSleep, ON_FAIL, watchRelease, windowCount, type OnFail } from '../../runbook/watch/watch-loop.js';
import { defineStep, type StepContext } from '../define-step.js';
import { durationParam, stringParam } from '../db/params.js';

const ID = 'api.watch';

function settingsOf(ctx: StepContext) {
  const base = ctx.config.watch.value;
  const forMs = durationParam(ID, ctx.params, 'for') ?? base.forMs;
  const intervalMs = durationParam(ID, ctx.params, 'interval') ?? base.intervalMs;
  if (intervalMs === 0 || forMs === 0 || intervalMs > forMs) throw new ConfigError(`Step ${ID}: the interval (${intervalMs} ms) must be longer than 0 and at most the watch's length (${forMs} ms).`, 'Fix the step\'s parameters in the checklist (e.g. for: 15m, interval: 1m) or watch.for / watch.interval in routergpt.config.yaml.');
  const onFail = (stringParam(ID, ctx.params, 'on_fail') ?? 'toggle') as OnFail;
  if (!ON_FAIL.includes(onFail)) throw new ConfigError(`Step ${ID}: parameter "on_fail" is ${JSON.stringify(onFail)}; it must be ${ON_FAIL.join(', ')}.`, 'Fix the step\'s parameters in the checklist.');
  return { settings: { ...base, forMs, intervalMs }, onFail };
}

/** A journaled watch still to be continued: a resumed run goes on after its last window; a failed or finished one starts afresh. */
function resumable(ctx: StepContext): WatchReport | undefined {
  const report = ctx.resumed?.report as WatchReport | undefined;
  return report && Array.isArray(report.windows) && report.status !== 'fail' && !report.completed ? report : undefined;
}

/**
 * The post-deployment watch as a step (`routergpt watch` in a deploy): the release under live
 * traffic against its baseline and the checklist's budgets. It changes nothing and runs without
 * the run lock; each window is checkpointed, so a resumed run continues after the last one; the
 * WatchReport is the item's journaled `outputs.report` (what the HTML report renders). A fail
 * switches the router off (`on_fail: toggle`, the default) as a rollback run linked from this deploy.
 */
export const apiWatchStep = defineStep({
  id: ID,
  params: ['for', 'interval', 'on_fail'],
  title: 'Watch the release under live traffic (error rate, latency, 429s, conversion) against its baseline',
  changesData: false,
  needs: ['api', 'db'],
  runsUnlocked: true,
  async plan(ctx) {
    const { settings, onFail } = settingsOf(ctx);
    const l = settings.limits;
    return [
      `Every ${settings.intervalMs / 1000} s for ${settings.forMs / 1000} s (${windowCount(settings)} windows): ${ctx.apiBase ?? '(PUBLIC_API_BASE not set)'}/health, and per route requests, error rate, p50/p95, 429 rate, conversion from router_analytics and router_refusals`,
      `Against the previous release's first window (else a week earlier) and the limits: p95 search ${l.p95_ms.search ?? '—'} ms, delegate ${l.p95_ms.delegate ?? '—'} ms, chat ${l.p95_ms.chat ?? '—'} ms; error rate ${l.error_rate * 100} %; below ${settings.minRequests} requests: inconclusive`,
      `On a fail: ${onFail === 'toggle' ? 'switch the router off at once (break-glass toggle, a rollback run linked from this deploy)' : onFail === 'stop' ? 'fail only' : 'ask whether to switch the router off'}; runs without the run lock`,
    ];
  },
  async run(ctx) {
    if (!ctx.apiBase) throw new OperationError('There is no API to watch: PUBLIC_API_BASE is not set for this environment.', 'Set PUBLIC_API_BASE (or public_api_base in routergpt.config.yaml).');
    const { settings, onFail } = settingsOf(ctx);
    const resumed = resumable(ctx);
    if (resumed) ctx.log(`resuming the watch started ${resumed.startedAt} after window ${resumed.windows.length}`);
    const report = await watchRelease({
      db: ctx.db.pool,
      env: ctx.config.name,
      apiBase: ctx.apiBase,
      settings,
      strict: false,
      onFail,
      readHealth: await healthReader(ctx.apiBase, ctx.config, ctx.db.pool),
      now: ctx.now,
      sleep: abortableSleep(ctx.signal),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(resumed ? { resumed } : {}),
      checkpoint: (r) => ctx.checkpoint({ report: r }),
      onWindow: (window, r) => windowLines(r, window).forEach((line) => ctx.log(line)),
      handleFail: failHandler({
        onFail,
        toggle: async () => {
          if (!ctx.breakGlassToggle) throw new OperationError('this run cannot switch the router off', 'Run `routergpt rollback --tier toggle`.');
          return ctx.breakGlassToggle();
        },
        ask: async (question) => {
          try {
            await ctx.confirm(question);
            return true;
          } catch (error) {
            if (error instanceof CancelledError) return false;
            return undefined;
          }
        },
      }),
    });
    const summary = `${report.status}${report.completed ? '' : ` after window ${report.windows.length} of ${windowCount(report)}`}; baseline: ${report.baseline.kind}${report.action ? `; ${report.action.taken === 'toggled' ? `router switched off (rollback run ${report.action.rollbackRunId ?? '—'})` : report.action.taken}` : ''}`;
    const details = report.windows.length ? windowLines(report, report.windows.at(-1)!).map((l) => l.trim()) : [];
    return { status: report.status === 'pass' || report.status === 'fail' ? 'done' : 'warn', summary, details: [report.baseline.reason, ...details, ...(report.action ? [`on fail: ${report.action.reason}`] : [])], outputs: { report } };
  },
  async verify(_ctx, result) {
    const report = result.outputs?.report as WatchReport | undefined;
    if (!report) return fail('the watch recorded no report');
    if (report.status === 'fail') return fail(`the watch failed: ${failures(report).join('; ')}`, { hint: report.action?.taken === 'toggled' ? 'The router is off. Find the cause, then `routergpt router enable`, or roll back further: `routergpt rollback --tier code`.' : 'Roll back: `routergpt rollback --tier toggle` (seconds), or `--tier code`.' });
    if (report.status === 'pass') return pass('every verdict passed');
    return warn(`the watch ended ${report.status}`);
  },
});

export default apiWatchStep;
