/** POST /chat: one customer message → the shop assistant's reply, and the booking when one is made. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { formatLocal } from '../booking/time.js';
import type { BookingView } from '../booking/types.js';
import { findBookingForKey, findSession, loadHistory, loadServices, saveExchange } from '../chat/store.js';
import { createBookingTools } from '../chat/tools.js';
import { HttpError } from '../errors.js';
import { LOG_TAGS } from '../logger.js';
import { chatBodySchema, chatResponseSchema, errorResponses, IDEMPOTENCY_KEY_MAX_LENGTH, type ChatBody } from '../schemas.js';

const KEY_RE = new RegExp(`^[\\x21-\\x7e]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}$`);

function idempotencyKeyOf(header: string | string[] | undefined, body: string | undefined): string | undefined {
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (fromHeader !== undefined && !KEY_RE.test(fromHeader)) {
    throw new HttpError('validation_failed', 'The request is invalid: Idempotency-Key header has an invalid format.', [
      { field: 'Idempotency-Key', message: `must be 1–${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters without spaces` },
    ]);
  }
  if (fromHeader !== undefined && body !== undefined && fromHeader !== body) {
    throw new HttpError('validation_failed', 'The request is invalid: Idempotency-Key header and idempotency_key differ.', [{ field: 'idempotency_key', message: 'differs from the Idempotency-Key header; send one or make them equal' }]);
  }
  return fromHeader ?? body;
}

export async function chatRoutes(app: FastifyInstance): Promise<void> {
  app.post('/chat', { schema: { body: chatBodySchema, response: { 200: chatResponseSchema, ...errorResponses } } }, async (request, reply) => {
    const body = request.body as ChatBody;
    const { pool, analytics, clock, assistant } = app.rgpt;
    const key = idempotencyKeyOf(request.headers['idempotency-key'], body.idempotency_key);
    const found = await findSession(pool, body.session_id);
    if (!found) throw new HttpError('session_not_found', `No chat session ${body.session_id}. Start one with POST /router/delegate.`);
    const { session, shop } = found;
    // A conversation a check opened stays synthetic, whatever later requests carry.
    const synthetic = request.synthetic || session.synthetic;
    // Scoped to the session: a key reused by another conversation can never return its booking.
    const scopedKey = key ? `${session.id}:${key}` : null;

    if (scopedKey) {
      const previous = await findBookingForKey(pool, scopedKey);
      if (previous) {
        // A retry of a request that already booked: answer the same, book nothing.
        const booking: BookingView = {
          id: previous.id,
          status: previous.status,
          service: previous.service,
          starts_at: previous.starts_at.toISOString(),
          ends_at: previous.ends_at.toISOString(),
          local_time: formatLocal(previous.starts_at, shop.timezone, clock()),
          customer_name: previous.customer_name,
          shop_slug: shop.slug,
        };
        // Still a request answered, so still its one chat_message event (docs/metrics.md); it books nothing.
        analytics.record({ eventType: 'chat_message', sessionId: session.id, shopId: shop.id, searchId: session.search_id, latencyMs: reply.elapsedTime, synthetic, payload: { assistant: assistant.name, booked: false, replayed: true } });
        request.log.info({ session_id: session.id, booking_id: previous.id }, `${LOG_TAGS.booking} repeated request with the same idempotency key; returning the existing booking`);
        return { session_id: session.id, reply: `You're booked: ${booking.service} at ${shop.name} on ${booking.local_time}. Your booking reference is ${booking.id}.`, booking };
      }
    }

    const now = clock();
    const [services, history] = await Promise.all([loadServices(pool, shop.id), loadHistory(pool, session.id)]);
    const tools = createBookingTools({
      pool,
      log: request.log as unknown as Logger,
      shop,
      services,
      sessionId: session.id,
      now,
      idempotencyKey: scopedKey,
      synthetic,
      horizonDays: app.rgpt.config.bookingHorizonDays.value,
      onBooking: (booking, created) => {
        if (created) analytics.record({ eventType: 'booking', sessionId: session.id, shopId: shop.id, searchId: session.search_id, latencyMs: reply.elapsedTime, synthetic, payload: { booking_id: booking.id, service: booking.service, starts_at: booking.starts_at } });
      },
    });
    const answer = await assistant.respond({ session, shop, services, history, message: body.message, customerName: body.customer_name, now, tools });
    await saveExchange(pool, session.id, body.message, answer.reply, answer.draft);
    analytics.record({ eventType: 'chat_message', sessionId: session.id, shopId: shop.id, searchId: session.search_id, latencyMs: reply.elapsedTime, synthetic, payload: { assistant: assistant.name, booked: Boolean(answer.booking) } });
    request.log.info({ session_id: session.id, shop: shop.slug, assistant: assistant.name, booked: answer.booking?.id ?? null }, `${LOG_TAGS.router} chat message answered`);
    return {
      session_id: session.id,
      reply: answer.reply,
      booking: answer.booking ?? null,
      ...(answer.suggestedTimes && answer.suggestedTimes.length > 0 ? { suggested_times: answer.suggestedTimes.map((d) => d.toISOString()) } : {}),
    };
  });
}
