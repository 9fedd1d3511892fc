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

export function ipKey(request: FastifyRequest): string {
  const ip = request.ip ?? 'unknown';
  // An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d; use one key for both forms.
  return `ip:${ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip}`;
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
