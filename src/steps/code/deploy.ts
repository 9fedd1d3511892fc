import { defineStep } from '../define-step.js';
import { describeCommands, runCommands } from './run-commands.js';

/** The checklist's "Step 2: Deploy Code": the environment's configured commands. */
export const codeDeployStep = defineStep({
  id: 'code.deploy',
  params: ['cwd'],
  title: 'Deploy the code (pull, install, restart)',
  async plan(ctx) {
    const { hosts, commands, timeoutMs } = ctx.config.deploy.value;
    if (commands.length === 0) return ['No deploy commands configured (deploy.commands): nothing to run'];
    return [...describeCommands(hosts, commands), `each with a ${Math.round(timeoutMs / 1000)} s timeout`];
  },
  run: (ctx) => runCommands(ctx, ctx.config.deploy.value.commands, 'deploy'),
});

/** Rollback tier `code` (the checklist's Option 1): the configured code-rollback commands. */
export const codeRollbackStep = defineStep({
  id: 'code.rollback',
  params: ['cwd'],
  title: 'Roll the code back (configured rollback commands)',
  async plan(ctx) {
    const { hosts, rollbackCommands } = ctx.config.deploy.value;
    if (rollbackCommands.length === 0) return ['No rollback commands configured (deploy.rollback_commands): nothing to run'];
    return describeCommands(hosts, rollbackCommands);
  },
  async run(ctx) {
    if (ctx.config.deploy.value.rollbackCommands.length > 0) await ctx.confirm(`Run the code rollback commands on ${ctx.config.name}?`);
    return runCommands(ctx, ctx.config.deploy.value.rollbackCommands, 'rollback');
  },
});

export default codeDeployStep;
