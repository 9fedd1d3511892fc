/** The chat tables: sessions, their shop, messages. Parameterised SQL only. */
import type { Queryable } from '../../db/pool.js';
import { SHOP_COLUMNS, type ServiceRow, type ShopRow } from '../booking/types.js';
import type { ChatTurn, Draft, RouterContext, SessionRow } from './types.js';

export async function findShopBySlug(db: Queryable, slug: string): Promise<ShopRow | undefined> {
  const { rows } = await db.query<ShopRow>(`SELECT ${SHOP_COLUMNS} FROM shops WHERE slug = $1`, [slug]);
  return rows[0];
}

export async function loadServices(db: Queryable, shopId: number): Promise<ServiceRow[]> {
  const { rows } = await db.query<ServiceRow>('SELECT id::int AS id, name, duration_minutes, price_cents FROM services WHERE shop_id = $1 ORDER BY id', [shopId]);
  return rows;
}

/**
 * Open a session with its greeting. `clientHmac` is the opening request's client as
 * router_refusals stores it (migration 013), so the daily review can tell whether clients that
 * were rate limited went on to book.
 */
export async function createSession(
  db: Queryable,
  shop: ShopRow,
  context: RouterContext,
  greeting: string,
  opener: { synthetic?: boolean; clientHmac?: string | null } = {},
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `WITH s AS (
       INSERT INTO chat_sessions (shop_id, source, search_id, intent, router_context, last_message_at, synthetic, client_hmac)
       VALUES ($1, $2, $3, $4, $5::jsonb, now(), $7, $8)
       RETURNING id
     ), m AS (
       INSERT INTO chat_messages (session_id, role, content) SELECT id, 'assistant', $6 FROM s
     )
     SELECT id FROM s`,
    [shop.id, context.source ?? 'direct', context.search_id ?? null, context.intent ?? null, JSON.stringify(context), greeting, opener.synthetic ?? false, opener.clientHmac ?? null],
  );
  return rows[0]!.id;
}

export async function findSession(db: Queryable, sessionId: string): Promise<{ session: SessionRow; shop: ShopRow } | undefined> {
  const { rows } = await db.query<SessionRow & { shop: ShopRow }>(
    `SELECT cs.id, cs.shop_id::int AS shop_id, cs.source, cs.search_id, cs.intent, cs.router_context, cs.synthetic,
            json_build_object('id', s.id, 'slug', s.slug, 'name', s.name, 'category', s.category, 'address', s.address, 'city', s.city,
                              'state', s.state, 'postal_code', s.postal_code, 'phone', s.phone, 'timezone', s.timezone,
                              'require_customer_phone', s.require_customer_phone) AS shop
       FROM chat_sessions cs JOIN shops s ON s.id = cs.shop_id
      WHERE cs.id = $1`,
    [sessionId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { shop, ...session } = row;
  return { session, shop: { ...shop, id: Number(shop.id) } };
}

export async function loadHistory(db: Queryable, sessionId: string, limit = 20): Promise<ChatTurn[]> {
  const { rows } = await db.query<ChatTurn>(
    `SELECT role, content FROM chat_messages WHERE session_id = $1 AND role IN ('user', 'assistant') ORDER BY id DESC LIMIT $2`,
    [sessionId, limit],
  );
  return rows.reverse();
}

/** Store the exchange and the assistant's draft in one statement. */
export async function saveExchange(db: Queryable, sessionId: string, userMessage: string, reply: string, draft: Draft | undefined): Promise<void> {
  await db.query(
    `WITH m AS (
       INSERT INTO chat_messages (session_id, role, content) VALUES ($1, 'user', $2), ($1, 'assistant', $3)
     )
     UPDATE chat_sessions
        SET last_message_at = now(),
            router_context = CASE WHEN $4::jsonb IS NULL THEN router_context - 'draft' ELSE jsonb_set(router_context, '{draft}', $4::jsonb) END
      WHERE id = $1`,
    [sessionId, userMessage, reply, draft === undefined ? null : JSON.stringify(draft)],
  );
}

export async function findBookingForKey(db: Queryable, idempotencyKey: string): Promise<{ id: string; status: 'confirmed' | 'cancelled'; service: string; starts_at: Date; ends_at: Date; customer_name: string | null } | undefined> {
  const { rows } = await db.query<{ id: string; status: 'confirmed' | 'cancelled'; service: string; starts_at: Date; ends_at: Date; customer_name: string | null }>(
    `SELECT b.id, b.status, sv.name AS service, b.starts_at, b.ends_at, b.customer_name
       FROM bookings b JOIN services sv ON sv.id = b.service_id
      WHERE b.idempotency_key = $1`,
    [idempotencyKey],
  );
  return rows[0];
}
