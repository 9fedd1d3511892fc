/**
 * People for the privacy tests, written as the API server writes them (src/server/routes/*): a
 * session opened by a search (intent, router_context, client HMAC), its messages, a booking with
 * its slots, feedback with a comment, the analytics events of each route (search with its rounded
 * location, delegate with the intent, chat_message, booking with the booking id, feedback), an
 * archived event, and the client's refusals. Plain SQL, so the same text seeds a real server
 * (pg) and the embedded database (`routergpt db psql -f`).
 */
import { randomUUID } from 'node:crypto';

export interface Person {
  name: string;
  session: string | null;
  booking: string;
  search: string;
  clientHmac: string;
  /** What the person wrote: each must be gone after an erasure. */
  texts: string[];
  /** A token in every one of the texts (their "phone number"): no fragment of them may be left either. */
  token: string;
  /** The booking's start (a free 15-minute slot per person). */
  startsAt: string;
}

let day = 0;

export function person(name: string, options: { withSession?: boolean } = {}): Person {
  day += 1;
  const tag = randomUUID().slice(0, 8);
  return {
    name,
    session: options.withSession === false ? null : randomUUID(),
    booking: randomUUID(),
    search: randomUUID(),
    clientHmac: randomUUID().replace(/-/g, ''),
    token: tag,
    texts: [`Hello, this is ${name}; call me on 555-${tag}`, `I would like a beard trim, ${tag} please`, `Lovely service ${tag}`, `beard trim near Elm Street ${tag}`],
    startsAt: `2027-02-${String(day).padStart(2, '0')} 10:00:00+00`,
  };
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** SQL inserting the person (the demo seed must be loaded: the first real shop and its first service). */
export function personSql(p: Person, shopOffset = 0): string {
  const shop = `(SELECT id FROM shops ORDER BY id OFFSET ${shopOffset} LIMIT 1)`;
  const service = `(SELECT id FROM services WHERE shop_id = ${shop} ORDER BY id LIMIT 1)`;
  const [hello, want, comment, intent] = p.texts as [string, string, string, string];
  const lines: string[] = [];
  if (p.session) {
    const context = JSON.stringify({ source: 'search', search_id: p.search, intent, location: { label: '12 Elm Street' } });
    lines.push(
      `INSERT INTO chat_sessions (id, shop_id, source, search_id, intent, router_context, last_message_at, client_hmac) VALUES (${q(p.session)}, ${shop}, 'search', ${q(p.search)}, ${q(intent)}, ${q(context)}::jsonb, now(), ${q(p.clientHmac)});`,
      `INSERT INTO chat_messages (session_id, role, content) VALUES (${q(p.session)}, 'assistant', 'Hi! How can I help?'), (${q(p.session)}, 'user', ${q(hello)}), (${q(p.session)}, 'user', ${q(want)}), (${q(p.session)}, 'assistant', ${q(`Booked for ${p.name}.`)});`,
      `INSERT INTO router_feedback (session_id, rating, comment) VALUES (${q(p.session)}, 5, ${q(comment)});`,
      `INSERT INTO router_analytics (event_type, session_id, shop_id, search_id, latency_ms, payload) VALUES
         ('search', NULL, NULL, ${q(p.search)}, 12, '{"shop_ids": [1, 2], "result_count": 2, "radius_miles": 5, "category": null, "latitude": 33.45, "longitude": -112.07}'),
         ('delegate', ${q(p.session)}, ${shop}, ${q(p.search)}, 9, ${q(JSON.stringify({ source: 'search', intent }))}::jsonb),
         ('chat_message', ${q(p.session)}, ${shop}, ${q(p.search)}, 30, '{"assistant": "offline", "booked": false}'),
         ('booking', ${q(p.session)}, ${shop}, ${q(p.search)}, 31, ${q(JSON.stringify({ booking_id: p.booking, service: 'Beard trim', starts_at: p.startsAt }))}::jsonb),
         ('feedback', ${q(p.session)}, ${shop}, ${q(p.search)}, 5, '{"rating": 5, "replaced": false, "has_comment": true}');`,
      `INSERT INTO router_analytics_archive (id, event_type, session_id, shop_id, search_id, payload, created_at) VALUES ((SELECT coalesce(max(id), 0) + 1000000 FROM router_analytics_archive), 'chat_message', ${q(p.session)}, ${shop}, ${q(p.search)}, ${q(JSON.stringify({ assistant: 'offline', booked: false, note: intent }))}::jsonb, now() - interval '100 days');`,
      `INSERT INTO router_refusals (minute, route, policy, status, client_hmac, count) VALUES (date_trunc('minute', now()), '/router/search-by-location', 'search', 429, ${q(p.clientHmac)}, 4);`,
    );
  }
  lines.push(
    `INSERT INTO bookings (id, shop_id, service_id, session_id, customer_name, starts_at, ends_at) VALUES (${q(p.booking)}, ${shop}, ${service}, ${p.session ? q(p.session) : 'NULL'}, ${q(p.name)}, ${q(p.startsAt)}, ${q(p.startsAt)}::timestamptz + interval '30 minutes');`,
    `INSERT INTO booking_slots (shop_id, slot_start, booking_id) SELECT shop_id, s, id FROM bookings, generate_series(starts_at, ends_at - interval '15 minutes', interval '15 minutes') s WHERE id = ${q(p.booking)};`,
  );
  return lines.join('\n');
}

/** Every text, varchar and json(b) column of every table in schemas public and routergpt. */
export const TEXT_COLUMNS_SQL = `SELECT c.table_schema AS schema, c.table_name AS table, c.column_name AS column
  FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
 WHERE c.table_schema IN ('public', 'routergpt') AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
 ORDER BY 1, 2, 3`;

/** The SQL counting rows whose column holds `needle` (any case) in one column. */
export function scanSql(schema: string, table: string, column: string): string {
  return `SELECT count(*)::int AS n FROM "${schema}"."${table}" WHERE "${column}"::text ILIKE '%' || $1 || '%'`;
}
