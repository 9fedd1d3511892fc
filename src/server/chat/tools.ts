/**
 * The booking tools both assistants use (the OpenAI one through tool calls): list services,
 * check a time, book. Bound to one session, so a tool can never book for another shop.
 */
import type { Logger } from 'pino';
import type { Pool } from '../../db/pool.js';
import { checkSlot, horizonEnd, loadOpeningHours, nextFreeSlots, type Unavailable } from '../booking/availability.js';
import { bookingView, createBooking, findBookingByKey, missingContact, type ContactField } from '../booking/create-booking.js';
import type { BookingRow, BookingView, OpeningInterval, ServiceRow, ShopRow } from '../booking/types.js';

export type BookOutcome =
  | { status: 'booked' | 'existing'; booking: BookingView }
  | { status: 'unavailable'; reason: Unavailable; suggestions: Date[] }
  /** Nothing booked: the shop needs these from the customer first (the name always, the phone where required). */
  | { status: 'missing_details'; missing: ContactField[] };

/** Who the booking is for. */
export interface Contact {
  customerName: string | null;
  customerPhone?: string | null;
}

export interface BookingTools {
  services(): ServiceRow[];
  check(serviceId: number, start: Date): Promise<{ available: true } | { available: false; reason: Unavailable; suggestions: Date[] }>;
  suggest(serviceId: number, from: Date, count?: number): Promise<Date[]>;
  book(serviceId: number, start: Date, contact: Contact): Promise<BookOutcome>;
  /** What a booking at this shop still needs from the customer (empty: nothing). */
  missing(contact: Contact): ContactField[];
  /** The last instant a booking may start (booking_horizon_days after now). */
  horizon(): { days: number; until: Date };
}

export interface BookingToolsOptions {
  pool: Pool;
  log: Logger;
  shop: ShopRow;
  services: ServiceRow[];
  sessionId: string;
  now: Date;
  /** Session-scoped idempotency key for the booking this request may make. */
  idempotencyKey: string | null;
  /** The conversation is synthetic: so is its booking. */
  synthetic?: boolean;
  /** booking_horizon_days. */
  horizonDays: number;
  onBooking?: (booking: BookingView, created: boolean) => void;
}

export function createBookingTools(o: BookingToolsOptions): BookingTools {
  let hours: OpeningInterval[] | undefined;
  const opening = async () => (hours ??= await loadOpeningHours(o.pool, o.shop.id));
  const serviceById = (id: number) => {
    const service = o.services.find((s) => s.id === id);
    if (!service) throw new RangeError(`unknown service id ${id}; call list_services for the ids`);
    return service;
  };
  const input = async (serviceId: number) => ({ db: o.pool, shop: o.shop, service: serviceById(serviceId), hours: await opening(), now: o.now, horizonDays: o.horizonDays });
  const suggest = async (serviceId: number, from: Date, count = 3) => nextFreeSlots(await input(serviceId), from, count);

  return {
    services: () => o.services,
    horizon: () => ({ days: o.horizonDays, until: horizonEnd(o.now, o.horizonDays) }),
    suggest,
    async check(serviceId, start) {
      const result = await checkSlot(await input(serviceId), start);
      if (result.ok) return { available: true };
      return { available: false, reason: result.reason, suggestions: await suggest(serviceId, start) };
    },
    missing: (contact) => missingContact(o.shop, contact),
    async book(serviceId, start, contact) {
      const service = serviceById(serviceId);
      // createBooking's own rule, asked first so a refused call costs no availability query.
      const missing = missingContact(o.shop, contact);
      if (missing.length > 0) return { status: 'missing_details', missing };
      const view = (booking: BookingRow) => bookingView(booking, o.shop, o.services.find((s) => s.id === booking.service_id)?.name ?? service.name, o.now);
      // A slot "taken" by a concurrent retry of this very request (same key) is this booking.
      const takenBySelf = async () => (o.idempotencyKey ? await findBookingByKey(o.pool, o.idempotencyKey) : undefined);
      const check = await checkSlot(await input(serviceId), start);
      if (!check.ok) {
        const own = check.reason === 'taken' ? await takenBySelf() : undefined;
        if (own) return { status: 'existing', booking: view(own) };
        return { status: 'unavailable', reason: check.reason, suggestions: await suggest(serviceId, start) };
      }
      const result = await createBooking(o.pool, o.log, { shop: o.shop, service, sessionId: o.sessionId, customerName: contact.customerName, customerPhone: contact.customerPhone ?? null, startsAt: start, idempotencyKey: o.idempotencyKey, synthetic: o.synthetic });
      if (result.kind === 'missing_details') return { status: 'missing_details', missing: result.missing };
      if (result.kind === 'taken') {
        const own = await takenBySelf();
        if (own) return { status: 'existing', booking: view(own) };
        return { status: 'unavailable', reason: 'taken', suggestions: await suggest(serviceId, start) };
      }
      const booked = view(result.booking);
      o.onBooking?.(booked, result.kind === 'created');
      return { status: result.kind === 'created' ? 'booked' : 'existing', booking: booked };
    },
  };
}
