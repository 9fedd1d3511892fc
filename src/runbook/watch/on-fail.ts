/**
 * What a failed watch does (`--on-fail`): `toggle` switches the router off at once with the
 * break-glass toggle — the very rollback run `routergpt rollback --tier toggle --run DEPLOY`
 * journals (runbook/rollback-run.ts), linked from the deploy (its `target`; `routergpt status`
 * shows it under the deploy); `stop` only fails; `pause` asks a person whether to toggle, and
 * without anyone to ask is `stop`, saying so.
 */
import type { IO } from '../../cli/io.js';
import type { EnvironmentConfig } from '../../config/types.js';
import type { RunObserver } from '../events.js';
import type { RunRecord } from '../journal.js';
import type { OnFail } from './watch-loop.js';
import type { WatchAction, WatchReport } from './types.js';

export interface ToggleOutcome {
  rollbackRunId?: string;
  /** The rollback run's final status (succeeded, failed…). */
  status: string;
  deployRunId?: string;
}

export interface ToggleRequest {
  config: EnvironmentConfig;
  io: IO;
  cwd: string;
  /** The deploy the rollback run is linked from; none: a rollback run of the toggle alone. */
  deployRunId?: string;
  as?: string;
  release?: string;
  observer?: RunObserver;
}

/** The break-glass toggle as a journaled rollback run (no prompt: `yes`; it takes no run lock). */
export async function toggleRouterOff(request: ToggleRequest): Promise<ToggleOutcome> {
  const { runRollback } = await import('../rollback-run.js');
  const result = await runRollback({
    config: request.config,
    io: request.io,
    cwd: request.cwd,
    tiers: ['toggle'],
    ...(request.deployRunId ? { run: request.deployRunId } : {}),
    dryRun: false,
    yes: true,
    verify: true,
    ...(request.as !== undefined ? { as: request.as } : {}),
    ...(request.release ? { release: request.release } : {}),
    ...(request.observer ? { observer: request.observer } : {}),
  });
  return { ...(result.run ? { rollbackRunId: result.run.id } : {}), status: result.run?.status ?? 'not run', ...(result.target ? { deployRunId: result.target } : {}) };
}

/** The newest deploy run of the environment (what a standalone watch's toggle is linked from). */
export function latestDeploy(runs: RunRecord[]): RunRecord | undefined {
  return runs.filter((r) => r.kind === 'deploy').sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
}

export interface FailHandlerOptions {
  onFail: OnFail;
  toggle: () => Promise<ToggleOutcome>;
  /**
   * Ask a person (for `pause`): true to toggle, false to leave the router on; undefined when
   * nobody can be asked (no terminal).
   */
  ask?: (question: string) => Promise<boolean | undefined>;
}

/** The failing verdicts in a line: "search error_rate: 30 errors (5xx) of 40 requests = 75.00 % > limit 1.00 % …". */
export function failures(report: WatchReport): string[] {
  const last = report.windows.at(-1);
  if (!last) return [];
  return [
    ...(last.health.status === 'fail' ? [`health: ${last.health.reason}`] : []),
    ...last.routes.flatMap((r) => r.verdicts.filter((v) => v.status === 'fail').map((v) => `${r.route} ${v.metric}: ${v.reason}`)),
    ...last.conversion.filter((v) => v.status === 'fail').map((v) => `${v.metric}: ${v.reason}`),
  ];
}

export function failHandler(options: FailHandlerOptions): (report: WatchReport) => Promise<WatchAction> {
  const toggled = async (why: string): Promise<WatchAction> => {
    try {
      const t = await options.toggle();
      const ok = t.status === 'succeeded';
      return {
        onFail: options.onFail,
        taken: 'toggled',
        ...(t.rollbackRunId ? { rollbackRunId: t.rollbackRunId } : {}),
        ...(t.deployRunId ? { deployRunId: t.deployRunId } : {}),
        reason: `${why}: the router is switched off (rollback run ${t.rollbackRunId ?? '—'} ${t.status}${t.deployRunId ? `, linked from deploy ${t.deployRunId}` : ', no deploy run recorded to link it from'})${ok ? '' : ' — its verification did not pass, see the rollback run'}`,
      };
    } catch (error) {
      return { onFail: options.onFail, taken: 'none', reason: `${why}, but the toggle failed: ${(error as Error).message.split('\n')[0]} — run \`routergpt rollback --tier toggle\`` };
    }
  };
  return async (report) => {
    if (options.onFail === 'toggle') return toggled('--on-fail toggle');
    if (options.onFail === 'stop') return { onFail: 'stop', taken: 'stopped', reason: '--on-fail stop: the router stays on; roll back with `routergpt rollback --tier toggle` (or as the canary does)' };
    const answer = await options.ask?.(`The watch of ${report.env} failed (${failures(report).join('; ')}). Switch the router off now (break-glass toggle)?`);
    if (answer === undefined) return { onFail: 'pause', taken: 'stopped', reason: '--on-fail pause: there is no terminal to ask on, so it stopped as --on-fail stop does; the router stays on' };
    if (answer) return toggled('--on-fail pause, answered yes');
    return { onFail: 'pause', taken: 'stopped', reason: '--on-fail pause, answered no: the router stays on' };
  };
}
