import type { FastifyRequest } from 'fastify';
import { bearerTokenMatches } from '../security.js';

/**
 * How a request is assigned to a client budget.
 *
 * - `'ip'` (default): `request.ip`, which Fastify takes from X-Forwarded-For only when the peer
 *   is a configured trusted proxy — a spoofed header from anyone else is ignored.
 * - `'openai-user'`: ChatGPT Actions traffic arrives from a few shared OpenAI egress addresses,
 *   so per-IP budgets are shared by every user of the GPT. GPT Actions send
 *   `openai-ephemeral-user-id` (per user, rotates) and `openai-conversation-id` on each call.
 *   Anyone can forge those headers, so they are honoured ONLY on requests that carry the
 *   environment's API key (i.e. come from our own GPT); everything else is keyed by IP.
 * - a function: any other scheme (e.g. a verified OAuth subject).
 */
export type KeyBy = 'ip' | 'openai-user' | ((request: FastifyRequest) => string);

const OPENAI_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * The /64 an IPv6 address belongs to. One subscriber usually gets a whole /64 and can rotate
 * through its 2^64 addresses at will: keying by the full address would give each request a
 * fresh budget (and flood the in-memory store).
 */
export function ipv6Prefix64(ip: string): string | undefined {
  const address = ip.split('%')[0]!.toLowerCase();
  const [head, tail, ...rest] = address.split('::');
  if (rest.length > 0) return undefined;
  const groups = (part: string | undefined): string[] | undefined => {
    if (!part) return [];
    const out: string[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) out.push('0', '0'); // an embedded IPv4 tail takes two groups; it is past the /64 anyway
      else if (/^[0-9a-f]{1,4}$/.test(g)) out.push(g);
      else return undefined;
    }
    return out;
  };
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  if (!h || !t) return undefined;
  const full = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  if (full.length !== 8) return undefined;
  return `${full.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export function ipKey(request: FastifyRequest): string {
  const ip = request.ip ?? 'unknown';
  // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d; use one key for both forms.
  if (ip.startsWith('::ffff:') && ip.includes('.')) return `ip:${ip.slice(7)}`;
  if (ip.includes(':')) return `ip:${ipv6Prefix64(ip) ?? ip}`;
  return `ip:${ip}`;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first !== undefined && OPENAI_ID.test(first) ? first : undefined;
}

export function createClientKey(keyBy: KeyBy, apiKey: string | undefined): (request: FastifyRequest) => string {
  if (typeof keyBy === 'function') return keyBy;
  if (keyBy === 'ip' || !apiKey) return ipKey;
  return (request) => {
    if (!bearerTokenMatches(request.headers.authorization, apiKey)) return ipKey(request);
    const user = header(request, 'openai-ephemeral-user-id');
    if (user) return `openai-user:${user}`;
    const conversation = header(request, 'openai-conversation-id');
    if (conversation) return `openai-conversation:${conversation}`;
    return ipKey(request);
  };
}
