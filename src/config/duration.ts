import { UsageError } from '../errors.js';

/**
 * The one duration grammar for every flag, config key and environment variable: a whole number
 * and a unit, `\d+(ms|s|m|h|d|w)` — 500ms, 30s, 5m, 2h, 7d, 1w (docs/configuration.md#durations).
 * A unit is required: a bare "5" could mean milliseconds or seconds, and a wrong guess is off by
 * a factor of 1000. The few keys that took a bare number before keep it (parseDurationOrMs).
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
type Unit = keyof typeof UNIT_MS;

const DURATION_RE = /^(\d+)(ms|s|m|h|d|w)$/;
const BARE_NUMBER_RE = /^\d+$/;

/** What a duration looks like, for messages. */
export const DURATION_GRAMMAR = 'a number with ms, s, m, h, d or w';

/**
 * The longest duration a flag or key may hold: 2^31 − 1 ms (about 24.8 days). Every duration
 * ends up in a Node timer or PostgreSQL's lock_timeout, and both silently misbehave past it (a
 * Node timer fires at once; PostgreSQL refuses the value).
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

function notADuration(where: string, text: string): UsageError {
  return new UsageError(`${where} ${JSON.stringify(text)} is not a duration: use ${DURATION_GRAMMAR} (e.g. 30s, 5m)`);
}

function tooLong(where: string, text: string): UsageError {
  return new UsageError(`${where} ${JSON.stringify(text)} is too long: use at most 24d (e.g. 30s, 5m)`);
}

/** Milliseconds for a match of the grammar; undefined when it does not match. May be unsafe (huge). */
function toMs(text: string): number | undefined {
  const match = DURATION_RE.exec(text.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2] as Unit] : undefined;
}

function bounded(ms: number, where: string, text: string): number {
  if (!Number.isSafeInteger(ms) || ms > MAX_DURATION_MS) throw tooLong(where, text);
  return ms;
}

/**
 * A duration in milliseconds. `where` names what was read (`--lock-wait`, a config key) so the
 * message can point at it. Throws UsageError on anything outside the grammar or over 24d.
 */
export function parseDuration(text: string, where: string): number {
  const ms = toMs(text);
  if (ms === undefined) throw notADuration(where, text);
  return bounded(ms, where, text);
}

/**
 * An age or a look-back window (`older_than: 90d`, `window: 30d`): the same grammar, without the
 * 24-day bound — it is compared with timestamps, never handed to a timer — up to 100 years.
 */
export function parseAge(text: string, where: string): number {
  const ms = toMs(String(text));
  if (ms === undefined) throw notADuration(where, String(text));
  if (!Number.isSafeInteger(ms) || ms > 100 * 365 * UNIT_MS.d) throw new UsageError(`${where} ${JSON.stringify(text)} is too long: use at most 100 years (e.g. 90d, 52w)`);
  return ms;
}

/**
 * parseDuration, except that a bare number is milliseconds — only for the keys that documented
 * one before the grammar existed (lock_timeout, deploy.timeout, ROUTERGPT_LOCK_TIMEOUT), so
 * existing files keep working. YAML gives an unquoted number as a number.
 */
export function parseDurationOrMs(value: string | number, where: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw notADuration(where, String(value));
    return bounded(value, where, String(value));
  }
  if (BARE_NUMBER_RE.test(value.trim())) return bounded(Number(value.trim()), where, value);
  return parseDuration(value, where);
}

/** A date-only or date-time ISO 8601 value; without an offset it is UTC, whatever the machine's zone. */
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

function parseIsoDate(text: string): Date | undefined {
  const m = ISO_RE.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((p) => (p === undefined ? undefined : Number(p))) as number[];
  const millis = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const utc = new Date(Date.UTC(year!, month! - 1, day!, hour, minute, second, millis));
  // Date.UTC rolls 2026-02-30 over into March; a date that does not round-trip does not exist.
  const exists = utc.getUTCFullYear() === year && utc.getUTCMonth() === month! - 1 && utc.getUTCDate() === day && utc.getUTCHours() === hour && utc.getUTCMinutes() === minute && utc.getUTCSeconds() === second;
  if (!exists) return undefined;
  const offset = m[8];
  if (!offset || offset === 'Z') return utc;
  const [oh, om] = [Number(offset.slice(1, 3)), Number(offset.slice(4, 6))];
  if (oh > 23 || om > 59) return undefined;
  const sign = offset.startsWith('-') ? -1 : 1;
  return new Date(utc.getTime() - sign * (oh * 60 + om) * 60_000);
}

/**
 * A point in time for `--since`-style flags: a duration means that long before `now` (7d: a week
 * ago), otherwise an ISO 8601 date (2026-11-30, midnight UTC) or date-time (2026-11-30T12:00:00Z).
 * A duration here may exceed 24d — it never reaches a timer — as long as the date exists.
 */
export function parseSince(text: string, now: Date, where = '--since'): Date {
  const trimmed = text.trim();
  const ms = toMs(trimmed);
  if (ms !== undefined) {
    const since = new Date(now.getTime() - ms);
    if (!Number.isSafeInteger(ms) || Number.isNaN(since.getTime())) throw new UsageError(`${where} ${JSON.stringify(text)} is too long ago: use a shorter duration (e.g. 7d) or a date (e.g. 2026-11-30)`);
    return since;
  }
  const date = parseIsoDate(trimmed);
  if (date) return date;
  throw new UsageError(`${where} ${JSON.stringify(text)} is not a duration or a date: use ${DURATION_GRAMMAR} (e.g. 7d) or an ISO 8601 date (e.g. 2026-11-30 or 2026-11-30T12:00:00Z)`);
}

/** A duration for people, in its two largest units: 8d, 3d 4h, 5h 12m, 45s, 250ms. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  const total = Math.round(ms / 1000) * 1000;
  const first = units.findIndex(([, size]) => total >= size);
  const [name, size] = units[first]!;
  const head = `${Math.floor(total / size)}${name}`;
  const next = units[first + 1];
  const rest = next ? Math.floor((total % size) / next[1]) : 0;
  return rest > 0 ? `${head} ${rest}${next![0]}` : head;
}
