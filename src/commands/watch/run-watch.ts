import type { IO } from '../../cli/io.js';
import type { Prompter } from '../../cli/prompter.js';
import type { EnvironmentConfig, WatchSettings } from '../../config/types.js';
import { openDatabase } from '../../db/connect.js';
import { RunRepository } from '../../runbook/runs.js';
import { healthReader } from '../../runbook/watch/health.js';
import { failHandler, latestDeploy, toggleRouterOff } from '../../runbook/watch/on-fail.js';
import type { WatchReport, WatchWindow } from '../../runbook/watch/types.js';
import { watchRelease, type OnFail } from '../../runbook/watch/watch-loop.js';

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

function sleeper(signal: AbortSignal | undefined) {
  return (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
}

/**
 * `routergpt watch`: the release under live traffic, interval by interval, until `for` has
 * passed or a verdict fails. Read-only but for `--on-fail toggle`: the break-glass toggle as a
 * rollback run linked from the environment's newest deploy run.
 */
export async function runWatch(options: WatchOptions): Promise<WatchReport> {
  const { config, io } = options;
  const db = await openDatabase(config, { applicationName: 'routergpt watch', poolSize: 2 });
  try {
    const pending: Array<Promise<void>> = [];
    return await watchRelease({
      db: db.pool,
      env: config.name,
      apiBase: options.apiBase,
      settings: options.settings,
      strict: options.strict,
      onFail: options.onFail,
      readHealth: await healthReader(options.apiBase, config, db.pool),
      now: options.now ?? (() => new Date()),
      sleep: sleeper(io.signal),
      ...(io.signal ? { signal: io.signal } : {}),
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
            return toggleRouterOff({ config, io, cwd: options.cwd, ...(deploy ? { deployRunId: deploy.id } : {}), ...(options.as !== undefined ? { as: options.as } : {}), ...(report.release ? { release: report.release } : {}) });
          },
          ...(options.prompter ? { ask: (question: string) => options.prompter!.confirm(question, { default: true }) } : {}),
        });
        return handle(report);
      },
    });
  } finally {
    await db.close();
  }
}
