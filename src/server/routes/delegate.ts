/** POST /router/delegate: open a chat session with one shop's booking assistant. */
import type { FastifyInstance } from 'fastify';
import { describeService, type ServiceRow, type ShopRow } from '../booking/types.js';
import { createSession, findShopBySlug, loadServices } from '../chat/store.js';
import { clientHmac } from '../analytics/client-hmac.js';
import { HttpError } from '../errors.js';
import { LOG_TAGS } from '../logger.js';
import { delegateBodySchema, delegateResponseSchema, errorResponses, type DelegateBody } from '../schemas.js';
import { noteForAccessLog } from '../access-log.js';

export function greeting(shop: ShopRow, services: ServiceRow[], intent: string | undefined): string {
  const where = shop.city ? ` in ${shop.city}` : '';
  const heard = intent ? ` You mentioned: "${intent}".` : '';
  const menu = services.length > 0 ? ` We offer: ${services.map(describeService).join('; ')}.` : '';
  return `Hi! I'm the booking assistant for ${shop.name}${where}.${heard}${menu} What would you like to book, and when? (For example: "a ${services[0]?.name.toLowerCase() ?? 'appointment'} tomorrow at 3pm".)`;
}

export async function delegateRoutes(app: FastifyInstance): Promise<void> {
  app.post('/router/delegate', { schema: { body: delegateBodySchema, response: { 201: delegateResponseSchema, ...errorResponses } } }, async (request, reply) => {
    const body = request.body as DelegateBody;
    const { pool, analytics } = app.rgpt;
    const shop = await findShopBySlug(pool, body.shop_slug);
    if (!shop) throw new HttpError('shop_not_found', `No shop has the slug "${body.shop_slug}". Use a shop_slug from the results of POST /router/search-by-location.`);
    const services = await loadServices(pool, shop.id);
    const intent = body.intent?.trim() || undefined;
    const source = body.search_id ? 'search' : 'direct';
    const message = greeting(shop, services, intent);
    const sessionId = await createSession(pool, shop, { source, search_id: body.search_id ?? null, intent: intent ?? null }, message, {
      synthetic: request.synthetic,
      clientHmac: clientHmac(app.currentSyntheticKey(), app.rateLimitClientKey(request)),
    });
    analytics.record({ eventType: 'delegate', sessionId, shopId: shop.id, searchId: body.search_id ?? null, latencyMs: reply.elapsedTime, synthetic: request.synthetic, payload: { source, ...(intent ? { intent } : {}) } });
    noteForAccessLog(request, { session_id: sessionId, shop: shop.slug, search_id: body.search_id ?? null, source }, `${LOG_TAGS.router} delegated to ${shop.slug}`);
    return reply.code(201).send({
      session_id: sessionId,
      shop: { slug: shop.slug, name: shop.name, category: shop.category, address: shop.address, city: shop.city, state: shop.state, postal_code: shop.postal_code, phone: shop.phone, timezone: shop.timezone },
      message,
      next: {
        method: 'POST',
        path: '/chat',
        body: { session_id: sessionId, message: "<the customer's words>" },
        instructions: 'Relay the customer\'s messages to POST /chat with this session_id and show them the reply. A booking is saved when the reply includes "booking". Send an Idempotency-Key header so a retried request books only once.',
      },
    });
  });
}
