/**
 * Who a privacy request is about (docs/privacy.md "One person"). The schema holds a booking's
 * contact data, bookings.customer_name and customer_phone (no e-mail); chat sessions hold what the person
 * wrote. What ties rows to ONE person is the chat: a booking made in a session is that session's
 * person. So a person is a set of sessions and bookings linked through bookings.session_id:
 *
 *  - `--session ID`: that session and the bookings made in it;
 *  - `--booking ID`: that booking, its session, and the session's other bookings;
 *  - `--customer TEXT`: the bookings whose customer_name equals TEXT, ignoring case
 *    (`lower(customer_name) = lower($1)`, index bookings_customer_name_lower_idx), with their
 *    sessions and those sessions' bookings. Two matching bookings that share no session are two
 *    people as far as the data can tell (a name is not unique): the request is refused, listing
 *    the ids of each, so the operator picks one with --session or --booking.
 *
 * Everything else held about the person hangs off those: messages and feedback by session,
 * analytics events (hot and archived) by session id, by the booking's id in a booking event, and
 * the search that led to the session (its search_id, an event without a session); refusals by
 * the session's client HMAC.
 */
import { UsageError } from '../../errors.js';
import type { Queryable } from '../pool.js';

export type Selector = { kind: 'session'; value: string } | { kind: 'booking'; value: string } | { kind: 'customer'; value: string };

/** The keys of everything an erasure touches: random ids and keyed hashes only, never a name or text. */
export interface ErasureTargets {
  sessions: string[];
  bookings: string[];
  /** router_analytics ids (events of the sessions, their booking events, the searches that led to them). */
  analytics: string[];
  /** router_analytics_archive ids (the same events once archived). */
  archive: string[];
  /** chat_sessions.client_hmac of the sessions: the router_refusals rows of that client. */
  clientHmacs: string[];
}

/** One person's rows as the lookup found them (ids only). */
export interface SubjectGroup {
  sessions: string[];
  bookings: string[];
}

export type SubjectMatch = { kind: 'none' } | { kind: 'one'; targets: ErasureTargets } | { kind: 'many'; groups: SubjectGroup[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Validate the flags into one selector (exactly one of them; a session or booking id is a UUID). */
/** The example each command's hints give (whole commands, so the hint check can parse them). */
const EXAMPLE = {
  export: '`routergpt privacy export --customer "Jane Doe"`',
  erase: '`routergpt privacy erase --customer "Jane Doe" --dry-run`',
  log: '`routergpt privacy log --customer "Jane Doe"`',
} as const;
export type PrivacyCommand = keyof typeof EXAMPLE;

export function parseSelector(flags: { session?: string; booking?: string; customer?: string }, command: PrivacyCommand): Selector {
  const given = (['session', 'booking', 'customer'] as const).filter((k) => flags[k] !== undefined);
  if (given.length !== 1) {
    throw new UsageError(
      given.length === 0 ? `routergpt privacy ${command} needs the person: --session ID, --booking ID or --customer TEXT.` : `Give one of --session, --booking and --customer, not ${given.map((g) => `--${g}`).join(' and ')}.`,
      `Run e.g. ${EXAMPLE[command]}; nothing was changed.`,
    );
  }
  const kind = given[0]!;
  const value = flags[kind]!.trim();
  if (kind === 'customer') {
    if (value === '') throw new UsageError('--customer is empty.', 'Give the name exactly as it was booked (case does not matter); nothing was changed.');
    return { kind, value };
  }
  if (!UUID.test(value)) throw new UsageError(`--${kind} "${value.slice(0, 60)}" is not a ${kind} id (a UUID like 3f2b9c1e-…).`, `Copy the id from the booking or chat; or use --customer TEXT; nothing was changed.`);
  return { kind, value: value.toLowerCase() };
}

/** The normalised request, as its keyed hash is computed (ledger.ts): `customer:jane doe`. */
export function requestText(selector: Selector): string {
  return `${selector.kind}:${selector.kind === 'customer' ? selector.value.trim().toLowerCase() : selector.value.toLowerCase()}`;
}

interface BookingRow {
  id: string;
  session_id: string | null;
}

/** Find the person the selector names: nobody, one person (with every key to touch), or several. */
export async function findSubject(db: Queryable, selector: Selector): Promise<SubjectMatch> {
  let seedSessions: string[] = [];
  let seedBookings: BookingRow[] = [];
  if (selector.kind === 'session') {
    seedSessions = (await db.query<{ id: string }>('SELECT id::text FROM chat_sessions WHERE id = $1::uuid', [selector.value])).rows.map((r) => r.id);
  } else if (selector.kind === 'booking') {
    seedBookings = (await db.query<BookingRow>('SELECT id::text, session_id::text FROM bookings WHERE id = $1::uuid', [selector.value])).rows;
  } else {
    seedBookings = (await db.query<BookingRow>('SELECT id::text, session_id::text FROM bookings WHERE lower(customer_name) = lower($1) AND customer_name IS NOT NULL ORDER BY created_at, id', [selector.value])).rows;
    // One person per session; a booking without a session stands alone.
    const groups = new Map<string, SubjectGroup>();
    for (const b of seedBookings) {
      const key = b.session_id ?? `booking:${b.id}`;
      const group = groups.get(key) ?? { sessions: b.session_id ? [b.session_id] : [], bookings: [] };
      group.bookings.push(b.id);
      groups.set(key, group);
    }
    if (groups.size > 1) return { kind: 'many', groups: [...groups.values()] };
  }
  if (seedSessions.length === 0 && seedBookings.length === 0) return { kind: 'none' };
  const sessions = [...new Set([...seedSessions, ...seedBookings.flatMap((b) => (b.session_id ? [b.session_id] : []))])];
  // The sessions' other bookings are the same person's (a fixpoint: their sessions are these).
  const more = sessions.length ? (await db.query<{ id: string }>('SELECT id::text FROM bookings WHERE session_id = ANY($1::uuid[])', [sessions])).rows.map((r) => r.id) : [];
  const bookings = [...new Set([...seedBookings.map((b) => b.id), ...more])].sort();
  return { kind: 'one', targets: await targetsOf(db, sessions.sort(), bookings) };
}

/** The events that reference the person, in one table (router_analytics or its archive). */
async function eventIds(db: Queryable, table: 'router_analytics' | 'router_analytics_archive', sessions: string[], bookings: string[]): Promise<string[]> {
  if (!(await tableExists(db, table))) return [];
  // Indexed: by session id; booking events by type and time (an event is written right after its
  // booking, by a server whose clock may be off: a day either side); the search that led to a
  // session is an event with its search_id and no session, within a day of the session.
  const { rows } = await db.query<{ id: string }>(
    `WITH s AS (SELECT search_id, created_at FROM chat_sessions WHERE id = ANY($1::uuid[]))
     SELECT id::text FROM ${table} WHERE session_id = ANY($1::uuid[])
     UNION
     SELECT a.id::text FROM bookings b JOIN ${table} a ON a.event_type = 'booking' AND a.created_at BETWEEN b.created_at - interval '1 day' AND b.created_at + interval '1 day' AND a.payload->>'booking_id' = b.id::text
      WHERE b.id = ANY($2::uuid[])
     UNION
     SELECT a.id::text FROM ${table} a JOIN s ON s.search_id IS NOT NULL AND a.search_id = s.search_id
      WHERE a.event_type = 'search' AND a.session_id IS NULL AND a.created_at BETWEEN s.created_at - interval '1 day' AND s.created_at + interval '1 day'`,
    [sessions, bookings],
  );
  return rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
}

export async function tableExists(db: Queryable, table: string): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [`public.${table}`]);
  return rows[0]?.present === true;
}

/** Every key to touch for these sessions and bookings, read from the database as it is now (also after a restore). */
export async function targetsOf(db: Queryable, sessions: string[], bookings: string[]): Promise<ErasureTargets> {
  const hmacs = sessions.length ? (await db.query<{ h: string }>('SELECT DISTINCT client_hmac AS h FROM chat_sessions WHERE id = ANY($1::uuid[]) AND client_hmac IS NOT NULL ORDER BY 1', [sessions])).rows.map((r) => r.h) : [];
  return { sessions, bookings, analytics: await eventIds(db, 'router_analytics', sessions, bookings), archive: await eventIds(db, 'router_analytics_archive', sessions, bookings), clientHmacs: hmacs };
}

/** "session 3f2b… with booking(s) 9a1c…, 77de…" — ids only, for the refusal of an ambiguous request. */
export function describeGroup(group: SubjectGroup, index: number): string {
  const session = group.sessions[0] ? `session ${group.sessions[0]}` : 'no chat session';
  return `person ${index + 1}: ${session}; booking(s) ${group.bookings.join(', ')}`;
}
