import type { Dispatcher } from 'undici';
import { redactSecrets } from '../config/mask.js';
import { GeocodeProviderError } from './errors.js';

/** One answer of a provider: the HTTP status and the body text (parsed by the caller's wire format). */
export interface ProviderResponse {
  httpStatus: number;
  /** Seconds from Retry-After, when the provider sent one. */
  retryAfterS: number | undefined;
  body: string;
}

export interface ProviderRequest {
  provider: string;
  url: URL;
  headers?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Values to take out of every message (the API key). */
  secrets: readonly string[];
  dispatcher?: Dispatcher;
}

/**
 * GET with undici. A transport failure (refused, reset, timed out) is a retryable
 * GeocodeProviderError naming the provider and the host, never the URL with its key.
 */
export async function getText(req: ProviderRequest): Promise<ProviderResponse> {
  const signal = req.signal ? AbortSignal.any([req.signal, AbortSignal.timeout(req.timeoutMs)]) : AbortSignal.timeout(req.timeoutMs);
  try {
    // Loaded on the first request (110 modules): a deploy geocoding offline never needs it.
    const { request } = await import('undici');
    const res = await request(req.url, { method: 'GET', headers: { accept: 'application/json', ...req.headers }, signal, ...(req.dispatcher ? { dispatcher: req.dispatcher } : {}) });
    const body = await res.body.text();
    const retryAfter = Number(res.headers['retry-after']);
    return { httpStatus: res.statusCode, retryAfterS: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined, body };
  } catch (error) {
    if (req.signal?.aborted) throw req.signal.reason ?? error;
    const reason = error instanceof Error ? `${(error as NodeJS.ErrnoException).code ?? error.name}: ${error.message}` : String(error);
    throw new GeocodeProviderError(
      req.provider,
      'exhausted',
      'unreachable',
      redactSecrets(`${req.provider} at ${req.url.host} did not answer (${reason}).`, req.secrets),
      `Check the network path to ${req.url.host} (proxy, firewall, DNS), then run again.`,
      { cause: error },
    );
  }
}

/**
 * The body as JSON, or a GeocodeProviderError naming the provider, the HTTP status and the first
 * bytes of what came instead (a proxy's HTML error page), redacted — not a JSON.parse stack.
 */
export function parseJsonBody(res: ProviderResponse, req: Pick<ProviderRequest, 'provider' | 'url' | 'secrets'>): unknown {
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw garbage(res, req, 'is not JSON');
  }
}

export function garbage(res: ProviderResponse, req: Pick<ProviderRequest, 'provider' | 'url' | 'secrets'>, what: string): GeocodeProviderError {
  return new GeocodeProviderError(
    req.provider,
    'garbage',
    `HTTP ${res.httpStatus}`,
    `${req.provider} at ${req.url.host} answered HTTP ${res.httpStatus} with a body that ${what}: ${firstBytes(res.body, req.secrets)}`,
    `Something between routergpt and ${req.url.host} (a proxy, a captive portal, a wrong base URL) answered instead of ${req.provider}: check the base URL and the network path.`,
  );
}

/** The first 120 characters of a body, on one line, with secrets removed. */
export function firstBytes(body: string, secrets: readonly string[]): string {
  const text = redactSecrets(body, secrets).replace(/\s+/g, ' ').trim();
  if (text === '') return '(empty)';
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

export interface RetryPolicy {
  /** Attempts in all, the first included (default 4). */
  tries: number;
  /** The first backoff's ceiling; each retry doubles it (default 500 ms). */
  baseDelayMs: number;
  /** No backoff is longer than this (default 8 s). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { tries: 4, baseDelayMs: 500, maxDelayMs: 8000 };

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and
 * Jitter"): a uniformly random wait in [0, min(max, base·2^retry)], so many clients that were
 * refused together do not come back together. A Retry-After the provider sent is a floor.
 */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number = Math.random, retryAfterS?: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  const jittered = Math.floor(random() * ceiling);
  return retryAfterS !== undefined ? Math.max(jittered, Math.min(retryAfterS * 1000, policy.maxDelayMs)) : jittered;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
