import { countDeletable, deleteBatch, deleteCutoff, pruneRollupsBefore } from '../../db/retention/analytics.js';
import { runBatches, type BatchLoopResult } from '../../db/retention/batches.js';
import { plural } from '../../lib/plural.js';
import { defineStep } from '../define-step.js';
import { batchOptions, checkpointOf, describeLoop, RETENTION_PARAMS, resumedCutoff, retentionNotSet } from './options.js';

const ID = 'retention.delete-analytics';

/**
 * Weekly retention: analytics older than retention.analytics_delete_days are deleted — from the
 * archive, and from router_analytics should any be left there (archiving not configured, or rows
 * skipped while locked) — in batches, down to a whole UTC hour, and the rollups of those hours
 * with them. `user-data`: events are gone for good (old figures get smaller — that is retention),
 * so it runs only after a verified backup in the same run (the executor's gate).
 */
export const retentionDeleteAnalyticsStep = defineStep({
  id: ID,
  title: 'Delete analytics past retention (archive, then any left in router_analytics)',
  changesData: 'user-data',
  needs: ['db'],
  params: RETENTION_PARAMS,
  async plan(ctx) {
    const skip = retentionNotSet(ctx, 'analytics_delete_days');
    if (skip) return [skip];
    const cutoff = deleteCutoff(ctx.now(), ctx.config.retention.analyticsDeleteDays.value!);
    const n = await countDeletable(ctx.db.pool, cutoff);
    return [
      `Delete ${plural(n.archive.rows, 'event')} created before ${cutoff.toISOString()} (${ctx.config.retention.analyticsDeleteDays.value} days, down to the hour) from router_analytics_archive${n.hot.rows ? `, and ${plural(n.hot.rows, 'event')} as old still in router_analytics` : ''}, in batches`,
      'Then the analytics rollups of the hours before the cutoff; figures over those days get smaller (docs/maintenance.md#retention)',
    ];
  },
  async run(ctx) {
    const skip = retentionNotSet(ctx, 'analytics_delete_days');
    if (skip) return { status: 'skipped', summary: skip };
    const days = ctx.config.retention.analyticsDeleteDays.value!;
    const cutoff = resumedCutoff(ctx, () => deleteCutoff(ctx.now(), days));
    const saved = checkpointOf(ctx, { cutoff: cutoff.toISOString() });
    const archive = await runBatches(ctx.db.pool, batchOptions(ID, ctx, 'archive', saved), (client, from, limit) => deleteBatch(client, 'router_analytics_archive', cutoff, from, limit));
    let hot: BatchLoopResult | undefined;
    if (!archive.stopped) hot = await runBatches(ctx.db.pool, batchOptions(ID, ctx, 'hot', saved), (client, from, limit) => deleteBatch(client, 'router_analytics', cutoff, from, limit));
    const deleted = archive.rows + (hot?.rows ?? 0);
    // Whatever was deleted, by this run or a killed one it resumes: the rollups of those hours go too.
    const rollupRows = await pruneRollupsBefore(ctx.db.pool, cutoff);
    const stopped = archive.stopped ? archive : hot?.stopped ? hot : undefined;
    const both: BatchLoopResult = { ...(stopped ?? archive), rows: deleted, batches: archive.batches + (hot?.batches ?? 0), longestBatchMs: Math.max(archive.longestBatchMs, hot?.longestBatchMs ?? 0) };
    const outputs = { cutoff: cutoff.toISOString(), deletedArchived: archive.rows, deletedHot: hot?.rows ?? 0, batches: both.batches, longestBatchMs: Math.round(both.longestBatchMs), rollupRows };
    const summary = `deleted ${plural(archive.rows, 'archived event')}${hot?.rows ? ` and ${plural(hot.rows, 'event')} still in router_analytics` : ''} older than ${days} days${describeLoop(both)}`;
    if (stopped) return { status: 'warn', summary, outputs };
    return { status: deleted > 0 ? 'done' : 'skipped', summary: deleted > 0 ? summary : `no event older than ${days} days (cutoff ${cutoff.toISOString()})`, outputs };
  },
});

export default retentionDeleteAnalyticsStep;
