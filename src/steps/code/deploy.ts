import { OperationError } from '../../errors.js';
import { defineStep } from '../define-step.js';
import { describeCommands, runCommands } from './run-commands.js';

/** The checklist's "Step 2: Deploy Code": the environment's configured commands. */
export const codeDeployStep = defineStep({
  id: 'code.deploy',
  params: ['cwd'],
  title: 'Deploy the code (pull, install, restart)',
  changesData: false,
  needs: [],
  async plan(ctx) {
    const { hosts, commands, timeoutMs } = ctx.config.deploy.value;
    if (commands.length === 0) return ['No deploy commands configured (deploy.commands): nothing to run'];
    return [...describeCommands(hosts, commands), `each with a ${Math.round(timeoutMs / 1000)} s timeout`];
  },
  run: (ctx) => runCommands(ctx, ctx.config.deploy.value.commands, 'deploy'),
  /** Rollback tier `code` (the checklist's Option 1): the configured code-rollback commands. */
  undo: {
    tier: 'code',
    title: 'Roll the code back (configured rollback commands)',
    // A deploy that ran no command (none configured) left no code to roll back.
    // A failed deploy may have changed some hosts; a done one only if it ran commands.
    applies: (source) => source.state === 'failed' || source.state === 'running' || (source.state === 'done' && Array.isArray(source.outputs.runs) && source.outputs.runs.length > 0),
    async plan(ctx) {
      const { hosts, rollbackCommands } = ctx.config.deploy.value;
      if (rollbackCommands.length === 0) return ['No rollback commands configured (deploy.rollback_commands): the step fails'];
      return describeCommands(hosts, rollbackCommands);
    },
    async run(ctx) {
      if (ctx.config.deploy.value.rollbackCommands.length === 0) {
        throw new OperationError(`${ctx.config.name} has no code-rollback commands, so the deployed code cannot be rolled back by routergpt.`, 'Set deploy.rollback_commands in routergpt.config.yaml (docs/configuration.md), or roll the code back by hand.');
      }
      await ctx.confirm(`Run the code rollback commands on ${ctx.config.name}?`);
      return runCommands(ctx, ctx.config.deploy.value.rollbackCommands, 'rollback');
    },
  },
});

export default codeDeployStep;
