import { fail, pass } from '../../checks/define-check.js';
import { defineStep } from '../define-step.js';

/** The checklist's "Verify migrations succeeded" (\d shops, \dt, \di) as checks. */
export const SCHEMA_CHECKS = ['db.migrations-applied', 'db.tables-exist', 'db.shops-location-columns', 'db.indexes-valid', 'db.analytics-views'];

export const dbVerifySchemaStep = defineStep({
  id: 'db.verify-schema',
  title: 'Verify migrations succeeded (tables, location fields, indexes, views)',
  async plan() {
    return [`Run checks ${SCHEMA_CHECKS.join(', ')}`];
  },
  async run(ctx) {
    if (!ctx.runChecks) throw new Error('db.verify-schema needs the runbook\'s check runner');
    const outcomes = await ctx.runChecks(SCHEMA_CHECKS);
    const bad = outcomes.filter((o) => o.status === 'fail' || o.status === 'error');
    return {
      status: 'done',
      summary: bad.length ? `${bad.length} schema check(s) failed: ${bad.map((o) => o.id).join(', ')}` : `${outcomes.length} schema checks passed`,
      details: outcomes.flatMap((o) => [`${o.status} ${o.id}: ${o.summary}`, ...(o.status === 'fail' || o.status === 'error' ? (o.details ?? []).map((d) => `    ${d}`) : [])]),
      outputs: { failed: bad.map((o) => o.id) },
    };
  },
  async verify(_ctx, result) {
    const failed = (result.outputs?.failed as string[] | undefined) ?? [];
    return failed.length ? fail(`schema checks failed: ${failed.join(', ')}`, { details: result.details, hint: 'See docs/checks.md for each; do not continue the deploy.' }) : pass('schema verified');
  },
});

export default dbVerifySchemaStep;
