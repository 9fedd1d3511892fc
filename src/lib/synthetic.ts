/**
 * The synthetic-traffic marker: routergpt's own requests (verify, smoke, wait-healthy, the
 * deploy's checks) carry
 *
 *   X-RouterGPT-Synthetic: t=<unix seconds>,sig=<hex HMAC-SHA256>[,policy=real]
 *
 * and the server writes the rows they cause with `synthetic = true`, which the analytics views
 * and every metric leave out (docs/synthetic-traffic.md). The signature is over the canonical
 * string
 *
 *   routergpt-synthetic/v1 \n METHOD \n PATH \n T \n POLICY \n SHA256-HEX(BODY)
 *
 * METHOD upper-case; PATH the request target as sent (path and query, e.g.
 * `/router/search-by-location`); T the decimal seconds of `t=`; POLICY `real` or empty; the last
 * line the lower-case hex SHA-256 of the body bytes (of the empty string when there is none).
 * A marker is accepted within ±60 s of the server's clock. An unsigned, malformed, stale or
 * forged marker is not an error: the request is ordinary traffic.
 *
 * One module for both ends (the checks' HTTP client and the server), so they cannot disagree.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SYNTHETIC_HEADER = 'x-routergpt-synthetic';
export const SYNTHETIC_WINDOW_SECONDS = 60;
const VERSION_LINE = 'routergpt-synthetic/v1';

/** `real`: count this request against the real clients' rate-limit policy (api.rate-limit, api.performance). */
export type SyntheticPolicy = 'real';

export interface SyntheticClaim {
  t: number;
  sig: string;
  policy?: SyntheticPolicy;
}

export interface SignInput {
  method: string;
  /** Path and query as sent: `/router/search-by-location`. */
  path: string;
  body?: string | Uint8Array;
  policy?: SyntheticPolicy;
}

export type VerifyResult =
  | { valid: true; policy?: SyntheticPolicy }
  | { valid: false; reason: 'missing' | 'malformed' | 'no-key' | 'stale' | 'bad-signature' };

const bodyHash = (body: string | Uint8Array | undefined) => createHash('sha256').update(body ?? '').digest('hex');

export function canonicalString(method: string, path: string, t: number, policy: SyntheticPolicy | undefined, body: string | Uint8Array | undefined): string {
  return [VERSION_LINE, method.toUpperCase(), path, String(t), policy ?? '', bodyHash(body)].join('\n');
}

function hmacHex(key: string, canonical: string): string {
  return createHmac('sha256', key).update(canonical).digest('hex');
}

/** The header value for one request, signed at `nowMs`. */
export function signSynthetic(key: string, input: SignInput, nowMs: number = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  const sig = hmacHex(key, canonicalString(input.method, input.path, t, input.policy, input.body));
  return `t=${t},sig=${sig}${input.policy ? `,policy=${input.policy}` : ''}`;
}

const T_RE = /^\d{1,12}$/;
const SIG_RE = /^[0-9a-f]{64}$/;

/** The header's fields, or undefined when it is absent or malformed (then: ordinary traffic). No key needed. */
export function parseSyntheticHeader(value: string | string[] | undefined): SyntheticClaim | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.length > 200) return undefined;
  const fields = new Map<string, string>();
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return undefined;
    const name = part.slice(0, eq).trim();
    if (fields.has(name)) return undefined;
    fields.set(name, part.slice(eq + 1).trim());
  }
  const t = fields.get('t');
  const sig = fields.get('sig')?.toLowerCase();
  const policy = fields.get('policy');
  if (t === undefined || !T_RE.test(t) || sig === undefined || !SIG_RE.test(sig)) return undefined;
  if (policy !== undefined && policy !== 'real') return undefined;
  return { t: Number(t), sig, ...(policy ? { policy } : {}) };
}

export interface VerifyInput {
  method: string;
  path: string;
  body?: string | Uint8Array;
  /** The key; undefined when the server has none (then nothing is synthetic). */
  key: string | undefined;
  nowMs?: number;
}

/** Whether `header` is a valid marker for this request. Constant-time on the signature. */
export function verifySynthetic(header: string | string[] | undefined | SyntheticClaim, input: VerifyInput): VerifyResult {
  if (header === undefined) return { valid: false, reason: 'missing' };
  const claim = typeof header === 'object' && !Array.isArray(header) ? header : parseSyntheticHeader(header);
  if (!claim) return { valid: false, reason: 'malformed' };
  if (!input.key) return { valid: false, reason: 'no-key' };
  const now = Math.floor((input.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - claim.t) > SYNTHETIC_WINDOW_SECONDS) return { valid: false, reason: 'stale' };
  const expected = Buffer.from(hmacHex(input.key, canonicalString(input.method, input.path, claim.t, claim.policy, input.body)), 'utf8');
  const given = Buffer.from(claim.sig, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { valid: false, reason: 'bad-signature' };
  return { valid: true, ...(claim.policy ? { policy: claim.policy } : {}) };
}
