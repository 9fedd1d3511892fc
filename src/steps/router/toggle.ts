import os from 'node:os';
import { fail, pass } from '../../checks/define-check.js';
import { defineStep, type StepContext } from '../define-step.js';

async function setRouter(ctx: StepContext, enabled: boolean): Promise<boolean | null> {
  const by = `${os.userInfo().username} via routergpt ${ctx.runId}`;
  const { rows } = await ctx.db.pool.query<{ previous: boolean | null }>(
    `WITH prev AS (SELECT enabled FROM feature_flags WHERE key = 'router_gpt')
     INSERT INTO feature_flags (key, enabled, updated_at, updated_by) VALUES ('router_gpt', $1, now(), $2)
     ON CONFLICT (key) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now(), updated_by = EXCLUDED.updated_by
     RETURNING (SELECT enabled FROM prev) AS previous`,
    [enabled, by],
  );
  return rows[0]?.previous ?? null;
}

async function readRouter(ctx: StepContext): Promise<boolean | undefined> {
  const { rows } = await ctx.db.pool.query<{ enabled: boolean }>(`SELECT enabled FROM feature_flags WHERE key = 'router_gpt'`);
  return rows[0]?.enabled;
}

/**
 * Rollback tier `toggle` (the checklist's Option 3): the runtime flag the API reads within a
 * second — router routes answer 503 without a restart. ENABLE_ROUTER_GPT=false does the same
 * at the next restart.
 */
export const routerDisableStep = defineStep({
  id: 'router.disable',
  title: 'Turn the router off at runtime (feature toggle)',
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
  async rollback(ctx) {
    await setRouter(ctx, true);
    return { status: 'done', summary: 'router enabled again' };
  },
});

export const routerEnableStep = defineStep({
  id: 'router.enable',
  title: 'Turn the router on at runtime',
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
