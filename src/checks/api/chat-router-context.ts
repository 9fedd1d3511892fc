import { randomBytes } from 'node:crypto';
import { defineCheck, fail, pass, type CheckDeps, type CheckResult } from '../define-check.js';
import { brief, CHAT_PATH, DELEGATE_PATH, SEARCH_PATH, withApiClient, type ApiClient } from './http.js';
import { describeTargets, probeTargets } from './targets.js';
import { cancelSessionBookings, type CancelledTestBookings } from './test-bookings.js';
import { isSearchResponse, type ChatResponse, type DelegateResponse } from './types.js';

const MAX_TURNS = 5;
/** Who the check's test booking is for: a name, and a number from the 555-01xx range kept for fiction. */
const TEST_NAME = 'RouterGPT Verify';
const TEST_PHONE = '480-555-0100';
const PHONE_ASKED = /phone number/i;
const NAME_ASKED = /what name/i;

async function pickShop(api: ApiClient, deps: CheckDeps): Promise<{ slug: string; searchId?: string } | string> {
  if (typeof deps.params?.shopSlug === 'string') return { slug: deps.params.shopSlug };
  const targets = await probeTargets(deps);
  // A real shop from the target database that has services, found through search as the GPT would.
  const shop = targets.shops.find((s) => s.hasServices);
  const where = shop ? targets.locations[targets.shops.indexOf(shop)]! : targets.locations[0]!;
  const category = String(deps.params?.category ?? 'barbershop');
  for (const cat of [category, undefined]) {
    const res = await api.post(SEARCH_PATH, { latitude: where.latitude, longitude: where.longitude, radius_miles: where.radius_miles, ...(cat ? { category: cat } : {}) });
    if (res.status !== 200 || !isSearchResponse(res.json)) return `the search to pick a shop failed: ${brief(res)}`;
    const first = (shop && res.json.results.find((r) => r.slug === shop.slug)) || res.json.results[0];
    if (first) return { slug: first.slug, searchId: res.json.search_id };
  }
  return `no shop near ${where.name} to talk to — ${describeTargets(targets)} (or set params.shopSlug)`;
}

/**
 * The checklist's "Chat flow works": delegate with an intent, talk to the shop's assistant, and —
 * only where the environment allows test bookings — complete one booking and find it in the
 * database. Elsewhere it stops before asking for a time, so nothing is booked.
 */
export default defineCheck({
  id: 'api.chat-router-context',
  title: 'Chat works with router context (booking where allowed)',
  needs: ['api'],
  stages: ['post'],
  timeoutMs: 60_000,
  params: ['shopSlug', 'locations', 'category', 'intent', 'bookingMessage'],
  async run(deps) {
    const intent = String(deps.params?.intent ?? 'haircut');
    const allowBooking = deps.config.allowTestBookings.value;
    return withApiClient(deps, async (api) => {
      const picked = await pickShop(api, deps);
      if (typeof picked === 'string') return fail(picked, { hint: 'See api.search; or set params.shopSlug to a real shop.' });
      const details: string[] = [];
      const problems: string[] = [];
      const delegated = await api.post(DELEGATE_PATH, { shop_slug: picked.slug, intent, ...(picked.searchId ? { search_id: picked.searchId } : {}) });
      const session = delegated.json as DelegateResponse | undefined;
      if (delegated.status !== 201 || !session?.session_id) return fail(`delegating to ${picked.slug} failed: ${brief(delegated)}`, { hint: 'See api.delegate.' });
      details.push(`delegated to ${picked.slug}: "${session.message.slice(0, 100)}"`);
      if (!session.message.toLowerCase().includes(intent.toLowerCase())) problems.push(`the greeting does not echo the intent "${intent}" the router passed`);
      if (!session.message.includes(session.shop.name)) problems.push(`the greeting does not name the shop (${session.shop.name})`);

      const chat = async (message: string) => {
        const res = await api.post(CHAT_PATH, { session_id: session.session_id, message, ...(allowBooking ? { customer_name: TEST_NAME } : {}) }, { headers: { 'idempotency-key': `routergpt-verify-${randomBytes(8).toString('hex')}` } });
        const body = res.json as ChatResponse | undefined;
        details.push(`> ${message}`, `< ${res.status} ${body?.reply?.slice(0, 140) ?? brief(res)} (${Math.round(res.ms)} ms)`);
        if (res.status !== 200 || typeof body?.reply !== 'string' || body.reply.trim() === '') {
          problems.push(`POST /chat "${message}" answered ${brief(res)}`);
          return undefined;
        }
        if (body.session_id !== session.session_id) problems.push(`the reply is for session ${body.session_id}, not ${session.session_id}`);
        return body;
      };

      const first = await chat('What services do you offer?');
      if (first && deps.db) {
        // The router context as stored, and the reply about this shop's own services.
        const { rows } = await deps.db.query<{ intent: string | null; search_id: string | null; services: string[] }>(
          `SELECT cs.intent, cs.search_id::text, array(SELECT lower(name) FROM services WHERE shop_id = cs.shop_id) AS services FROM chat_sessions cs WHERE cs.id = $1`,
          [session.session_id],
        );
        const row = rows[0];
        if (!row) problems.push(`session ${session.session_id} is not in chat_sessions`);
        else {
          if (row.intent !== intent) problems.push(`chat_sessions.intent is ${JSON.stringify(row.intent)}, expected "${intent}"`);
          if (picked.searchId && row.search_id !== picked.searchId) problems.push(`chat_sessions.search_id is ${String(row.search_id)}, expected the search's ${picked.searchId}`);
          if (row.services.length > 0 && !row.services.some((s) => first.reply.toLowerCase().includes(s))) problems.push(`the reply names none of ${picked.slug}'s services (${row.services.join(', ')})`);
        }
      }
      if (problems.length > 0) return fail(`${problems.length} problem(s) in the conversation with ${picked.slug}`, { details: [...problems, ...details], hint: 'Check POST /chat loads the session\'s shop and router context (src/server/routes/chat.ts).' });

      if (!allowBooking) {
        return pass(`delegated with intent "${intent}" and chatted with ${picked.slug}; stopped before booking — bookings are not allowed in ${deps.config.name} (allow_test_bookings)`, { details });
      }
      // A booking this check makes is cancelled before it ends, which needs the database.
      if (!deps.db) return pass(`delegated with intent "${intent}" and chatted with ${picked.slug}; stopped before booking — no database to cancel a test booking with`, { details });
      const db = deps.db;

      const bookAndConfirm = async (): Promise<CheckResult> => {
        let message = String(deps.params?.bookingMessage ?? 'A haircut tomorrow at 3pm please');
        let booking: ChatResponse['booking'] = null;
        for (let turn = 0; turn < MAX_TURNS && !booking; turn++) {
          const res = await chat(message);
          if (!res) break;
          booking = res.booking;
          // A shop that requires a phone asks for one (the name goes in customer_name); slot taken
          // or shop closed: take the first time offered.
          if (!booking) message = PHONE_ASKED.test(res.reply) ? `My phone number is ${TEST_PHONE}` : NAME_ASKED.test(res.reply) ? TEST_NAME : res.suggested_times?.length ? 'Yes, the first one works' : 'A haircut the day after tomorrow at 11am';
        }
        if (!booking) return fail(`no booking after ${MAX_TURNS} messages with ${picked.slug}`, { details: [...problems, ...details], hint: 'Read the conversation above; check opening hours and services of the shop, and [BOOKING] lines in the server log.' });
        if (booking.shop_slug !== picked.slug || booking.status !== 'confirmed') problems.push(`booking ${booking.id} is ${booking.status} at ${booking.shop_slug}`);
        if (deps.db) {
          const { rows } = await deps.db.query<{ slug: string; session_id: string | null; status: string }>(
            `SELECT s.slug, b.session_id::text, b.status FROM bookings b JOIN shops s ON s.id = b.shop_id WHERE b.id = $1`,
            [booking.id],
          );
          if (!rows[0]) problems.push(`booking ${booking.id} is not in the bookings table`);
          else if (rows[0].slug !== picked.slug || rows[0].session_id !== session.session_id) problems.push(`bookings row ${booking.id} is for ${rows[0].slug}, session ${String(rows[0].session_id)}`);
        }
        if (problems.length > 0) return fail(`the booking is wrong: ${problems[0]}`, { details: [...problems, ...details], hint: 'Check the booking tool (src/server/booking) and the bookings table.' });
        return pass(`booked ${booking.service} at ${picked.slug} for ${booking.local_time}${deps.db ? '; saved in bookings' : ' (no database to confirm it is saved)'}`, { details, data: { bookingId: booking.id, shop: picked.slug } });
      };
      let result: CheckResult | undefined;
      let cleanup: CancelledTestBookings | Error;
      try {
        result = await bookAndConfirm();
      } finally {
        cleanup = await cancelSessionBookings(db, session.session_id).catch((error: unknown) => error as Error);
      }
      return withCleanup(result, cleanup, session.session_id);
    });
  },
});

/** The check's result, unless the clean-up of its booking failed: a booking left behind is a failure. */
function withCleanup(result: CheckResult, cleanup: CancelledTestBookings | Error, sessionId: string): CheckResult {
  const manual = `UPDATE bookings SET status = 'cancelled' WHERE session_id = '${sessionId}'; DELETE FROM booking_slots WHERE booking_id IN (SELECT id FROM bookings WHERE session_id = '${sessionId}');`;
  if (cleanup instanceof Error) return fail(`could not cancel the test booking of session ${sessionId}: ${cleanup.message}`, { details: [`${result.status}: ${result.summary}`, ...(result.details ?? [])], hint: `Cancel it by hand: ${manual}` });
  if (cleanup.slotsLeft > 0) return fail(`the test booking of session ${sessionId} still holds ${cleanup.slotsLeft} slot(s) after cancelling`, { details: result.details, hint: `Free them by hand: ${manual}` });
  if (cleanup.cancelled.length === 0) return result;
  const line = `cancelled ${cleanup.cancelled.join(', ')} and freed ${cleanup.slotsFreed} slot(s)`;
  return {
    ...result,
    summary: result.status === 'pass' ? `${result.summary}; then cancelled, its slots freed` : result.summary,
    details: [...(result.details ?? []), line],
    data: { ...result.data, cancelled: cleanup.cancelled, slotsFreed: cleanup.slotsFreed },
  };
}
