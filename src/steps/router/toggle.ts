import os from 'node:os';
import { fail, pass } from '../../checks/define-check.js';
import { readRouterFlag, writeRouterFlag } from '../../db/router-flag.js';
import { defineStep, type StepContext } from '../define-step.js';

async function setRouter(ctx: StepContext, enabled: boolean): Promise<boolean | null> {
  return writeRouterFlag(ctx.db.pool, enabled, `${os.userInfo().username} via routergpt ${ctx.runId}`);
}

async function readRouter(ctx: StepContext): Promise<boolean | undefined> {
  return (await readRouterFlag(ctx.db.pool))?.enabled;
}

/**
 * Rollback tier `toggle` (the checklist's Option 3): the runtime flag the API reads within a
 * second — router routes answer 503 without a restart. ENABLE_ROUTER_GPT=false does the same
 * at the next restart.
 */
export const routerDisableStep = defineStep({
  id: 'router.disable',
  title: 'Turn the router off at runtime (feature toggle)',
  changesData: 'derived',
  needs: ['db'],
  async plan(ctx) {
    return [`UPDATE feature_flags SET enabled = false WHERE key = 'router_gpt'  -- now ${String(await readRouter(ctx))}; the API answers 503 on /router/* and /chat within ~1 s`];
  },
  async run(ctx) {
    const previous = await setRouter(ctx, false);
    return { status: 'done', summary: `router disabled (was ${previous === null ? 'unset' : previous ? 'enabled' : 'disabled'})`, outputs: { previous } };
  },
  async verify(ctx) {
    return (await readRouter(ctx)) === false ? pass('feature_flags.router_gpt is off') : fail('the flag did not change');
  },
});

export const routerEnableStep = defineStep({
  id: 'router.enable',
  title: 'Turn the router on at runtime',
  changesData: 'derived',
  needs: ['db'],
  async plan(ctx) {
    return [`UPDATE feature_flags SET enabled = true WHERE key = 'router_gpt'  -- now ${String(await readRouter(ctx))}`];
  },
  async run(ctx) {
    const previous = await setRouter(ctx, true);
    return { status: 'done', summary: `router enabled (was ${previous === null ? 'unset' : previous ? 'enabled' : 'disabled'})`, outputs: { previous } };
  },
  async verify(ctx) {
    return (await readRouter(ctx)) === true ? pass('feature_flags.router_gpt is on') : fail('the flag did not change');
  },
});

export default routerDisableStep;
