import type { IO } from '../../cli/io.js';
import type { Prompter } from '../../cli/prompter.js';
import type { EnvironmentConfig, WatchSettings } from '../../config/types.js';
import { openDatabase } from '../../db/connect.js';
import { resolveIdentity } from '../../runbook/identity.js';
import { journalOneStep } from '../../runbook/one-step-run.js';
import { RunRepository } from '../../runbook/runs.js';
import { healthReader } from '../../runbook/watch/health.js';
import { failHandler, failures, latestDeploy, toggleRouterOff } from '../../runbook/watch/on-fail.js';
import type { WatchReport, WatchWindow } from '../../runbook/watch/types.js';
import { abortableSleep, watchRelease, windowCount, type OnFail } from '../../runbook/watch/watch-loop.js';

export interface WatchOptions {
  config: EnvironmentConfig;
  io: IO;
  cwd: string;
  apiBase: string;
  /** Config `watch:` with the flags applied (--for, --interval, --min-requests). */
  settings: WatchSettings;
  onFail: OnFail;
  strict: boolean;
  /** Who switches the router off, for the rollback run (`--as`). */
  as?: string;
  /** Asks for `--on-fail pause`; none: no terminal, pause is stop (said so). */
  prompter?: Prompter;
  onWindow?: (window: WatchWindow, report: WatchReport) => void | Promise<void>;
  now?: () => Date;
}

/** The journaled item's outcome: the verdict as its state, the report as its result data. */
function outcomeOf(report: WatchReport) {
  const state = report.status === 'fail' ? ('failed' as const) : report.status === 'pass' ? ('done' as const) : ('warn' as const);
  const summary = `${report.status}${report.completed ? '' : ` after window ${report.windows.length} of ${windowCount(report)}`}; baseline: ${report.baseline.kind}${report.action ? `; on fail: ${report.action.taken}` : ''}`;
  return { value: report, state, summary, details: [...failures(report), ...(report.action ? [report.action.reason] : [])], outputs: { report } };
}

/**
 * `routergpt watch`: the release under live traffic, interval by interval, until `for` has
 * passed or a verdict fails — journaled as a run of kind `watch` (one item, api.watch, lock-free,
 * each window checkpointed; `routergpt status` lists it). Read-only but for `--on-fail toggle`:
 * the break-glass toggle as a rollback run linked from the environment's newest deploy run.
 */
export async function runWatch(options: WatchOptions): Promise<WatchReport> {
  const { config, io } = options;
  const identity = await resolveIdentity({ flag: options.as, env: io.env, cwd: options.cwd });
  const db = await openDatabase(config, { applicationName: 'routergpt watch', poolSize: 2 });
  try {
    const pending: Array<Promise<void>> = [];
    const spec = { kind: 'watch' as const, env: config.name, stateDir: config.stateDir.value, db: db.pool, itemId: 'api.watch', phase: 'post-deployment', title: 'Watch the release under live traffic against its baseline', command: 'watch', startedBy: identity.id, notify: config.notify.value, onWarning: (line: string) => io.stderr.write(`${line}\n`), ...(options.now ? { now: options.now } : {}) };
    return await journalOneStep(spec, async (_runId, checkpoint) =>
      outcomeOf(
        await watchRelease({
          db: db.pool,
          env: config.name,
          apiBase: options.apiBase,
          settings: options.settings,
          strict: options.strict,
          onFail: options.onFail,
          readHealth: await healthReader(options.apiBase, config, db.pool),
          now: options.now ?? (() => new Date()),
          sleep: abortableSleep(io.signal),
          ...(io.signal ? { signal: io.signal } : {}),
          checkpoint: (report) => checkpoint({ report }),
          onWindow: (window, report) => {
            const drawn = options.onWindow?.(window, report);
            if (drawn) pending.push(drawn);
          },
          handleFail: async (report) => {
            await Promise.all(pending);
            const handle = failHandler({
              onFail: options.onFail,
              toggle: async () => {
                const deploy = latestDeploy(await new RunRepository(config, db.pool, db.kind === 'embedded').list());
                return toggleRouterOff({ config, io, cwd: options.cwd, ...(deploy ? { deployRunId: deploy.id } : {}), as: identity.id, ...(report.release ? { release: report.release } : {}) });
              },
              ...(options.prompter ? { ask: (question: string) => options.prompter!.confirm(question, { default: true }) } : {}),
            });
            return handle(report);
          },
        }),
      ),
    );
  } finally {
    await db.close();
  }
}
