import { fail, pass } from '../../checks/define-check.js';
import { SMOKE_CHECK_IDS } from '../../commands/verify/select.js';
import { defineStep } from '../define-step.js';

/** The checklist's "Step 3: Smoke Test Production", as the smoke checks against the deployed API. */
export const apiSmokeStep = defineStep({
  id: 'api.smoke',
  title: 'Smoke test the deployed API',
  async plan(ctx) {
    return [`Against ${ctx.apiBase ?? '(PUBLIC_API_BASE not set)'}: ${SMOKE_CHECK_IDS.join(', ')}`];
  },
  async run(ctx) {
    if (!ctx.runChecks) throw new Error('api.smoke needs the runbook\'s check runner');
    const outcomes = await ctx.runChecks(SMOKE_CHECK_IDS);
    const bad = outcomes.filter((o) => o.status === 'fail' || o.status === 'error');
    return {
      status: 'done',
      summary: bad.length ? `${bad.length} smoke check(s) failed: ${bad.map((o) => o.id).join(', ')}` : `${outcomes.filter((o) => o.status === 'pass').length} smoke checks passed`,
      details: outcomes.flatMap((o) => [`${o.status} ${o.id}: ${o.summary}`, ...(o.status === 'fail' || o.status === 'error' ? (o.details ?? []).map((d) => `    ${d}`) : [])]),
      outputs: { failed: bad.map((o) => o.id), statuses: Object.fromEntries(outcomes.map((o) => [o.id, o.status])) },
    };
  },
  async verify(_ctx, result) {
    const failed = (result.outputs?.failed as string[] | undefined) ?? [];
    return failed.length ? fail(`smoke failed: ${failed.join(', ')}`, { details: result.details, hint: 'Consider `routergpt rollback --tier toggle` now.' }) : pass('smoke passed');
  },
});

export default apiSmokeStep;
