import { CancelledError, OperationError, UsageError } from '../../errors.js';
import { planBatches } from '../../config/deploy-settings.js';
import { resolveSyntheticKey } from '../../db/synthetic-key.js';
import type { DeployHost, RolloutStrategy } from '../../config/types.js';
import type { StepContext, StepResult, UndoSource } from '../define-step.js';
import { checkReachable, readHealth, waitForHostRelease } from './host-gate.js';
import { releaseVariables, runOnHost, type CommandRun } from './run-commands.js';
import { failures } from '../../runbook/watch/on-fail.js';
import type { WatchReport } from '../../runbook/watch/types.js';

/**
 * A host's place in a rolling deploy, checkpointed after every change: `deploying` on resume
 * means it was interrupted mid-way and is redone; `done` hosts are not touched again.
 */
export type HostState = 'pending' | 'deploying' | 'done' | 'failed' | 'rolling-back' | 'rolled-back' | 'rollback-failed';

export interface HostProgress {
  name: string;
  state: HostState;
  /** The release its /health reported before it was touched (what a rollback returns it to). */
  from?: string;
  error?: string;
}

/** The checkpoint of a rolling code.deploy. */
export interface RolloutCheckpoint extends Record<string, unknown> {
  rolling: true;
  /** `stopping`: more than max_fail hosts failed and the moved hosts are being rolled back. */
  phase: 'rolling-out' | 'stopping';
  hosts: HostProgress[];
  /** The canary's bake (deploy.strategy.canary_bake), journaled window by window: a resumed run continues it. */
  bake?: WatchReport;
}

const REACH_TIMEOUT_MS = 15_000;
const fmt = (ms: number) => (ms % 60_000 === 0 && ms >= 60_000 ? `${ms / 60_000} min` : ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`);

/** The smoke check ids a code.deploy item runs against each host's own url (params.smoke). */
function smokeIds(ctx: StepContext): string[] {
  const s = ctx.params.smoke;
  return Array.isArray(s) ? s.filter((x): x is string => typeof x === 'string') : [];
}

/** The plan's lines for a rolling deploy: the batches, the gate, what a failure does. */
export function describeRollout(ctx: StepContext, strategy: RolloutStrategy, hosts: DeployHost[]): string[] {
  const batches = planBatches(hosts, strategy);
  const want = ctx.release;
  const smoke = smokeIds(ctx);
  const lines = batches.map((b, i) => `batch ${i + 1}/${batches.length}${strategy.canary && i === 0 ? ' (canary)' : ''}: ${b.map((h) => h.name).join(', ')}`);
  lines.push(`after each host's commands: wait up to ${fmt(strategy.gateTimeoutMs)} for its own /health (${hosts.map((h) => h.url).join(', ')}) to report ${want ? JSON.stringify(want) : '(no release: refused)'}${smoke.length ? `, then ${smoke.join(', ')} against its url` : ''}`);
  if (strategy.pauseMs > 0) lines.push(`${fmt(strategy.pauseMs)} pause between batches`);
  if (strategy.canary) lines.push(batches.length > 1 ? bakePlan(ctx, strategy) : 'canary: one host only, so there is no canary to bake before the rest: it is gated like any host');
  lines.push(strategy.maxFail === 0
    ? 'a host that fails its gate stops the rollout: the hosts moved so far (it included) are rolled back in reverse order, each gated on /health reporting its old release; the others are not touched'
    : `up to ${strategy.maxFail} failed host(s) are rolled back on their own and the rollout goes on; one more stops it and rolls back every host moved so far, in reverse order`);
  const via = hosts.filter((h) => h.via.length);
  if (via.length) lines.push(`first, before any host is changed: ${via.map((h) => `\`${h.via.join(' ')} true\``).join(', ')} must answer`);
  return lines;
}

/** Why this rolling deploy cannot start (nothing changed yet), or undefined. */
export function rolloutRefusal(ctx: StepContext): string | undefined {
  if (!ctx.release) return 'deploy.strategy gates each host on /health reporting the release being deployed, and this run has no release';
  if (ctx.config.deploy.value.rollbackCommands.length === 0) return 'deploy.strategy rolls failed hosts back, and deploy.rollback_commands is empty';
  return undefined;
}

/**
 * `code.deploy` under `deploy.strategy`: batch by batch, each host's commands then its gate
 * (own /health on the new release, then the smoke checks against its url). A failed host within
 * max_fail is rolled back on its own; one more stops the rollout and rolls back every moved host
 * in reverse order, each gated on its old release. Every state change is a checkpoint, so a
 * killed run resumes: `done` hosts are kept, an interrupted one is redone.
 */
export async function runRollout(ctx: StepContext, strategy: RolloutStrategy): Promise<StepResult> {
  const { hosts, commands, rollbackCommands } = ctx.config.deploy.value;
  const refusal = rolloutRefusal(ctx);
  if (refusal) throw new UsageError(`Not deploying: ${refusal}; no host was changed.`, ctx.release ? 'Set deploy.rollback_commands (docs/fleet.md).' : 'Pass --release ID (or set ROUTERGPT_RELEASE) — the release each host must report on /health.');
  const want = ctx.release!;
  const { key } = await resolveSyntheticKey(ctx.config, ctx.db?.pool);
  const resumed = ctx.resumed?.rolling === true ? (ctx.resumed as RolloutCheckpoint) : undefined;
  const progress = new Map<string, HostProgress>(hosts.map((h) => [h.name, resumed?.hosts.find((p) => p.name === h.name) ?? { name: h.name, state: 'pending' as HostState }]));
  const state: RolloutCheckpoint = { rolling: true, phase: resumed?.phase ?? 'rolling-out', hosts: hosts.map((h) => progress.get(h.name)!), ...(resumed?.bake ? { bake: resumed.bake } : {}) };
  const save = () => ctx.checkpoint(state);
  const runs: CommandRun[] = [];
  const baseVars = releaseVariables(ctx);

  // Pre-flight, before any host is changed: every host still to be touched is reachable, and its
  // current release (from its own /health) is recorded as the one a rollback returns it to.
  const untouched = hosts.filter((h) => progress.get(h.name)!.state === 'pending');
  for (const host of untouched) await checkReachable(host, Math.min(REACH_TIMEOUT_MS, ctx.config.deploy.value.timeoutMs));
  await Promise.all(untouched.map(async (host) => {
    const health = await readHealth(host.url!, key);
    const p = progress.get(host.name)!;
    if (health.version) p.from = health.version;
    ctx.log(`${host.name}: before the deploy ${health.said}`);
  }));
  await save();

  const rollBack = async (host: DeployHost): Promise<void> => {
    const p = progress.get(host.name)!;
    p.state = 'rolling-back';
    await save();
    const target = p.from ?? (typeof ctx.params.rollbackRelease === 'string' ? ctx.params.rollbackRelease : undefined);
    try {
      ctx.log(`${host.name}: rolling back${target ? ` to ${target}` : ''}`);
      await runOnHost(ctx, host, rollbackCommands, { ...baseVars, ...(target ? { ROUTERGPT_ROLLBACK_RELEASE: target } : {}) }, runs);
      await waitForHostRelease(host, { want: target, timeoutMs: strategy.gateTimeoutMs, key, log: ctx.log });
      p.state = 'rolled-back';
    } catch (error) {
      p.state = 'rollback-failed';
      p.error = `${p.error ? `${p.error}; ` : ''}rollback: ${(error as Error).message}`;
    }
    await save();
  };

  const stop = async (): Promise<never> => {
    state.phase = 'stopping';
    await save();
    // The moved hosts — done, failed, interrupted — in reverse order of the rollout.
    const moved = [...hosts].reverse().filter((h) => ['done', 'failed', 'deploying', 'rolling-back'].includes(progress.get(h.name)!.state));
    for (const host of moved) await rollBack(host);
    const failed = state.hosts.filter((p) => p.error);
    const rolledBack = moved.filter((h) => progress.get(h.name)!.state === 'rolled-back').map((h) => h.name);
    const stuck = state.hosts.filter((p) => p.state === 'rollback-failed');
    const untouchedNames = state.hosts.filter((p) => p.state === 'pending').map((p) => p.name);
    throw new OperationError(
      `The rollout of ${want} stopped: ${failed.map((p) => `${p.name} (${p.error!.replace(/\.$/, '')})`).join('; ')}. Rolled back: ${rolledBack.join(', ') || 'none'}${untouchedNames.length ? `; not touched: ${untouchedNames.join(', ')}` : ''}.`,
      stuck.length ? `Roll ${stuck.map((p) => p.name).join(', ')} back by hand (\`routergpt status\` shows each host's release).` : 'Fix the release, then deploy it again (`routergpt status` shows each host\'s release).',
    );
  };

  /**
   * The canary's bake, or the rest of it after a resume: why the canary failed, or undefined to
   * roll on. A canary moved by an earlier, killed run is gated again first (it may have been
   * rolled back by hand since); a bake that failed before the kill is not run again.
   */
  const bake = async (canary: DeployHost, movedEarlier: boolean): Promise<string | undefined> => {
    let report = state.bake;
    try {
      if (movedEarlier && report?.status !== 'fail') await waitForHostRelease(canary, { want, timeoutMs: strategy.gateTimeoutMs, key, log: ctx.log });
      if (!report || (!report.completed && report.status !== 'fail')) {
        const from = progress.get(canary.name)!.from;
        // The baseline's hosts: the others still on the canary's old release (a host left
        // elsewhere by an earlier rollout would dilute it); all others when that is unknown.
        const others = state.hosts.filter((p) => p.name !== canary.name && p.state === 'pending' && (!from || p.from === from)).length;
        report = await bakeCanary(ctx, strategy, canary, { release: want, ...(from ? { fleetRelease: from } : {}), canaryHosts: 1, fleetHosts: Math.max(1, others) }, report, async (r) => {
          state.bake = r;
          await save();
        });
      }
    } catch (error) {
      // Ctrl-C interrupts the run (resume continues the bake); a bake that cannot watch is a failed canary.
      if (error instanceof CancelledError) throw error;
      return `the canary's bake could not run: ${(error as Error).message}`;
    }
    if (report.status === 'fail') {
      const verdicts = failures(report);
      return `the canary's ${fmt(strategy.canaryBakeMs)} bake failed${verdicts.length ? `: ${verdicts.join('; ')}` : ''}`;
    }
    ctx.log(`${canary.name}: the canary's bake ended ${report.status}${report.status === 'inconclusive' ? ` (fewer than ${report.minRequests} requests on ${want}: nothing could be judged)` : ''}; rolling on`);
    return undefined;
  };

  if (state.phase === 'stopping') return stop();

  const batches = planBatches(hosts, strategy);
  const baking = strategy.canary && strategy.canaryBakeMs > 0 && batches.length > 1;
  // A host left `failed` (its rollback not begun) is redone on resume, so it is not counted yet.
  let failed = state.hosts.filter((p) => p.state === 'rolled-back' || p.state === 'rollback-failed').length;
  for (const [i, batch] of batches.entries()) {
    const todo = batch.filter((h) => !['done', 'rolled-back', 'rollback-failed'].includes(progress.get(h.name)!.state));
    const failedNow: DeployHost[] = [];
    if (todo.length) ctx.log(`batch ${i + 1}/${batches.length}${strategy.canary && i === 0 ? ' (canary)' : ''}: ${todo.map((h) => h.name).join(', ')}`);
    await Promise.all(todo.map(async (host) => {
      const p = progress.get(host.name)!;
      p.state = 'deploying';
      delete p.error;
      await save();
      try {
        await runOnHost(ctx, host, commands, baseVars, runs);
        const health = await waitForHostRelease(host, { want, timeoutMs: strategy.gateTimeoutMs, key, log: ctx.log });
        ctx.log(`${host.name}: ${health.said}`);
        await smokeHost(ctx, host, key);
        p.state = 'done';
      } catch (error) {
        p.state = 'failed';
        p.error = (error as Error).message;
        failedNow.push(host);
      }
      await save();
    }));
    failed += failedNow.length;
    if (failed > strategy.maxFail) return stop();
    if (i === 0 && strategy.canary && batches.length > 1) {
      // A canary that fails its gate or its bake stops the rollout, whatever max_fail allows: that is what a canary is for.
      if (failedNow.length) return stop();
      const canary = batch[0]!;
      if (baking && progress.get(canary.name)!.state === 'done') {
        const why = await bake(canary, !todo.includes(canary));
        if (why) {
          const p = progress.get(canary.name)!;
          p.state = 'failed';
          p.error = why;
          return stop();
        }
      }
    }
    for (const host of failedNow) await rollBack(host);
    if (todo.length && i < batches.length - 1 && strategy.pauseMs > 0) await new Promise((r) => setTimeout(r, strategy.pauseMs));
  }
  const done = state.hosts.filter((p) => p.state === 'done');
  const skipped = state.hosts.filter((p) => p.state !== 'done');
  // Every host failed within max_fail and was rolled back on its own: the release is nowhere.
  if (done.length === 0) throw new OperationError(`The rollout of ${want} left no host on it: ${skipped.map((p) => `${p.name} (${(p.error ?? p.state).replace(/\.$/, '')})`).join('; ')}; each was rolled back on its own (max_fail ${strategy.maxFail}).`, 'Fix the release, then deploy it again (`routergpt status` shows each host\'s release).');
  const bakeNote = state.bake ? `; the canary's bake: ${state.bake.status}` : '';
  const summary = `${done.length} of ${hosts.length} host(s) on ${want}${skipped.length ? `; rolled back on their own (within max_fail ${strategy.maxFail}): ${skipped.map((p) => p.name).join(', ')}` : ''}${bakeNote}`;
  return {
    // A bake that could judge nothing (too little traffic) is said, not taken as a pass.
    status: skipped.length || (state.bake && state.bake.status !== 'pass') ? 'warn' : 'done',
    summary,
    details: [...(state.bake ? [`canary bake on ${state.bake.apiBase}: ${state.bake.status}, ${state.bake.windows.length} window(s); ${state.bake.baseline.reason}`] : []),...state.hosts.map((p) => `${p.name}: ${p.state}${p.from ? ` (was ${p.from})` : ''}${p.error ? ` — ${p.error}` : ''}`), ...runs.map((r) => `${r.host}: ${r.command} → exit ${r.exitCode} (${r.durationMs} ms)`)],
    outputs: { runs, hosts: state.hosts, release: want, ...(state.bake ? { bake: state.bake } : {}) },
  };
}

/** The watch settings of a canary's bake: watch.* with canary_bake as its length. */
function bakeSettings(ctx: StepContext, strategy: RolloutStrategy) {
  const base = ctx.config.watch.value;
  return { ...base, forMs: strategy.canaryBakeMs, intervalMs: Math.min(base.intervalMs, strategy.canaryBakeMs) };
}

function bakePlan(ctx: StepContext, strategy: RolloutStrategy): string {
  if (strategy.canaryBakeMs === 0) return 'the canary is gated like every host (canary_bake 0: no bake)';
  const s = bakeSettings(ctx, strategy);
  return `then the canary bakes for ${fmt(s.forMs)} (\`watch --on-fail stop\` against its own url, every ${fmt(s.intervalMs)}): its release's requests against the rest of the fleet's over the same window, and the limits; a fail stops the rollout and rolls the canary back; fewer than ${s.minRequests} requests: inconclusive, said, and the rollout goes on`;
}

/**
 * The canary's bake: `watch --on-fail stop` against the canary's own url for canary_bake — the
 * new release's rows only, against the fleet's release over the same minutes (a concurrent
 * baseline) and the watch limits. Every window is checkpointed through `save`, so a resumed
 * rollout continues the bake instead of starting it again.
 */
async function bakeCanary(ctx: StepContext, strategy: RolloutStrategy, canary: DeployHost, judged: { release: string; fleetRelease?: string; canaryHosts: number; fleetHosts: number }, resumed: WatchReport | undefined, save: (report: WatchReport) => Promise<void>): Promise<WatchReport> {
  const [{ watchRelease, abortableSleep }, { healthReader }, { windowLines }] = await Promise.all([
    import('../../runbook/watch/watch-loop.js'),
    import('../../runbook/watch/health.js'),
    import('../../report/watch.js'),
  ]);
  const settings = bakeSettings(ctx, strategy);
  ctx.log(`${canary.name}: ${resumed ? `resuming the canary's bake after window ${resumed.windows.length}` : `the canary bakes for ${fmt(settings.forMs)}`}`);
  return watchRelease({
    db: ctx.db.pool,
    env: ctx.config.name,
    apiBase: canary.url!,
    settings,
    strict: false,
    onFail: 'stop',
    canary: judged,
    readHealth: await healthReader(canary.url!, ctx.config, ctx.db.pool),
    now: ctx.now,
    sleep: abortableSleep(ctx.signal),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(resumed ? { resumed } : {}),
    checkpoint: save,
    onWindow: (window, r) => windowLines(r, window).forEach((line) => ctx.log(`${canary.name}: ${line.trim()}`)),
    // `--on-fail stop`: the router stays on; the rollout rolls the canary back itself.
    handleFail: async () => ({ onFail: 'stop', taken: 'stopped', reason: 'the canary failed its bake: the rollout stops and rolls the canary back' }),
  });
}

/** The item's smoke checks (params.smoke) against the host's own url; any failure fails the host. */
async function smokeHost(ctx: StepContext, host: DeployHost, key: string | undefined): Promise<void> {
  const ids = smokeIds(ctx);
  if (ids.length === 0) return;
  const { findCheck } = await import('../../checks/registry.js');
  const { runChecks } = await import('../../checks/run-checks.js');
  const checks = ids.map((id) => {
    const check = findCheck(id);
    if (!check) throw new UsageError(`code.deploy's smoke lists ${JSON.stringify(id)}, which is no check.`, '`routergpt verify --list` shows the check ids.');
    return check;
  });
  const outcomes = await runChecks({ checks, deps: { config: ctx.config, ...(ctx.db?.pool ? { db: ctx.db.pool } : {}), apiBase: host.url!, fetch, now: ctx.now, ...(key ? { syntheticKey: key } : {}) } });
  const bad = outcomes.filter((o) => o.status === 'fail' || o.status === 'error' || o.status === 'skip');
  if (bad.length) throw new OperationError(`${host.name}: smoke ${bad.map((o) => `${o.id} ${o.status} (${o.summary})`).join('; ')} against ${host.url}.`, 'Look at the host; the rollout rolled it back.');
}

/** The hosts a rolling deploy left on its release (done, or moved and not rolled back), in rollout order. */
export function movedHosts(source: UndoSource): HostProgress[] | undefined {
  const fromOutputs = Array.isArray(source.outputs.hosts) ? (source.outputs.hosts as HostProgress[]) : undefined;
  const fromCheckpoint = source.checkpoint?.rolling === true ? (source.checkpoint as RolloutCheckpoint).hosts : undefined;
  const hosts = fromOutputs ?? fromCheckpoint;
  return hosts?.filter((h) => h.state === 'done' || h.state === 'deploying' || h.state === 'failed' || h.state === 'rolling-back' || h.state === 'rollback-failed');
}

/** The rollback target of one host: the release the rollback run names (the last good deploy's), else what the host ran before. */
function undoTarget(ctx: StepContext, progress: HostProgress): string | undefined {
  return (typeof ctx.params.rollbackRelease === 'string' && ctx.params.rollbackRelease) || progress.from;
}

/** The plan of `rollback --tier code` for a rolling deploy: the moved hosts in reverse, each gated. */
export function describeRolloutUndo(ctx: StepContext, source: UndoSource): string[] {
  const moved = movedHosts(source);
  if (!moved) return [];
  if (moved.length === 0) return ['no host is left on the deploy\'s release (the rollout rolled back every host it moved): nothing to do'];
  return [`in reverse order: ${[...moved].reverse().map((h) => `${h.name} → ${undoTarget(ctx, h) ?? '(unknown release: refused)'}`).join(', ')}; each gated on its own /health reporting it; the hosts the deploy did not move are not touched`];
}

/**
 * `rollback --tier code` of a rolling deploy: only the hosts it moved (and did not roll back
 * itself), in reverse order, each with ROUTERGPT_ROLLBACK_RELEASE and gated on /health
 * reporting that release; the first host that fails its gate stops the rollback, naming it.
 */
export async function undoRollout(ctx: StepContext, strategy: RolloutStrategy, source: UndoSource): Promise<StepResult | undefined> {
  const moved = movedHosts(source);
  if (!moved) return undefined;
  if (moved.length === 0) return { status: 'skipped', summary: 'no host was left on the deploy\'s release: the rollout rolled back every host it moved', outputs: { runs: [] } };
  const { hosts, rollbackCommands } = ctx.config.deploy.value;
  const unknown = moved.filter((h) => !undoTarget(ctx, h));
  if (unknown.length) throw new OperationError(`Not rolling back: the release ${unknown.map((h) => h.name).join(', ')} ran before the deploy is not known (its /health reported none, and no earlier deploy recorded one).`, 'Roll those hosts back by hand, or run `routergpt rollback --tier code --release ID` naming the release to return to.');
  const { key } = await resolveSyntheticKey(ctx.config, ctx.db?.pool);
  const runs: CommandRun[] = [];
  const back: string[] = [];
  for (const progress of [...moved].reverse()) {
    const host = hosts.find((h) => h.name === progress.name);
    if (!host) throw new OperationError(`Not rolling back ${progress.name}: it is no longer in deploy.hosts of ${ctx.config.name}.`, `Roll ${progress.name} back by hand, or put it back in deploy.hosts.`);
    const target = undoTarget(ctx, progress)!;
    await runOnHost(ctx, host, rollbackCommands, { ...releaseVariables(ctx), ROUTERGPT_ROLLBACK_RELEASE: target }, runs);
    await waitForHostRelease(host, { want: target, timeoutMs: strategy.gateTimeoutMs, key, log: ctx.log });
    back.push(`${host.name} → ${target}`);
  }
  return { status: 'done', summary: `rolled back ${back.join(', ')}`, details: runs.map((r) => `${r.host}: ${r.command} → exit ${r.exitCode} (${r.durationMs} ms)`), outputs: { runs, hosts: back } };
}
