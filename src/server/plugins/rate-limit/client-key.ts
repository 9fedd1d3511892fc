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

/** The eight 16-bit groups of an IPv6 address (zone id dropped, an embedded IPv4 tail converted), or undefined. */
function ipv6Groups(ip: string): number[] | undefined {
  const address = ip.split('%')[0]!.toLowerCase();
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const parts = part.split(':');
    for (const [i, g] of parts.entries()) {
      if (g.includes('.') && i === parts.length - 1) {
        const v4 = ipv4Octets(g);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-f]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...Array<number>(missing).fill(0), ...tail] : undefined;
}

/** Four octets of a dotted-quad IPv4 address; leading zeros are read as decimal (never octal). */
function ipv4Octets(ip: string): number[] | undefined {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return undefined;
  const octets = ip.split('.').map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/**
 * One spelling per address, so no spelling buys a fresh budget (issue 14, A8): a forwarded
 * address may come as `::ffff:a.b.c.d` (or its hex form), with leading zeros, `a.b.c.d:port`,
 * `[a.b.c.d]`, `[v6]:port`, a zone id, upper case or a trailing dot. IPv4 → `a.b.c.d`; IPv6 →
 * its /64 (below); undefined when it is not an address at all.
 */
export function canonicalClientIp(raw: string): string | undefined {
  let ip = raw.trim().replace(/\.+$/, '');
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(ip);
  if (bracketed) ip = bracketed[1]!;
  else {
    const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(ip);
    if (v4port) ip = v4port[1]!;
  }
  const v4 = ipv4Octets(ip);
  if (v4) return v4.join('.');
  const groups = ipv6Groups(ip);
  if (!groups) return undefined;
  // IPv4-mapped (::ffff:a.b.c.d, ::ffff:7f00:1): the IPv4 client it is.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/**
 * The /64 an IPv6 address belongs to. One subscriber usually gets a whole /64 and can rotate
 * through its 2^64 addresses at will: keying by the full address would give each request a
 * fresh budget (and flood the in-memory store).
 */
export function ipv6Prefix64(ip: string): string | undefined {
  const groups = ipv6Groups(ip);
  return groups ? `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64` : undefined;
}

/**
 * Spelling → key for the addresses seen lately: the canonical form takes a handful of regular
 * expressions and arrays, and a client sends many requests from one address (bench/http).
 */
const ipKeys = new Map<string, string>();
const IP_KEY_CACHE_SIZE = 10_000;

/**
 * The client's address as a key. `request.ip` is the forwarded address behind a trusted proxy;
 * when that is not an address at all, the socket's peer (the proxy) is used instead — a garbage
 * header must not be a budget of its own.
 */
export function ipKey(request: FastifyRequest): string {
  const raw = request.ip ?? '';
  const known = ipKeys.get(raw);
  if (known !== undefined) return known;
  const ip = canonicalClientIp(raw);
  if (ip === undefined) return `ip:${canonicalClientIp(request.socket?.remoteAddress ?? '') ?? 'unknown'}`;
  const key = `ip:${ip}`;
  // Bounded: a flood of distinct addresses costs a cleared cache, never memory.
  if (ipKeys.size >= IP_KEY_CACHE_SIZE) ipKeys.clear();
  ipKeys.set(raw, key);
  return key;
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
