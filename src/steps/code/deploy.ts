import { OperationError } from '../../errors.js';
import { defineStep, type StepContext } from '../define-step.js';
import { describeCommands, releaseVariables, runCommands } from './run-commands.js';
import { describeRollout, describeRolloutUndo, movedHosts, rolloutRefusal, runRollout, undoRollout } from './rolling.js';

const ROLLBACK_RELEASE = 'ROUTERGPT_ROLLBACK_RELEASE';

/** Why rollback commands that use `$ROUTERGPT_ROLLBACK_RELEASE` cannot run (none is known: a checkout of ""), if they cannot. */
function missingRollbackRelease(ctx: StepContext, commands: string[]): string | undefined {
  // deploy.layout: releases falls back to the host's own `previous` symlink (config/releases-layout.ts).
  if (ctx.config.deploy.value.releases) return undefined;
  if (releaseVariables(ctx)[ROLLBACK_RELEASE] || !commands.some((c) => c.includes(ROLLBACK_RELEASE))) return undefined;
  return `the rollback commands use $${ROLLBACK_RELEASE}, and no successful deploy of ${ctx.config.name} before the one being undone recorded a release`;
}

/** The checklist's "Step 2: Deploy Code": the environment's configured commands. */
export const codeDeployStep = defineStep({
  id: 'code.deploy',
  params: ['cwd', 'smoke'],
  title: 'Deploy the code (pull, install, restart)',
  changesData: false,
  needs: [],
  async plan(ctx) {
    const { hosts, commands, timeoutMs, strategy } = ctx.config.deploy.value;
    if (commands.length === 0) return ['No deploy commands configured (deploy.commands): nothing to run'];
    const refusal = strategy ? rolloutRefusal(ctx) : undefined;
    return [
      ...(strategy ? describeRollout(ctx, strategy, hosts) : []),
      ...describeCommands(hosts, commands, releaseVariables(ctx)),
      `each with a ${Math.round(timeoutMs / 1000)} s timeout`,
      ...(refusal ? [`refused: ${refusal}`] : []),
    ];
  },
  run: (ctx) => {
    const { strategy, commands } = ctx.config.deploy.value;
    // A rolling deploy with commands: host by host behind the gate (rolling.ts).
    return strategy && commands.length ? runRollout(ctx, strategy) : runCommands(ctx, commands, 'deploy');
  },
  /** Rollback tier `code` (the checklist's Option 1): the configured code-rollback commands. */
  undo: {
    tier: 'code',
    title: 'Roll the code back (configured rollback commands)',
    // A deploy that ran no command (none configured) left no code to roll back.
    // A failed deploy may have changed some hosts; a done one only if it ran commands.
    applies: (source) => source.state === 'failed' || source.state === 'running' || ((source.state === 'done' || source.state === 'warn') && Array.isArray(source.outputs.runs) && source.outputs.runs.length > 0),
    async plan(ctx, source) {
      const { hosts, rollbackCommands, strategy } = ctx.config.deploy.value;
      if (rollbackCommands.length === 0) return ['No rollback commands configured (deploy.rollback_commands): the step fails'];
      // A rolling deploy: the hosts it moved, each back to its release, gated (rolling.ts).
      if (strategy && movedHosts(source)) return describeRolloutUndo(ctx, source);
      const missing = missingRollbackRelease(ctx, rollbackCommands);
      return [...describeCommands(hosts, rollbackCommands, releaseVariables(ctx)), ...(missing ? [`refused: ${missing}`] : [])];
    },
    async run(ctx, source) {
      if (ctx.config.deploy.value.rollbackCommands.length === 0) {
        throw new OperationError(`${ctx.config.name} has no code-rollback commands, so the deployed code cannot be rolled back by routergpt.`, 'Set deploy.rollback_commands in routergpt.config.yaml (docs/configuration.md), or roll the code back by hand.');
      }
      const { strategy } = ctx.config.deploy.value;
      if (strategy && movedHosts(source)) {
        await ctx.confirm(`Roll the code back on ${ctx.config.name}'s hosts the deploy moved?`);
        return (await undoRollout(ctx, strategy, source))!;
      }
      const missing = missingRollbackRelease(ctx, ctx.config.deploy.value.rollbackCommands);
      if (missing) throw new OperationError(`Not rolling the code back: ${missing}.`, `Roll the code back by hand to the release that ran before (\`routergpt status --env ${ctx.config.name}\` shows each run's release), or run the rollback commands with ${ROLLBACK_RELEASE} set.`);
      const target = releaseVariables(ctx)[ROLLBACK_RELEASE];
      await ctx.confirm(`Run the code rollback commands on ${ctx.config.name}${target ? ` (back to release ${target})` : ''}?`);
      return runCommands(ctx, ctx.config.deploy.value.rollbackCommands, 'rollback');
    },
  },
});

export default codeDeployStep;
