/**
 * The HTTP client every API check uses: node:http(s) through ./transport.ts (a keep-alive
 * agent per check), the check's abort signal, the environment's API key, JSON in and out, and the time each request
 * took. Never logs or returns a secret.
 *
 * Client identity. The server limits each client (by IP, 20 searches and 10 delegations a
 * minute by default). One verify run sends more than that in total, so when the API is on this
 * machine (a 127.x.y.z base URL) each check connects from its own loopback address — to the
 * server it is a separate client, as separate users would be — and one check cannot spend
 * another's budget. Against a remote API all checks share this machine's address; a check that
 * meets an unexpected 429 then reports a warning naming the budget, never a failure.
 * Where the server keys budgets by the GPT's `openai-ephemeral-user-id` (only on requests that
 * carry the API key), we send a distinctive one too.
 *
 * Synthetic marker. Every request carries a signed `X-RouterGPT-Synthetic` header when the run
 * has a key (deps.syntheticKey), so the server writes its rows as synthetic and spends the
 * synthetic rate-limit budget; checks that must prove the real limits (api.rate-limit,
 * api.performance) ask for the real policy (`policy=real`).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Agent } from 'node:http';
import { SYNTHETIC_HEADER, signSynthetic, type SyntheticPolicy } from '../../lib/synthetic.js';
import { fail, warn, type CheckDeps, type CheckResult } from '../define-check.js';
import { createAgent, errorCode, send as transportSend, type ResponseHeaders, type TransportRequest, type TransportResponse } from './transport.js';

export interface ApiResponse {
  status: number;
  headers: ResponseHeaders;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
  /** Milliseconds from sending to the last byte of the body. */
  ms: number;
}

export interface RequestOptions {
  method?: string;
  /** A value is sent as JSON; a string is sent as is (malformed-JSON probes). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses the caller handles itself; 429 otherwise ends the check with a warning. */
  expect429?: boolean;
}

export interface ApiClient {
  readonly base: string;
  request(path: string, options?: RequestOptions): Promise<ApiResponse>;
  get(path: string, options?: Omit<RequestOptions, 'method' | 'body'>): Promise<ApiResponse>;
  post(path: string, body: unknown, options?: Omit<RequestOptions, 'method' | 'body'>): Promise<ApiResponse>;
  /** The loopback address this check connects from, when it has its own. */
  readonly sourceAddress: string | undefined;
}

/** An unexpected 429: the per-client budget ran out during the run. */
export class RateLimitedError extends Error {
  constructor(
    readonly path: string,
    readonly retryAfter: string | null,
  ) {
    super(`rate-limited (429) on ${path}`);
  }
}

/** The API could not be reached: before any answer (`answeredBefore` false) or mid-check. */
export class ApiConnectError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly answeredBefore: boolean,
  ) {
    super(message);
  }
}

/** Node's codes for a certificate this machine does not trust. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ALTNAME|EPROTO/i;

/** The next action for an API that could not be reached: a certificate problem is not a stopped server. */
export function unreachableHint(error: string): string {
  if (TLS_CODES.test(error)) {
    return 'The server answered, but its TLS certificate is not trusted here (expired, self-signed, or issued for another name): renew or fix the certificate (see tls.certificate), or check PUBLIC_API_BASE / --base-url names the host the certificate is for.';
  }
  if (/ENOTFOUND|EAI_AGAIN/.test(error)) return 'The host name does not resolve: check PUBLIC_API_BASE / --base-url and DNS.';
  return 'Start the server (`routergpt serve`, or check the process manager), and check PUBLIC_API_BASE / --base-url.';
}


const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

export function isLoopbackBase(base: string): boolean {
  const host = new URL(base).hostname;
  return LOOPBACK_V4.test(host) || host === 'localhost' || host === '[::1]';
}


export interface ApiClientOptions {
  /** `real`: the server counts these requests against the real clients' rate-limit policy. */
  syntheticPolicy?: SyntheticPolicy;
}

export function createApiClient(deps: CheckDeps, clientOptions: ApiClientOptions = {}): ApiClient & { close(): Promise<void> } {
  const base = deps.apiBase!.replace(/\/+$/, '');
  const host = new URL(base).hostname;
  let sourceAddress: string | undefined = LOOPBACK_V4.test(host) ? `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}` : undefined;
  let agent: Agent = createAgent(base, sourceAddress);
  /** Every agent this client made (one more after an EADDRNOTAVAIL): closed together. */
  const agents: Agent[] = [agent];
  // The client's requests listen to one signal of its own, which follows the check's: a check
  // may have dozens in flight (input-validation's probes), each request a listener.
  const aborter = new AbortController();
  setMaxListeners(0, aborter.signal);
  const follow = () => aborter.abort(deps.signal?.reason);
  if (deps.signal?.aborted) follow();
  else deps.signal?.addEventListener('abort', follow, { once: true });
  const identity = `routergpt-verify-${randomBytes(6).toString('hex')}`;
  const auth: Record<string, string> = deps.config.apiKey.value ? { authorization: `Bearer ${deps.config.apiKey.value}`, 'openai-ephemeral-user-id': identity } : {};

  const bound = agent;
  async function send(url: string, init: TransportRequest): Promise<TransportResponse> {
    const used = agent;
    try {
      return await transportSend(url, used, init);
    } catch (error) {
      if (used === bound && errorCode(error) === 'EADDRNOTAVAIL') {
        // Only 127.0.0.1 exists here (macOS): share the one address. Requests sent at once all
        // meet it; the first swaps the agent, and each is sent again on the unbound one.
        if (agent === bound) {
          agent = createAgent(base);
          agents.push(agent);
          sourceAddress = undefined;
        }
        return send(url, init);
      }
      throw error;
    }
  }

  /** Responses received so far: a connection error before the first one means "never reached", not "lost". */
  let answered = 0;

  async function request(path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...auth };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const method = options.method ?? (body === undefined ? 'GET' : 'POST');
    if (deps.syntheticKey) headers[SYNTHETIC_HEADER] = signSynthetic(deps.syntheticKey, { method, path, body, policy: clientOptions.syntheticPolicy });
    Object.assign(headers, options.headers);
    const started = performance.now();
    let res: TransportResponse;
    try {
      res = await send(`${base}${path}`, { method, headers, body, signal: aborter.signal });
    } catch (error) {
      if (aborter.signal.aborted) throw error;
      const code = errorCode(error);
      throw new ApiConnectError(`${options.method ?? 'GET'} ${path}: ${code}`, code, answered > 0);
    }
    answered += 1;
    const ms = performance.now() - started;
    let json: unknown;
    const { text } = res;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    if (res.status === 429 && !options.expect429) throw new RateLimitedError(path, res.headers.get('retry-after'));
    return { status: res.status, headers: res.headers, text, json, ms };
  }

  return {
    base,
    get sourceAddress() {
      return sourceAddress;
    },
    request,
    get: (path, options) => request(path, { ...options, method: 'GET' }),
    post: (path, body, options) => request(path, { ...options, method: 'POST', body }),
    close: async () => {
      deps.signal?.removeEventListener('abort', follow);
      for (const a of agents) a.destroy();
    },
  };
}

/**
 * Scope a client to one check (STYLE.md §9): closed in `finally`; an unexpected 429 becomes a
 * warning (our own run spent the budget — not a server fault), a lost connection a failure.
 */
export async function withApiClient(deps: CheckDeps, fn: (api: ApiClient) => Promise<CheckResult>, options: ApiClientOptions = {}): Promise<CheckResult> {
  const api = createApiClient(deps, options);
  try {
    return await fn(api);
  } catch (error) {
    if (error instanceof RateLimitedError) {
      return warn(`could not finish: the server rate-limited this check (429 on ${error.path}${error.retryAfter ? `, Retry-After ${error.retryAfter} s` : ''})`, {
        hint: 'The per-client budget was spent by this run (checks share this machine\'s address on a remote API). Rerun this check alone after a minute: `routergpt verify --only <id>`.',
      });
    }
    if (error instanceof ApiConnectError) {
      return error.answeredBefore
        ? fail(`lost the API: ${error.message}`, { hint: 'Check the server is running and reachable (`curl <base>/health`), then rerun.' })
        : fail(`cannot reach ${api.base}: ${error.message}`, { hint: unreachableHint(error.code) });
    }
    throw error;
  } finally {
    await api.close();
  }
}

export interface ErrorBody {
  error: { code: string; message: string; fields?: Array<{ field: string; message: string }> };
}

/** `{error:{code,message,fields?}}`, the one error shape of the API. */
export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const error = (value as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as Record<string, unknown>;
  if (typeof e.code !== 'string' || typeof e.message !== 'string') return false;
  if (e.fields === undefined) return true;
  return Array.isArray(e.fields) && e.fields.every((f) => typeof f === 'object' && f !== null && typeof (f as { field?: unknown }).field === 'string' && typeof (f as { message?: unknown }).message === 'string');
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A short, safe description of a response for details lines (bodies are cut, never secret-bearing requests). */
export function brief(res: ApiResponse): string {
  const body = res.text.length > 160 ? `${res.text.slice(0, 160)}…` : res.text;
  return `${res.status} ${body.replace(/\s+/g, ' ')}`;
}

/** The probe locations of api.search and others (the checklist's "3-4 different locations"). */
export interface ProbeLocation {
  name: string;
  latitude: number;
  longitude: number;
  radius_miles: number;
}

export const DEFAULT_LOCATIONS: readonly ProbeLocation[] = [
  { name: 'Tempe', latitude: 33.4255, longitude: -111.94, radius_miles: 10 },
  { name: 'Phoenix', latitude: 33.4484, longitude: -112.074, radius_miles: 10 },
  { name: 'Scottsdale', latitude: 33.4942, longitude: -111.9261, radius_miles: 10 },
  { name: 'Mesa', latitude: 33.4152, longitude: -111.8315, radius_miles: 10 },
];

export function probeLocations(params: Record<string, unknown> | undefined): ProbeLocation[] {
  const raw = params?.locations;
  if (!Array.isArray(raw) || raw.length === 0) return [...DEFAULT_LOCATIONS];
  return raw.map((l: Record<string, unknown>, i) => ({
    name: String(l.name ?? `location ${i + 1}`),
    latitude: Number(l.latitude),
    longitude: Number(l.longitude),
    radius_miles: Number(l.radius_miles ?? l.radiusMiles ?? 10),
  }));
}

export const SEARCH_PATH = '/router/search-by-location';
export const DELEGATE_PATH = '/router/delegate';
export const CHAT_PATH = '/chat';
