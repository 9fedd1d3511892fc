/**
 * Wall-clock time in a shop's IANA time zone ↔ instants, with Intl only (no tz library).
 * Bookings are stored as timestamptz; opening hours are wall-clock times in shops.timezone.
 */

export interface WallTime {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time and weekday (0 = Sunday) of an instant in a time zone. */
export function toWallTime(instant: Date, timeZone: string): WallTime & { weekday: number } {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(instant).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    weekday: WEEKDAYS.indexOf(parts.weekday ?? ''),
  };
}

/** Offset of the zone from UTC at an instant, in minutes (Phoenix: -420). */
export function offsetMinutes(instant: Date, timeZone: string): number {
  const w = toWallTime(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  return Math.round((asUtc - Math.floor(instant.getTime() / 60_000) * 60_000) / 60_000);
}

/**
 * The instant at which the zone's clocks show `wall`. Two passes settle DST changes; a wall
 * time skipped by a spring-forward resolves to the instant one offset later.
 */
export function fromWallTime(wall: WallTime, timeZone: string): Date {
  const naive = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  let guess = naive - offsetMinutes(new Date(naive), timeZone) * 60_000;
  guess = naive - offsetMinutes(new Date(guess), timeZone) * 60_000;
  return new Date(guess);
}

/** Minutes since local midnight. */
export function minuteOfDay(w: Pick<WallTime, 'hour' | 'minute'>): number {
  return w.hour * 60 + w.minute;
}

/** "Tue, Mar 4, 3:00 PM" in the shop's zone. */
/** "Tue, Mar 5, 3:00 PM" in the shop's zone; with `now`, the year is named when it is not now's ("Tue, Mar 5, 2031, 3:00 PM"). */
export function formatLocal(instant: Date, timeZone: string, now?: Date): string {
  const year = (d: Date) => new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric' }).format(d);
  const withYear = now !== undefined && year(instant) !== year(now);
  return new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', month: 'short', day: 'numeric', ...(withYear ? { year: 'numeric' } : {}), hour: 'numeric', minute: '2-digit' }).format(instant);
}

export const SLOT_MINUTES = 15;
export const SLOT_MS = SLOT_MINUTES * 60_000;

export function isSlotAligned(instant: Date): boolean {
  return instant.getTime() % SLOT_MS === 0;
}

export function ceilToSlot(instant: Date): Date {
  return new Date(Math.ceil(instant.getTime() / SLOT_MS) * SLOT_MS);
}
