/** POST /router/search-by-location: shops within a radius, nearest first, with a search_id. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors.js';
import { LOG_TAGS } from '../logger.js';
import { errorResponses, SEARCH_MAX_RADIUS_MILES, searchBodySchema, searchResponseSchema, type SearchBody } from '../schemas.js';
import { searchShops } from '../search/search-shops.js';
import { noteForAccessLog } from '../access-log.js';

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * The precision the search works at: coordinates to 7 decimal places (about 1 cm), the radius to
 * 6 (about 2 mm) and at least that. Within the documented ranges, a value smaller than these
 * (5e-324, 1e-200) would make PostgreSQL's float functions fail ("value out of range:
 * underflow" from radians() or power()): it is the same place, so it is searched as that place.
 */
export function searchPoint(body: SearchBody): SearchBody {
  return { ...body, latitude: round(body.latitude, 7) || 0, longitude: round(body.longitude, 7) || 0, radius_miles: Math.max(round(body.radius_miles, 6), 1e-6) };
}

function emptyMessage(body: SearchBody, category: string | undefined): string {
  const where = `within ${body.radius_miles} miles of (${body.latitude}, ${body.longitude})${category ? ` in category "${category}"` : ''}`;
  const tips = [
    body.radius_miles < SEARCH_MAX_RADIUS_MILES ? `a larger radius_miles (up to ${SEARCH_MAX_RADIUS_MILES})` : undefined,
    category ? 'leaving out the category' : undefined,
    'checking the coordinates (latitude first, then longitude)',
  ].filter(Boolean);
  return `No shops found ${where}. Try ${tips.join(', or ')}.`;
}

export async function searchRoutes(app: FastifyInstance): Promise<void> {
  app.post(
    '/router/search-by-location',
    { schema: { body: searchBodySchema, response: { 200: searchResponseSchema, ...errorResponses } } },
    async (request, reply) => {
      const body = searchPoint(request.body as SearchBody);
      const category = body.category?.trim().toLowerCase();
      if (body.category !== undefined && !category) throw new HttpError('validation_failed', 'The request is invalid: category is blank.', [{ field: 'category', message: 'is blank; leave it out to search every category' }]);
      const hits = await searchShops(app.rgpt.pool, { latitude: body.latitude, longitude: body.longitude, radiusMiles: body.radius_miles, category, limit: body.limit }, app.rgpt.density.current());
      const searchId = randomUUID();
      const latencyMs = reply.elapsedTime;
      app.rgpt.analytics.record({
        eventType: 'search',
        searchId,
        latencyMs,
        synthetic: request.synthetic,
        payload: {
          shop_ids: hits.map((h) => h.id),
          result_count: hits.length,
          radius_miles: body.radius_miles,
          category: category ?? null,
          // Rounded (~1 km): enough for demand analytics, not a person's exact location.
          latitude: round(body.latitude, 2),
          longitude: round(body.longitude, 2),
        },
      });
      noteForAccessLog(request, { search_id: searchId, results: hits.length, radius_miles: body.radius_miles, category: category ?? null, latency_ms: round(latencyMs, 1) }, `${LOG_TAGS.router} search found ${hits.length} shop(s)`);
      return {
        search_id: searchId,
        count: hits.length,
        query: { latitude: body.latitude, longitude: body.longitude, radius_miles: body.radius_miles, ...(category ? { category } : {}), limit: body.limit },
        results: hits.map((h) => ({
          slug: h.slug,
          name: h.name,
          category: h.category,
          address: h.address,
          city: h.city,
          state: h.state,
          postal_code: h.postal_code,
          phone: h.phone,
          timezone: h.timezone,
          latitude: h.latitude,
          longitude: h.longitude,
          distance_miles: round(h.distance, 2),
        })),
        message:
          hits.length === 0
            ? emptyMessage(body, category)
            : `Found ${hits.length} shop(s) within ${body.radius_miles} miles, nearest first. To book, call POST /router/delegate with a shop_slug and this search_id.`,
      };
    },
  );
}
