/**
 * POST /router/feedback: the customer's rating of a conversation ("how did we do?"), the source
 * of the Success Metrics' satisfaction figure. One per session: a later rating replaces the
 * earlier one (still 201, with the stored feedback; created_at is the first rating's time).
 */
import type { FastifyInstance } from 'fastify';
import { findSession } from '../chat/store.js';
import { HttpError } from '../errors.js';
import { upsertFeedback } from '../feedback/store.js';
import { LOG_TAGS } from '../logger.js';
import { errorResponses, feedbackBodySchema, feedbackResponseSchema, type FeedbackBody } from '../schemas.js';
import { noteForAccessLog } from '../access-log.js';

const notFound = (sessionId: string) => new HttpError('session_not_found', `No chat session ${sessionId}. Send the session_id that delegateToShop returned for this conversation.`);

export async function feedbackRoutes(app: FastifyInstance): Promise<void> {
  app.post('/router/feedback', { schema: { body: feedbackBodySchema, response: { 201: feedbackResponseSchema, ...errorResponses } } }, async (request, reply) => {
    const body = request.body as FeedbackBody;
    const { pool, analytics, clock, served } = app.rgpt;
    const found = await findSession(pool, body.session_id);
    if (!found) throw notFound(body.session_id);
    const { session, shop } = found;
    // A conversation a check opened stays synthetic, whatever later requests carry (as in /chat).
    const synthetic = request.synthetic || session.synthetic;
    const comment = body.comment?.trim() || null;
    const stored = await upsertFeedback(pool, { sessionId: session.id, rating: body.rating, comment, synthetic, release: served.release ?? null, host: served.host ?? null, at: clock() }).catch((error: unknown) => {
      // The session was deleted (retention, GDPR) between the lookup and the insert.
      if ((error as { code?: string }).code === '23503') throw notFound(body.session_id);
      throw error;
    });
    // The comment stays in router_feedback: analytics rows carry no free text from the customer.
    analytics.record({ eventType: 'feedback', sessionId: session.id, shopId: shop.id, searchId: session.search_id, latencyMs: reply.elapsedTime, synthetic, payload: { rating: stored.rating, replaced: stored.replaced, has_comment: comment !== null } });
    noteForAccessLog(request, { session_id: session.id, shop: shop.slug, rating: stored.rating, replaced: stored.replaced }, `${LOG_TAGS.router} feedback ${stored.rating}/5${stored.replaced ? ' (replaces the earlier rating)' : ''}`);
    return reply.code(201).send({
      session_id: stored.session_id,
      rating: stored.rating,
      comment: stored.comment,
      created_at: stored.created_at.toISOString(),
      updated_at: stored.updated_at.toISOString(),
    });
  });
}
