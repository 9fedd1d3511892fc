import { runBatches } from '../../db/retention/batches.js';
import { anonymiseBatch, countAnonymisable } from '../../db/retention/chats.js';
import { plural } from '../../lib/plural.js';
import { defineStep } from '../define-step.js';
import { batchOptions, checkpointOf, describeLoop, RETENTION_PARAMS, resumedCutoff, retentionNotSet } from './options.js';

const ID = 'retention.anonymise-chats';
const DAY_MS = 86_400_000;

/**
 * Weekly retention: chat sessions older than retention.chat_anonymise_days lose their transcript
 * (src/db/retention/chats.ts: messages deleted, intent, router context and client HMAC cleared,
 * the feedback comment removed, anonymised_at set); the session and its booking stay. `user-data`
 * (what people wrote is gone), so it runs only after a verified backup in the same run.
 */
export const retentionAnonymiseChatsStep = defineStep({
  id: ID,
  title: 'Anonymise old chat transcripts (messages removed; sessions and bookings kept)',
  changesData: 'user-data',
  needs: ['db'],
  params: RETENTION_PARAMS,
  async plan(ctx) {
    const skip = retentionNotSet(ctx, 'chat_anonymise_days');
    if (skip) return [skip];
    const days = ctx.config.retention.chatAnonymiseDays.value!;
    const cutoff = new Date(ctx.now().getTime() - days * DAY_MS);
    const n = await countAnonymisable(ctx.db.pool, cutoff);
    return [
      `Anonymise ${plural(n.sessions, 'chat session')} created before ${cutoff.toISOString()} (${days} days): delete their ${plural(n.messages, 'message')}, clear intent, router_context and client_hmac, remove feedback comments; the sessions and their bookings stay`,
    ];
  },
  async run(ctx) {
    const skip = retentionNotSet(ctx, 'chat_anonymise_days');
    if (skip) return { status: 'skipped', summary: skip };
    const days = ctx.config.retention.chatAnonymiseDays.value!;
    const cutoff = resumedCutoff(ctx, () => new Date(ctx.now().getTime() - days * DAY_MS));
    const result = await runBatches(ctx.db.pool, batchOptions(ID, ctx, 'sessions', checkpointOf(ctx, { cutoff: cutoff.toISOString() })), (client, from, limit) => anonymiseBatch(client, cutoff, from, limit));
    const messages = result.extra.messages ?? 0;
    const outputs = { cutoff: cutoff.toISOString(), sessions: result.rows, messages, comments: result.extra.comments ?? 0, batches: result.batches, longestBatchMs: Math.round(result.longestBatchMs) };
    const summary = `anonymised ${plural(result.rows, 'chat session')} older than ${days} days (${plural(messages, 'message')} removed)${describeLoop(result)}`;
    if (result.stopped) return { status: 'warn', summary, outputs };
    return { status: result.rows > 0 ? 'done' : 'skipped', summary: result.rows > 0 ? summary : `no chat session older than ${days} days left to anonymise`, outputs };
  },
});

export default retentionAnonymiseChatsStep;
