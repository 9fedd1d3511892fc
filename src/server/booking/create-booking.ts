/**
 * Save a booking: the bookings row and one booking_slots row per 15 minutes it covers, in one
 * transaction. Two overlapping bookings of a shop share a slot, so the second INSERT fails on
 * booking_slots_pkey (23505) even when 50 arrive at once — the database decides, no app lock.
 * The idempotency key (unique) makes a retried request return the first booking.
 *
 * A booking made through chat is one the shop can call about: without the customer's name (and
 * a phone number where the shop's require_customer_phone is set) it is refused here, for every
 * caller, before anything is written — the assistants ask first, this is the rule they follow.
 */
import type { Logger } from 'pino';
import { withTransaction, type Pool, type Queryable } from '../../db/pool.js';
import { LOG_TAGS } from '../logger.js';
import { formatLocal } from './time.js';
import type { BookingRow, BookingView, ServiceRow, ShopRow } from './types.js';

export interface CreateBookingInput {
  shop: ShopRow;
  service: ServiceRow;
  sessionId: string | null;
  customerName: string | null;
  /** Required when the shop's require_customer_phone is set. */
  customerPhone?: string | null;
  startsAt: Date;
  /** Already scoped to the session by the caller (unique across all bookings). */
  idempotencyKey: string | null;
  /** Made in a synthetic session or request: left out of every metric, and cancelled by the check that made it. */
  synthetic?: boolean;
}

export type CreateBookingResult =
  | { kind: 'created'; booking: BookingRow }
  | { kind: 'existing'; booking: BookingRow }
  | { kind: 'taken' }
  /** A chat booking without the contact details the shop needs: nothing was written; ask for them. */
  | { kind: 'missing_details'; missing: ContactField[] };

export type ContactField = 'customer_name' | 'customer_phone';

export const CUSTOMER_NAME_MAX_LENGTH = 100;
/** What bookings_customer_phone_format (migration 015) accepts: 7 to 15 digits as people write them. */
const PHONE_RE = /^\+?[(]?[0-9][0-9 ().-]{5,28}[0-9]$/;

/** A usable name: trimmed, not empty, at most 100 characters; otherwise undefined. */
export function cleanName(value: string | null | undefined): string | undefined {
  const name = value?.replace(/\s+/g, ' ').trim();
  return name ? name.slice(0, CUSTOMER_NAME_MAX_LENGTH) : undefined;
}

/** A usable phone number (7–15 digits, written with spaces, + ( ) . -); otherwise undefined. */
export function cleanPhone(value: string | null | undefined): string | undefined {
  const phone = value?.replace(/\s+/g, ' ').trim();
  if (!phone || !PHONE_RE.test(phone)) return undefined;
  const digits = phone.replace(/\D/g, '').length;
  return digits >= 7 && digits <= 15 ? phone : undefined;
}

/** What a chat booking at this shop still lacks: the name always, the phone where the shop requires it. */
export function missingContact(shop: Pick<ShopRow, 'require_customer_phone'>, contact: { customerName?: string | null; customerPhone?: string | null }): ContactField[] {
  const missing: ContactField[] = [];
  if (!cleanName(contact.customerName)) missing.push('customer_name');
  if (shop.require_customer_phone && !cleanPhone(contact.customerPhone)) missing.push('customer_phone');
  return missing;
}

const BOOKING_COLUMNS = 'id, shop_id::int AS shop_id, service_id::int AS service_id, session_id, customer_name, customer_phone, starts_at, ends_at, status';

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === '23505';
}

export async function findBookingByKey(db: Queryable, idempotencyKey: string): Promise<BookingRow | undefined> {
  const { rows } = await db.query<BookingRow>(`SELECT ${BOOKING_COLUMNS} FROM bookings WHERE idempotency_key = $1`, [idempotencyKey]);
  return rows[0];
}

export async function createBooking(pool: Pool, log: Logger, input: CreateBookingInput): Promise<CreateBookingResult> {
  const endsAt = new Date(input.startsAt.getTime() + input.service.duration_minutes * 60_000);
  // A chat booking is one made in a session: refused without the name (and phone) it needs.
  if (input.sessionId !== null) {
    const missing = missingContact(input.shop, input);
    if (missing.length > 0) {
      log.info({ shop: input.shop.slug, session_id: input.sessionId, missing }, `${LOG_TAGS.booking} booking refused: ${missing.join(' and ')} missing`);
      return { kind: 'missing_details', missing };
    }
  }
  const customerName = cleanName(input.customerName) ?? null;
  const customerPhone = cleanPhone(input.customerPhone) ?? null;
  try {
    const result = await withTransaction(pool, async (client): Promise<CreateBookingResult> => {
      const inserted = await client.query<BookingRow>(
        `INSERT INTO bookings (shop_id, service_id, session_id, customer_name, customer_phone, starts_at, ends_at, status, idempotency_key, synthetic)
         VALUES ($1, $2, $3, $4, $9, $5, $6, 'confirmed', $7, $8)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING ${BOOKING_COLUMNS}`,
        [input.shop.id, input.service.id, input.sessionId, customerName, input.startsAt, endsAt, input.idempotencyKey, input.synthetic === true, customerPhone],
      );
      const booking = inserted.rows[0];
      if (!booking) {
        // The key was used by a committed booking (perhaps a concurrent retry that won).
        const existing = input.idempotencyKey ? await findBookingByKey(client, input.idempotencyKey) : undefined;
        if (!existing) throw new Error('booking insert returned no row and no booking has the idempotency key');
        return { kind: 'existing', booking: existing };
      }
      await client.query(
        `INSERT INTO booking_slots (shop_id, slot_start, booking_id)
         SELECT $1, g, $2
           FROM generate_series(to_timestamp(floor(extract(epoch FROM $3::timestamptz) / 900) * 900), $4::timestamptz - interval '1 microsecond', interval '15 minutes') AS g`,
        [input.shop.id, booking.id, input.startsAt, endsAt],
      );
      return { kind: 'created', booking };
    });
    if (result.kind === 'created') {
      log.info(
        { booking_id: result.booking.id, shop: input.shop.slug, service: input.service.name, starts_at: input.startsAt.toISOString(), session_id: input.sessionId },
        `${LOG_TAGS.booking} booking confirmed: ${input.service.name} at ${input.shop.slug} on ${formatLocal(input.startsAt, input.shop.timezone)}`,
      );
    } else if (result.kind === 'existing') {
      log.info({ booking_id: result.booking.id, shop: input.shop.slug }, `${LOG_TAGS.booking} idempotent retry returned the existing booking`);
    }
    return result;
  } catch (error) {
    if (isUniqueViolation(error)) {
      log.info({ shop: input.shop.slug, starts_at: input.startsAt.toISOString(), constraint: (error as { constraint?: string }).constraint }, `${LOG_TAGS.booking} slot already taken`);
      return { kind: 'taken' };
    }
    throw error;
  }
}

export function bookingView(booking: BookingRow, shop: ShopRow, serviceName: string, now?: Date): BookingView {
  return {
    id: booking.id,
    status: booking.status,
    service: serviceName,
    starts_at: booking.starts_at.toISOString(),
    ends_at: booking.ends_at.toISOString(),
    local_time: formatLocal(booking.starts_at, shop.timezone, now),
    customer_name: booking.customer_name,
    shop_slug: shop.slug,
  };
}
