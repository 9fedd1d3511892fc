import { defineStep } from '../define-step.js';
import { dbPurgeTestDataStep } from './purge-test-data.js';

/** Rollback tier `purge`: put the purged rows back from the deploy run's record. */
export const dbPurgeUndoStep = defineStep({
  id: 'db.purge-undo',
  title: 'Put the purged test rows back from the run record',
  async plan(ctx) {
    const record = ctx.outputs['db.purge-test-data']?.record;
    return record ? [`Re-insert the rows recorded in ${String(record)} (one transaction, original ids)`] : ['The deploy purged nothing: nothing to put back'];
  },
  async run(ctx) {
    const outputs = ctx.outputs['db.purge-test-data'];
    if (!outputs?.record) return { status: 'skipped', summary: 'the deploy purged nothing' };
    const count = Array.isArray(outputs.deletedIds) ? outputs.deletedIds.length : 0;
    await ctx.confirm(`Put the ${count} purged shop(s) back on ${ctx.config.name}?`);
    return dbPurgeTestDataStep.rollback!(ctx, outputs);
  },
});

export default dbPurgeUndoStep;
