/**
 * The assistant used with OPENAI_API_KEY: OpenAI chat completions with three tools
 * (list_services, check_availability, create_booking) through the official `openai` client.
 * The whole turn — every round trip — shares one deadline well inside the checklist's 5 s;
 * on timeout or any API error the caller falls back to the offline assistant.
 * create_booking requires customer_name (and customer_phone where the shop requires one): a call
 * without them books nothing and tells the model to ask the customer, then call again.
 */
import type OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { formatLocal, fromWallTime, toWallTime } from '../booking/time.js';
import { cleanName, cleanPhone } from '../booking/create-booking.js';
import type { BookingView, ShopRow } from '../booking/types.js';
import { contactQuestion } from './offline-assistant.js';
import type { Assistant, AssistantInput, AssistantReply } from './types.js';

export interface OpenAiAssistantOptions {
  apiKey: string;
  baseURL?: string;
  model?: string;
  /** Deadline for the whole turn, all tool rounds included. */
  timeoutMs?: number;
  maxRounds?: number;
}

export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';
export const DEFAULT_OPENAI_TIMEOUT_MS = 4000;

const LIST_SERVICES: ChatCompletionTool = { type: 'function', function: { name: 'list_services', description: "List the shop's services with ids, prices and durations.", parameters: { type: 'object', properties: {}, additionalProperties: false } } };
const CHECK_AVAILABILITY: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'check_availability',
    description: "Check whether a start time is free. Times are local to the shop: 'YYYY-MM-DDTHH:MM', on the quarter hour. Returns alternatives when not free.",
    parameters: {
      type: 'object',
      properties: { service_id: { type: 'integer' }, start_local: { type: 'string', description: 'YYYY-MM-DDTHH:MM in the shop time zone' } },
      required: ['service_id', 'start_local'],
      additionalProperties: false,
    },
  },
};

/** The tools for one shop: create_booking requires the name, and the phone where the shop requires it. */
export function toolsFor(shop: Pick<ShopRow, 'require_customer_phone'>): ChatCompletionTool[] {
  const phone = shop.require_customer_phone;
  return [
    LIST_SERVICES,
    CHECK_AVAILABILITY,
    {
      type: 'function',
      function: {
        name: 'create_booking',
        description: `Book the service at the start time once the customer has confirmed it and told you the name to book under${phone ? ' and a phone number the shop can reach them on' : ''}. Ask for ${phone ? 'them' : 'it'} first; never invent ${phone ? 'them' : 'it'}. Returns the booking, or alternatives when the time is not free.`,
        parameters: {
          type: 'object',
          properties: {
            service_id: { type: 'integer' },
            start_local: { type: 'string' },
            customer_name: { type: 'string', minLength: 1, maxLength: 100, description: 'The name the customer gave for the booking.' },
            ...(phone ? { customer_phone: { type: 'string', description: 'The phone number the customer gave, e.g. 480-555-0100.' } } : {}),
          },
          required: ['service_id', 'start_local', 'customer_name', ...(phone ? ['customer_phone'] : [])],
          additionalProperties: false,
        },
      },
    },
  ];
}

const LOCAL_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/;

function parseLocal(value: unknown, timeZone: string): Date {
  const m = typeof value === 'string' ? LOCAL_RE.exec(value) : null;
  if (!m) throw new RangeError(`start_local must look like 2030-03-05T15:00 (got ${JSON.stringify(value)})`);
  return fromWallTime({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]) }, timeZone);
}

function localIso(d: Date, timeZone: string): string {
  const w = toWallTime(d, timeZone);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${w.year}-${p(w.month)}-${p(w.day)}T${p(w.hour)}:${p(w.minute)}`;
}

export function createOpenAiAssistant(options: OpenAiAssistantOptions): Assistant {
  const timeoutMs = options.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS;
  // The `openai` module is loaded on the first turn, not at start-up: a server without a key (or
  // one that never chats) does not carry it in memory (issue 16).
  let client: Promise<OpenAI> | undefined;
  const openai = () => (client ??= import('openai').then(({ default: OpenAIClient }) => new OpenAIClient({ apiKey: options.apiKey, baseURL: options.baseURL, timeout: timeoutMs, maxRetries: 0 })));
  const model = options.model ?? DEFAULT_OPENAI_MODEL;
  const maxRounds = options.maxRounds ?? 4;

  return {
    name: 'openai',
    async respond(input: AssistantInput): Promise<AssistantReply> {
      const { shop, tools, now } = input;
      const deadline = Date.now() + timeoutMs;
      const ctx = input.session.router_context;
      const system = [
        `You are the booking assistant of ${shop.name}${shop.city ? ` in ${shop.city}` : ''} (${shop.category}).`,
        `Now it is ${formatLocal(now, shop.timezone)} (${localIso(now, shop.timezone)}) in the shop's time zone ${shop.timezone}; all times you use are local to the shop.`,
        'Use the tools to list services, check times and book. Never invent availability. Keep replies short.',
        `Before booking, ask for the name the booking should be under${shop.require_customer_phone ? ' and a phone number the shop can reach the customer on (this shop requires one)' : ''}, unless the customer already gave ${shop.require_customer_phone ? 'them' : 'it'}. Never book without ${shop.require_customer_phone ? 'them' : 'it'}.`,
        ctx.intent ? `The customer told the router: "${ctx.intent}".` : '',
        input.customerName ? `The customer's name is ${input.customerName}.` : '',
      ].filter(Boolean).join('\n');
      const messages: ChatCompletionMessageParam[] = [{ role: 'system', content: system }, ...input.history.map((t) => ({ role: t.role, content: t.content })), { role: 'user', content: input.message }];
      const toolList = toolsFor(shop);
      let booking: BookingView | undefined;
      let suggestions: Date[] | undefined;

      for (let round = 0; round < maxRounds; round++) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`OpenAI turn exceeded ${timeoutMs} ms`);
        const completion = await (await openai()).chat.completions.create({ model, messages, tools: toolList, tool_choice: 'auto' }, { timeout: remaining, maxRetries: 0 });
        const message = completion.choices[0]?.message;
        if (!message) throw new Error('OpenAI returned no choices');
        const calls = (message.tool_calls ?? []).filter((c) => c.type === 'function');
        if (calls.length === 0) {
          return { reply: message.content?.trim() || (booking ? `You're booked: ${booking.service} on ${booking.local_time}.` : 'Sorry, could you say that again?'), booking, suggestedTimes: suggestions, draft: input.session.router_context.draft };
        }
        messages.push({ role: 'assistant', content: message.content ?? null, tool_calls: calls });
        for (const call of calls) {
          let result: unknown;
          try {
            const args = JSON.parse(call.function.arguments || '{}') as Record<string, unknown>;
            switch (call.function.name) {
              case 'list_services':
                result = { services: tools.services().map((s) => ({ id: s.id, name: s.name, duration_minutes: s.duration_minutes, price: `$${(s.price_cents / 100).toFixed(2)}` })) };
                break;
              case 'check_availability': {
                const check = await tools.check(Number(args.service_id), parseLocal(args.start_local, shop.timezone));
                if (!check.available) suggestions = check.suggestions;
                result = check.available ? { available: true } : { available: false, reason: check.reason, alternatives: check.suggestions.map((d) => localIso(d, shop.timezone)) };
                break;
              }
              case 'create_booking': {
                const contact = { customerName: cleanName(typeof args.customer_name === 'string' ? args.customer_name : undefined) ?? cleanName(input.customerName) ?? null, customerPhone: cleanPhone(typeof args.customer_phone === 'string' ? args.customer_phone : undefined) ?? null };
                const outcome = await tools.book(Number(args.service_id), parseLocal(args.start_local, shop.timezone), contact);
                if (outcome.status === 'unavailable') {
                  suggestions = outcome.suggestions;
                  result = { booked: false, reason: outcome.reason, alternatives: outcome.suggestions.map((d) => localIso(d, shop.timezone)) };
                } else if (outcome.status === 'missing_details') {
                  // Refused, nothing booked: the model asks the customer, then calls again with the answer.
                  result = { booked: false, error: `${outcome.missing.join(' and ')} required`, missing: outcome.missing, instruction: `Nothing was booked. Ask the customer: "${contactQuestion(outcome.missing)}" Then call create_booking again with ${outcome.missing.join(' and ')}.` };
                } else {
                  booking = outcome.booking;
                  result = { booked: true, booking: outcome.booking };
                }
                break;
              }
              default:
                result = { error: `unknown tool ${call.function.name}` };
            }
          } catch (error) {
            // A bad argument is the model's mistake: tell it, and let it correct itself.
            if (!(error instanceof RangeError) && !(error instanceof SyntaxError)) throw error;
            result = { error: error.message };
          }
          messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
        }
      }
      throw new Error(`OpenAI did not answer within ${maxRounds} tool rounds`);
    },
  };
}
