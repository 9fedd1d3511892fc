/**
 * The client of a refused request, as router_refusals stores it: an HMAC-SHA256 of the
 * rate-limit client key (`ip:203.0.113.7`, `ip:2001:db8:1:2::/64`, `openai-user:…`; see
 * src/server/plugins/rate-limit/client-key.ts), never the key itself. Enough to tell one client
 * hammering from many, and to join a client's refusals across minutes and servers; not enough to
 * recover an address without the key (the /64 and IPv4 spaces are small, hence a keyed HMAC and
 * not a plain hash).
 *
 * Keyed with the server's synthetic-traffic key (routergpt.synthetic_key or
 * ROUTERGPT_SYNTHETIC_KEY, a secret every server of an environment shares) under its own domain
 * string, so a client HMAC can never be mistaken for, or used as, a synthetic-marker signature.
 * Without that key (before migration 010), a random per-process key: still no raw address,
 * but the same client gets a different HMAC on each server and after each restart.
 */
import { createHmac, randomBytes } from 'node:crypto';

const DOMAIN = 'routergpt-client/v1\n';
/** 16 bytes (32 hex characters): collisions are negligible for any number of clients a server sees. */
const BYTES = 16;

const processKey = randomBytes(32).toString('hex');

export function clientHmac(key: string | undefined, clientKey: string): string {
  return createHmac('sha256', key || processKey)
    .update(DOMAIN + clientKey)
    .digest()
    .subarray(0, BYTES)
    .toString('hex');
}
