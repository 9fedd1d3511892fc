/**
 * What a customer's plain-English message says: which service, which day and time (chrono-node,
 * in the shop's time zone), and their name. No booking logic here.
 */
import * as chrono from 'chrono-node';
import { fromWallTime, offsetMinutes } from '../booking/time.js';
import type { ServiceRow } from '../booking/types.js';

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
  const result = chrono.parse(message, { instant: now, timezone: offsetMinutes(now, timeZone) }, { forwardDate: true })[0];
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

const NAME_RE = /(?:[Mm]y name is|[Nn]ame is|[Nn]ame's|[Cc]all me|I am|I'm|[Tt]his is|[Nn]ame:)\s+(\p{Lu}[\p{L}'’-]*(?:\s+\p{Lu}[\p{L}'’-]*)?)/u;

export function parseName(message: string): string | undefined {
  return NAME_RE.exec(message)?.[1]?.slice(0, 100);
}

export function wantsServiceList(message: string): boolean {
  return /\b(services|service list|menu|prices?|pricing|offer|options|what (?:do|can) you do)\b/i.test(message);
}

export function isAffirmative(message: string): boolean {
  return /^\s*(yes|yep|yeah|sure|ok(?:ay)?|sounds good|perfect|great|book it|the first(?: one)?|first one|that works)\b/i.test(message);
}
