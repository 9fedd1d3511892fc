/**
 * Save a booking: the bookings row and one booking_slots row per 15 minutes it covers, in one
 * transaction. Two overlapping bookings of a shop share a slot, so the second INSERT fails on
 * booking_slots_pkey (23505) even when 50 arrive at once — the database decides, no app lock.
 * The idempotency key (unique) makes a retried request return the first booking.
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
  startsAt: Date;
  /** Already scoped to the session by the caller (unique across all bookings). */
  idempotencyKey: string | null;
  /** Made in a synthetic session or request: left out of every metric, and cancelled by the check that made it. */
  synthetic?: boolean;
}

export type CreateBookingResult =
  | { kind: 'created'; booking: BookingRow }
  | { kind: 'existing'; booking: BookingRow }
  | { kind: 'taken' };

const BOOKING_COLUMNS = 'id, shop_id::int AS shop_id, service_id::int AS service_id, session_id, customer_name, starts_at, ends_at, status';

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === '23505';
}

export async function findBookingByKey(db: Queryable, idempotencyKey: string): Promise<BookingRow | undefined> {
  const { rows } = await db.query<BookingRow>(`SELECT ${BOOKING_COLUMNS} FROM bookings WHERE idempotency_key = $1`, [idempotencyKey]);
  return rows[0];
}

export async function createBooking(pool: Pool, log: Logger, input: CreateBookingInput): Promise<CreateBookingResult> {
  const endsAt = new Date(input.startsAt.getTime() + input.service.duration_minutes * 60_000);
  try {
    const result = await withTransaction(pool, async (client): Promise<CreateBookingResult> => {
      const inserted = await client.query<BookingRow>(
        `INSERT INTO bookings (shop_id, service_id, session_id, customer_name, starts_at, ends_at, status, idempotency_key, synthetic)
         VALUES ($1, $2, $3, $4, $5, $6, 'confirmed', $7, $8)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING ${BOOKING_COLUMNS}`,
        [input.shop.id, input.service.id, input.sessionId, input.customerName, input.startsAt, endsAt, input.idempotencyKey, input.synthetic === true],
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
