/**
 * The assistant used without OPENAI_API_KEY (and as the fallback when OpenAI fails): it
 * completes a booking from plain English — "a haircut tomorrow at 3pm for Sam" — by remembering
 * what it has been told (the draft), asking for what is missing, and proposing free times when
 * the asked time is taken or the shop is closed. It never books without the customer's name (and
 * phone, where the shop requires one): with a free time and no name it asks "What name should the
 * booking be under?" and keeps the rest in the draft, so the answer alone completes the booking.
 */
import { formatLocal, fromWallTime } from '../booking/time.js';
import { describeService, formatPrice, type ServiceRow, type ShopRow } from '../booking/types.js';
import type { Unavailable } from '../booking/availability.js';
import type { ContactField } from '../booking/create-booking.js';
import type { Assistant, AssistantInput, AssistantReply, Draft } from './types.js';
import { isAffirmative, matchService, parseBareName, parseName, parsePhone, parseWhen, wantsServiceList } from './understand.js';

export function servicesSentence(services: ServiceRow[]): string {
  if (services.length === 0) return 'This shop has not listed any services yet.';
  return `We offer: ${services.map(describeService).join('; ')}.`;
}

function timesSentence(times: Date[], shop: ShopRow, now: Date): string {
  return times.map((t) => formatLocal(t, shop.timezone, now)).join('; ');
}

const WHY: Record<Exclude<Unavailable, 'beyond_horizon'>, string> = {
  past: 'that time has already passed',
  closed: 'we are closed then (or the appointment would run past closing)',
  taken: 'that time is already booked',
  unaligned: 'appointments start on the quarter hour (:00, :15, :30, :45)',
};

/** The question for what the booking still needs. */
export function contactQuestion(missing: ContactField[]): string {
  const name = missing.includes('customer_name');
  const phone = missing.includes('customer_phone');
  if (name && phone) return 'What name should the booking be under, and what phone number can the shop reach you on?';
  return name ? 'What name should the booking be under?' : 'What phone number can the shop reach you on?';
}

function why(reason: Unavailable, tools: AssistantInput['tools'], shop: ShopRow, now: Date): string {
  if (reason !== 'beyond_horizon') return WHY[reason];
  const { days, until } = tools.horizon();
  return `we take bookings up to ${days} days ahead (until ${formatLocal(until, shop.timezone, now).replace(/, \d{1,2}:\d{2}\s?[AP]M$/, '')})`;
}

export function createOfflineAssistant(): Assistant {
  return {
    name: 'offline',
    async respond(input: AssistantInput): Promise<AssistantReply> {
      const { message, services, shop, tools, now } = input;
      const draft: Draft = { ...(input.session.router_context.draft ?? {}) };
      const awaiting = draft.awaiting ?? [];
      delete draft.awaiting;
      // The phone number first, and out of the text the rest is read from: its digits are no date.
      const phone = parsePhone(message, awaiting.includes('customer_phone'));
      const rest = phone ? message.replace(phone, ' ') : message;
      const service = matchService(rest, services);
      const when = parseWhen(rest, now, shop.timezone);
      // The answer to "What name should the booking be under?" may be the name alone ("Sam").
      const bare = awaiting.includes('customer_name') && !service && !when ? parseBareName(message) : undefined;
      const name = input.customerName ?? parseName(rest, services) ?? bare;
      if (service) draft.serviceId = service.id;
      if (name) draft.customerName = name;
      if (phone) draft.customerPhone = phone;
      if (when?.unreadable) {
        return { reply: `I couldn't read the date "${when.unreadable}". Which day would you like${service ? ` your ${service.name}` : ''}? (For example "March 5 at 3pm" or "next Tuesday at 10am".)`, draft };
      }
      if (when?.start) {
        draft.start = when.start.toISOString();
        delete draft.date;
      } else if (when?.date) {
        draft.date = when.date;
        delete draft.start;
      } else if (!service && draft.suggestions?.[0] && isAffirmative(message)) {
        draft.start = draft.suggestions[0];
      }

      const chosen = services.find((s) => s.id === draft.serviceId);
      if (!chosen) {
        if (services.length === 0) return { reply: `Sorry, ${shop.name} has no bookable services listed yet. Please call ${shop.phone ?? 'the shop'}.`, draft };
        const listAsked = wantsServiceList(message);
        const heard = draft.start ? ` for ${formatLocal(new Date(draft.start), shop.timezone, now)}` : '';
        return {
          reply: `${listAsked ? '' : `Which service would you like${heard}? `}${servicesSentence(services)}${listAsked ? ' Which one would you like, and when?' : ''}`,
          draft,
        };
      }

      if (!draft.start) {
        // A day without a time: offer that day's free times; nothing at all: the next free ones.
        const from = draft.date ? dayStart(draft.date, shop.timezone) : now;
        const suggestions = await tools.suggest(chosen.id, from, 4);
        draft.suggestions = suggestions.map((d) => d.toISOString());
        const lead = `${chosen.name} (${terms(chosen)}) — what time would you like?`;
        return {
          reply: suggestions.length > 0 ? `${lead} The next free times are: ${timesSentence(suggestions, shop, now)}.` : `${lead} I could not find a free time in the next two weeks; please call ${shop.phone ?? 'the shop'}.`,
          suggestedTimes: suggestions,
          draft,
        };
      }

      const start = new Date(draft.start);
      const asked = formatLocal(start, shop.timezone, now);
      const unavailable = (reason: Unavailable, suggestions: Date[]): AssistantReply => {
        delete draft.start;
        draft.suggestions = suggestions.map((d) => d.toISOString());
        const alternatives = suggestions.length > 0 ? ` The nearest free times are: ${timesSentence(suggestions, shop, now)}. Would one of those work?` : ' I could not find a free time in the next two weeks.';
        return { reply: `Sorry, I can't book ${chosen.name} on ${asked}: ${why(reason, tools, shop, now)}.${alternatives}`, suggestedTimes: suggestions, draft };
      };
      const askFor = (missing: ContactField[]): AssistantReply => {
        draft.awaiting = missing;
        return { reply: `${chosen.name} on ${asked} is free. ${contactQuestion(missing)}`, draft };
      };
      const contact = { customerName: draft.customerName ?? null, customerPhone: draft.customerPhone ?? null };
      const missing = tools.missing(contact);
      if (missing.length > 0) {
        // Say whether the time is free before asking who it is for: no name asked for a taken time.
        const check = await tools.check(chosen.id, start);
        return check.available ? askFor(missing) : unavailable(check.reason, check.suggestions);
      }
      const outcome = await tools.book(chosen.id, start, contact);
      if (outcome.status === 'unavailable') return unavailable(outcome.reason, outcome.suggestions);
      if (outcome.status === 'missing_details') return askFor(outcome.missing);
      const b = outcome.booking;
      const who = b.customer_name ? ` for ${b.customer_name}` : '';
      return {
        reply: `You're booked${who}: ${b.service} at ${shop.name} on ${b.local_time} (${terms(chosen)}). Your booking reference is ${b.id}.`,
        booking: b,
        draft: undefined,
      };
    },
  };
}

function terms(s: ServiceRow): string {
  return `${formatPrice(s.price_cents)}, ${s.duration_minutes} min`;
}

function dayStart(date: string, timeZone: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return fromWallTime({ year, month, day, hour: 0, minute: 0 }, timeZone);
}
