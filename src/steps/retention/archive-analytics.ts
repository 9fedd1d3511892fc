import { archiveBatch, archiveCutoff, countArchivable } from '../../db/retention/analytics.js';
import { runBatches } from '../../db/retention/batches.js';
import { plural } from '../../lib/plural.js';
import { defineStep } from '../define-step.js';
import { batchOptions, checkpointOf, describeLoop, RETENTION_PARAMS, resumedCutoff, retentionNotSet } from './options.js';

const ID = 'retention.archive-analytics';

/**
 * Daily retention: analytics older than retention.analytics_archive_days move from
 * router_analytics to router_analytics_archive, in batches (src/db/retention/analytics.ts).
 * `derived`: no event is lost or changed — every reader reads both tables, and figures are the
 * same before and after — so it needs no backup gate. Resumable: the checkpoint keeps the cutoff
 * and the keyset, and a killed run continues after its last committed batch.
 */
export const retentionArchiveAnalyticsStep = defineStep({
  id: ID,
  title: 'Archive old analytics (router_analytics → router_analytics_archive)',
  changesData: 'derived',
  needs: ['db'],
  params: RETENTION_PARAMS,
  async plan(ctx) {
    const skip = retentionNotSet(ctx, 'analytics_archive_days');
    if (skip) return [skip];
    const cutoff = archiveCutoff(ctx.now(), ctx.config.retention.analyticsArchiveDays.value!);
    const n = await countArchivable(ctx.db.pool, cutoff);
    return [
      `Move ${plural(n.rows, 'event')} created before ${cutoff.toISOString()} (${ctx.config.retention.analyticsArchiveDays.value} days) from router_analytics to router_analytics_archive${n.oldest ? `, the oldest from ${n.oldest.toISOString()}` : ''}`,
      'In batches, each its own transaction (lock_timeout; rows other sessions hold are left for the next run); metrics and analytics read both tables, so no figure changes',
    ];
  },
  async run(ctx) {
    const skip = retentionNotSet(ctx, 'analytics_archive_days');
    if (skip) return { status: 'skipped', summary: skip };
    const days = ctx.config.retention.analyticsArchiveDays.value!;
    const cutoff = resumedCutoff(ctx, () => archiveCutoff(ctx.now(), days));
    const result = await runBatches(ctx.db.pool, batchOptions(ID, ctx, 'archive', checkpointOf(ctx, { cutoff: cutoff.toISOString() })), (client, from, limit) => archiveBatch(client, cutoff, from, limit));
    const left = result.stopped ? await countArchivable(ctx.db.pool, cutoff) : undefined;
    const outputs = { cutoff: cutoff.toISOString(), archived: result.rows, batches: result.batches, longestBatchMs: Math.round(result.longestBatchMs), ...(left ? { left: left.rows } : {}) };
    const summary = `archived ${plural(result.rows, 'event')} older than ${days} days${describeLoop(result)}${left ? `; ${plural(left.rows, 'event')} left` : ''}`;
    if (result.stopped) return { status: 'warn', summary, outputs };
    return { status: result.rows > 0 ? 'done' : 'skipped', summary: result.rows > 0 ? summary : `no event older than ${days} days in router_analytics (cutoff ${cutoff.toISOString()})`, outputs };
  },
});

export default retentionArchiveAnalyticsStep;
