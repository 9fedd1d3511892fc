/**
 * Is a start time bookable, and which times are? A time is bookable when the whole service
 * fits inside one opening interval of that local weekday, it is not in the past, and none of
 * the 15-minute slots it covers is held by another booking.
 */
import type { Queryable } from '../../db/pool.js';
import { ceilToSlot, isSlotAligned, minuteOfDay, SLOT_MS, toWallTime } from './time.js';
import type { OpeningInterval, ServiceRow, ShopRow } from './types.js';

export type Unavailable = 'past' | 'closed' | 'taken' | 'unaligned' | 'beyond_horizon';

const DAY_MS = 86_400_000;

/** The last instant a booking may start: `horizonDays` after now. */
export function horizonEnd(now: Date, horizonDays: number): Date {
  return new Date(now.getTime() + horizonDays * DAY_MS);
}

export async function loadOpeningHours(db: Queryable, shopId: number): Promise<OpeningInterval[]> {
  const { rows } = await db.query<OpeningInterval>(
    `SELECT weekday::int AS weekday,
            (extract(hour FROM opens) * 60 + extract(minute FROM opens))::int AS opens,
            (extract(hour FROM closes) * 60 + extract(minute FROM closes))::int AS closes
       FROM opening_hours WHERE shop_id = $1 ORDER BY weekday, opens`,
    [shopId],
  );
  return rows;
}

/** Start instants (ms) of the 15-minute slots a booking [start, start + duration) covers. */
export function slotsCovered(start: Date, durationMinutes: number): number[] {
  const first = Math.floor(start.getTime() / SLOT_MS) * SLOT_MS;
  const end = start.getTime() + durationMinutes * 60_000;
  const slots: number[] = [];
  for (let t = first; t < end; t += SLOT_MS) slots.push(t);
  return slots;
}

export function fitsOpeningHours(start: Date, durationMinutes: number, timeZone: string, hours: OpeningInterval[]): boolean {
  const wall = toWallTime(start, timeZone);
  const from = minuteOfDay(wall);
  const to = from + durationMinutes;
  return hours.some((h) => h.weekday === wall.weekday && h.opens <= from && to <= h.closes);
}

export async function takenSlots(db: Queryable, shopId: number, from: Date, to: Date): Promise<Set<number>> {
  const { rows } = await db.query<{ slot_start: Date }>(
    'SELECT slot_start FROM booking_slots WHERE shop_id = $1 AND slot_start >= $2 AND slot_start < $3',
    [shopId, new Date(Math.floor(from.getTime() / SLOT_MS) * SLOT_MS), to],
  );
  return new Set(rows.map((r) => r.slot_start.getTime()));
}

export interface AvailabilityInput {
  db: Queryable;
  shop: ShopRow;
  service: ServiceRow;
  hours: OpeningInterval[];
  now: Date;
  /** Bookings start at most this many days ahead (booking_horizon_days). */
  horizonDays: number;
}

export async function checkSlot(input: AvailabilityInput, start: Date): Promise<{ ok: true } | { ok: false; reason: Unavailable }> {
  if (!Number.isFinite(start.getTime())) return { ok: false, reason: 'beyond_horizon' };
  if (!isSlotAligned(start)) return { ok: false, reason: 'unaligned' };
  if (start.getTime() < input.now.getTime()) return { ok: false, reason: 'past' };
  // Before anything is written: a year-11026 booking was saved and then failed to serialise (a 500 after a commit).
  if (!(start.getTime() <= horizonEnd(input.now, input.horizonDays).getTime())) return { ok: false, reason: 'beyond_horizon' };
  if (!fitsOpeningHours(start, input.service.duration_minutes, input.shop.timezone, input.hours)) return { ok: false, reason: 'closed' };
  const end = new Date(start.getTime() + input.service.duration_minutes * 60_000);
  const taken = await takenSlots(input.db, input.shop.id, start, end);
  if (slotsCovered(start, input.service.duration_minutes).some((s) => taken.has(s))) return { ok: false, reason: 'taken' };
  return { ok: true };
}

/**
 * The first `count` bookable start times at or after `from` (never before now), within
 * `days` days, on 15-minute boundaries. One query for the taken slots of the whole window.
 */
export async function nextFreeSlots(input: AvailabilityInput, from: Date, count = 3, days = 14): Promise<Date[]> {
  // A time past the horizon asks for suggestions from now: the nearest bookable times there are.
  const horizon = horizonEnd(input.now, input.horizonDays).getTime();
  const start = ceilToSlot(new Date(Math.max(from.getTime() > horizon || !Number.isFinite(from.getTime()) ? input.now.getTime() : from.getTime(), input.now.getTime())));
  const end = new Date(Math.min(start.getTime() + days * DAY_MS, horizon + 1));
  if (input.hours.length === 0) return [];
  const taken = await takenSlots(input.db, input.shop.id, start, new Date(end.getTime() + input.service.duration_minutes * 60_000));
  const found: Date[] = [];
  for (let t = start.getTime(); t < end.getTime() && found.length < count; t += SLOT_MS) {
    const candidate = new Date(t);
    if (!fitsOpeningHours(candidate, input.service.duration_minutes, input.shop.timezone, input.hours)) continue;
    if (slotsCovered(candidate, input.service.duration_minutes).some((s) => taken.has(s))) continue;
    found.push(candidate);
  }
  return found;
}
