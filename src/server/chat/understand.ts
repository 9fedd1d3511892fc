/**
 * What a customer's plain-English message says: which service, which day and time (chrono-node,
 * in the shop's time zone), and their name. No booking logic here.
 */
import { createRequire } from 'node:module';
import type * as Chrono from 'chrono-node/en';
import { fromWallTime, offsetMinutes } from '../booking/time.js';
import type { ServiceRow } from '../booking/types.js';

// chrono-node (the date parser) is loaded on the first message that needs it, not at start-up:
// most requests never chat (issue 16). Its CommonJS build, so parseWhen stays synchronous; its
// English locale alone, which is what the package's own parse() uses (chrono.casual is en.casual):
// the package's index loads all 14 locales, ≈ 270 ms against ≈ 75 ms for this one.
const require = createRequire(import.meta.url);
let chronoModule: typeof Chrono | undefined;
const chrono = (): typeof Chrono => (chronoModule ??= require('chrono-node/en') as typeof Chrono);

const STOPWORDS = new Set(['and', 'with', 'the', 'a', 'an', 'for', 'of', 'to', 'in', 'on', 'at', 'my', 'me', 'i', 'please']);

function words(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9\s]/g, ' ')
    .split(/\s+/)
    .filter((w) => w && !STOPWORDS.has(w))
    .map(stem);
}

/** "haircuts" → "haircut", "nails" → "nail": enough stemming for service names. */
function stem(word: string): string {
  if (word.length > 4 && word.endsWith('es') && /(sh|ch|x|ss)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/**
 * The service whose name words best match the message: most name words present (a name word
 * also matches inside a run-together message word, "hair cut" ↔ "haircut"), then the larger
 * share of the name matched, then the first listed.
 */
export function matchService(message: string, services: ServiceRow[]): ServiceRow | undefined {
  const msgWords = words(message);
  const msgSet = new Set(msgWords);
  const compact = msgWords.join('');
  let best: { service: ServiceRow; score: number; share: number } | undefined;
  for (const service of services) {
    const nameWords = [...new Set(words(service.name))];
    if (nameWords.length === 0) continue;
    const hits = nameWords.filter((w) => msgSet.has(w) || (w.length >= 5 && compact.includes(w))).length;
    if (hits === 0) continue;
    const share = hits / nameWords.length;
    if (!best || hits > best.score || (hits === best.score && share > best.share)) best = { service, score: hits, share };
  }
  return best?.service;
}

export interface WhenParsed {
  /** A full start time (date and time of day). */
  start?: Date;
  /** Only a day was given (YYYY-MM-DD, shop-local). */
  date?: string;
  text: string;
  /**
   * The customer wrote a date that could not be read (`12/31/999999`), or one no calendar holds:
   * ask which day they mean, never guess (a guess booked "today at 3pm").
   */
  unreadable?: string;
}

/** Numeric dates as people write them: 12/31, 12/31/2030, 2030-12-31, 31.12.2030. */
const NUMERIC_DATE = /\b\d{1,6}\/\d{1,2}(?:\/\d{1,9})?\b|\b\d{1,6}[.-]\d{1,2}[.-]\d{1,9}\b/g;

/** The first date/time in the message, read in the shop's zone relative to `now`. */
export function parseWhen(message: string, now: Date, timeZone: string): WhenParsed | undefined {
  const result = chrono().parse(message, { instant: now, timezone: offsetMinutes(now, timeZone) }, { forwardDate: true })[0];
  // A numeric date chrono did not take as the date it found is one it could not read.
  const covered = result ? [result.index, result.index + result.text.length] : [0, 0];
  for (const m of message.matchAll(NUMERIC_DATE)) {
    const inside = m.index >= covered[0]! && m.index + m[0].length <= covered[1]!;
    if (!inside || !(result?.start.isCertain('day') ?? false)) return { text: m[0], unreadable: m[0] };
  }
  if (!result) return undefined;
  const c = result.start;
  const wall = { year: c.get('year') ?? 0, month: c.get('month') ?? 1, day: c.get('day') ?? 1, hour: c.get('hour') ?? 0, minute: c.get('minute') ?? 0 };
  // "In 9000 years" is a date (the horizon refuses it, saying why); one no Date can hold is not.
  if (wall.year < 1) return { text: result.text, unreadable: result.text };
  const date = `${wall.year}-${String(wall.month).padStart(2, '0')}-${String(wall.day).padStart(2, '0')}`;
  if (c.isCertain('hour')) {
    const start = fromWallTime(wall, timeZone);
    return Number.isFinite(start.getTime()) ? { start, date, text: result.text } : { text: result.text, unreadable: result.text };
  }
  if (c.isCertain('day') || c.isCertain('weekday')) return { date, text: result.text };
  return undefined;
}

/** Said to be a name: "my name is sam" (any case; a second, capitalised word is the surname). */
const EXPLICIT_NAME_RE = /\b(?:my name is|name is|name's|call me|name:)\s+(\p{L}[\p{L}'’-]*(?:\s+\p{Lu}[\p{L}'’-]*)?)/giu;
/** "I'm Sam", "This is Sam Lee": capitalised, since "I'm free" is not a name. */
const INTRO_NAME_RE = /(?:\bI am|\bI'm|\bI’m|\b[Tt]his is)\s+(\p{Lu}[\p{L}'’-]*(?:\s+\p{Lu}[\p{L}'’-]*)?)/gu;
/** "a Beard Trim next Tuesday at 11am for Sam", "under Sam Lee": a capitalised name after for/under. */
const FOR_NAME_RE = /\b(?:for|under)\s+(\p{Lu}[\p{L}'’-]*(?:\s+\p{Lu}[\p{L}'’-]*){0,2})/gu;

/** Words after "for", "I'm" or "my name is" that are not a name: days, months, times, pronouns, fillers. */
const NOT_A_NAME = new Set([
  'today', 'tonight', 'tomorrow', 'next', 'this', 'noon', 'midnight', 'morning', 'afternoon', 'evening', 'week', 'weekend',
  'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'mon', 'tue', 'tues', 'wed', 'thu', 'thur', 'thurs', 'fri', 'sat', 'sun',
  'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
  'me', 'us', 'him', 'her', 'them', 'my', 'i', 'a', 'an', 'the', 'one', 'two', 'yes', 'no', 'ok', 'okay', 'sure', 'thanks', 'please',
  'at', 'and', 'on', 'in', 'to', 'for', 'is', 'it', 'not', 'free', 'here', 'looking', 'available', 'booked',
]);

/**
 * The customer's name: "my name is Sam", "I'm Sam", or "... for Sam" / "under Sam" — not when
 * the words after "for" are a day, a month, or a service's name ("for Beard Trim").
 */
export function parseName(message: string, services: ServiceRow[] = []): string | undefined {
  const serviceWords = new Set(services.flatMap((s) => words(s.name)));
  for (const re of [EXPLICIT_NAME_RE, INTRO_NAME_RE, FOR_NAME_RE]) {
    for (const m of message.matchAll(re)) {
      const kept: string[] = [];
      for (const w of m[1]!.split(/\s+/)) {
        if (NOT_A_NAME.has(w.toLowerCase())) break;
        kept.push(w);
      }
      if (kept.length === 0 || kept.every((w) => serviceWords.has(stem(w.toLowerCase())))) continue;
      return capitalise(kept).slice(0, 100);
    }
  }
  return undefined;
}

/** "sam lee" → "Sam Lee"; a name written with capitals is kept as written ("DeShawn", "McKay"). */
function capitalise(parts: string[]): string {
  return parts.map((w) => (w === w.toLowerCase() ? w[0]!.toUpperCase() + w.slice(1) : w)).join(' ');
}

/** A phone number as written: +1 480 555 0100, (480) 555-0100, 480.555.0100, 4805550100. */
const PHONE_TEXT = /\+?\(?\d[\d\s().-]{5,24}\d/g;
const PHONE_CUE = /\b(?:phone|number|cell|mobile|tel|call me at|reach me at|reach me on|text me at)\b/i;
const US_PHONE = /^\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}$/;

function phoneDigits(text: string): number {
  return text.replace(/\D/g, '').length;
}

/**
 * A phone number in the message. Digits that could be a date or a time ("2030-03-05", "11:30")
 * are not one: a number counts when it is written like a phone number (3-3-4 digits, or
 * starting with +), when the message says it is one ("my number is …"), or when it is the
 * answer to the assistant's question for it (`asked`).
 */
export function parsePhone(message: string, asked = false): string | undefined {
  const cued = asked || PHONE_CUE.test(message);
  for (const m of message.matchAll(PHONE_TEXT)) {
    const text = m[0].trim();
    const digits = phoneDigits(text);
    if (digits < 7 || digits > 15) continue;
    if (text.startsWith('+') || US_PHONE.test(text) || cued) return text;
  }
  return undefined;
}

/**
 * The reply to "What name should the booking be under?": the whole message is the name ("Sam",
 * "sam lee", "It's Sam.") once a phone number in it is set aside. Not a name: anything with
 * digits left, more than three words, or a word like "yes" / "tomorrow".
 */
export function parseBareName(message: string): string | undefined {
  const phone = parsePhone(message, true);
  let text = (phone ? message.replace(phone, ' ') : message).trim();
  text = text.replace(/^(?:it'?s|it is|its|the name is|name is|name|under|put it under|book it under|for)\s*:?\s+/i, '').replace(/^[\s,;:.!-]+|[\s,;:.!-]+$/g, '');
  text = text.replace(/[\s,;]+(?:and|&)?\s*(?:my|the)?\s*(?:phone|number|cell|mobile)?\s*(?:is)?$/i, '').trim();
  if (!text || /\d/.test(text)) return undefined;
  const parts = text.split(/\s+/);
  if (parts.length > 3 || parts.some((w) => !/^\p{L}[\p{L}'’.-]*$/u.test(w) || NOT_A_NAME.has(w.toLowerCase()))) return undefined;
  return capitalise(parts).slice(0, 100);
}

export function wantsServiceList(message: string): boolean {
  return /\b(services|service list|menu|prices?|pricing|offer|options|what (?:do|can) you do)\b/i.test(message);
}

export function isAffirmative(message: string): boolean {
  return /^\s*(yes|yep|yeah|sure|ok(?:ay)?|sounds good|perfect|great|book it|the first(?: one)?|first one|that works)\b/i.test(message);
}
