import pThrottle from 'p-throttle';
import type { Dispatcher } from 'undici';
import { ConfigError } from '../errors.js';
import { redactSecrets } from '../config/mask.js';
import { DEFAULT_GOOGLE_GEOCODING_URL } from '../config/geocoding-settings.js';
import { GeocodeProviderError } from './errors.js';
import { backoffMs, DEFAULT_RETRY, garbage, getText, parseJsonBody, sleep, type ProviderResponse, type RetryPolicy } from './http.js';
import type { GeocodeAccuracy, Geocoder, GeocodeQuery, GeocodeResult } from './provider.js';

/**
 * Google Geocoding API (https://developers.google.com/maps/documentation/geocoding).
 *
 * Terms and limits, as this client follows them:
 * - Coordinates may be cached for at most 30 consecutive days (Google Maps Platform Service
 *   Specific Terms); `place_id` may be kept indefinitely. `cacheDays` (geocoding.google.cache_days,
 *   ≤ 30) is this provider's cache TTL, so every geocoding_cache row it writes expires then.
 * - Requests are paid and rate-limited per project: `qps` (geocoding.google.qps) bounds this
 *   process's rate with a token bucket (p-throttle, strict); OVER_QUERY_LIMIT is retried.
 * - The key (GOOGLE_MAPS_API_KEY) travels in the query string, so no URL of ours is ever put in a
 *   message, and every message is redacted with the key.
 */
export interface GoogleGeocoderOptions {
  apiKey: string;
  /** GOOGLE_GEOCODING_URL; default https://maps.googleapis.com/maps/api/geocode/json. */
  baseUrl?: string;
  /** Requests per second at most (default 10). */
  qps?: number;
  /** How long an answer may be cached (default 30, Google's limit for coordinates). */
  cacheDays?: number;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  /** Injected for tests of the jitter; Math.random otherwise. */
  random?: () => number;
  dispatcher?: Dispatcher;
}

interface GoogleResult {
  address_components?: Array<{ long_name?: string; short_name?: string; types?: string[] }>;
  formatted_address?: string;
  geometry?: { location?: { lat?: unknown; lng?: unknown }; location_type?: string };
  partial_match?: boolean;
  place_id?: string;
  types?: string[];
}

interface GoogleAnswer {
  status?: unknown;
  error_message?: unknown;
  results?: GoogleResult[];
}

const PROVIDER = 'google';

/** What to do about each status that stops the batch. */
const STOP_FIXES: Record<string, string> = {
  OVER_DAILY_LIMIT: 'The key is missing billing, its daily quota is used up, or the key is invalid: check billing and the Geocoding API quota of the key\'s project in the Google Cloud console (or wait for the quota to reset), then run again.',
  REQUEST_DENIED: 'Google refused the key: check GOOGLE_MAPS_API_KEY, that the Geocoding API is enabled for its project, and that the key\'s API and IP restrictions allow this host.',
  INVALID_REQUEST: 'Google could not read the query (an address or component it rejects): check the shop\'s address, city, state and postal code; report it if they look right.',
};

const RETRYABLE = new Set(['OVER_QUERY_LIMIT', 'UNKNOWN_ERROR']);

export function createGoogleGeocoder(options: GoogleGeocoderOptions): Geocoder {
  if (!options.apiKey) throw new ConfigError('The google geocoding provider needs GOOGLE_MAPS_API_KEY, which is not set.', 'Set GOOGLE_MAPS_API_KEY in the environment or .env (a key with the Geocoding API enabled), or choose another geocoding.provider.');
  const baseUrl = options.baseUrl ?? DEFAULT_GOOGLE_GEOCODING_URL;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const qps = options.qps ?? 10;
  // A token bucket of floor(qps) tokens refilled over floor(qps)/qps s; strict: no sliding window holds more.
  const limit = Math.max(1, Math.floor(qps));
  const throttled = pThrottle({ limit, interval: Math.ceil((1000 * limit) / qps), strict: true })((fn: () => Promise<ProviderResponse>) => fn());
  const secrets = [options.apiKey];

  async function once(query: GeocodeQuery, signal: AbortSignal | undefined): Promise<{ res: ProviderResponse; answer: GoogleAnswer }> {
    const url = googleUrl(baseUrl, query, options.apiKey);
    const req = { provider: PROVIDER, url, secrets, timeoutMs: options.timeoutMs ?? 10_000, signal, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) };
    const res = await throttled(() => getText(req));
    // Google answers its statuses with HTTP 200; anything else is a gateway talking (5xx are retried).
    const answer = parseJsonBody(res, req);
    if (typeof answer !== 'object' || answer === null || typeof (answer as GoogleAnswer).status !== 'string') throw garbage(res, req, 'is JSON without a "status"');
    return { res, answer: answer as GoogleAnswer };
  }

  return {
    name: PROVIDER,
    cacheTtlDays: options.cacheDays ?? 30,
    coordinatesLapse: true,
    async geocode(query, signal) {
      if (!googleAddress(query) && !query.postalCode) return null;
      for (let attempt = 1; ; attempt++) {
        let status: string;
        let answer: GoogleAnswer | undefined;
        let retryAfterS: number | undefined;
        try {
          const got = await once(query, signal);
          answer = got.answer;
          status = String(answer.status);
          retryAfterS = got.res.retryAfterS;
        } catch (error) {
          // Transport failures and 5xx pages are retried like UNKNOWN_ERROR; other garbage is not.
          const transient = error instanceof GeocodeProviderError && (error.status === 'unreachable' || /^HTTP (5\d\d|429)$/.test(error.status));
          if (!transient || attempt >= retry.tries) throw error;
          await sleep(backoffMs(attempt - 1, retry, options.random), signal);
          continue;
        }
        if (status === 'OK') return toResult(answer);
        if (status === 'ZERO_RESULTS') return null;
        const said = typeof answer.error_message === 'string' && answer.error_message ? ` (Google said: ${redactSecrets(answer.error_message, secrets)})` : '';
        if (RETRYABLE.has(status)) {
          if (attempt < retry.tries) {
            await sleep(backoffMs(attempt - 1, retry, options.random, retryAfterS), signal);
            continue;
          }
          throw new GeocodeProviderError(PROVIDER, 'exhausted', status, `Google Geocoding answered ${status} ${retry.tries} times in a row${said}.`, status === 'OVER_QUERY_LIMIT' ? 'Lower geocoding.google.qps (or raise the project\'s quota in the Google Cloud console), then run again.' : 'Google had a server error: run again in a few minutes.');
        }
        const fix = STOP_FIXES[status];
        if (fix) throw new GeocodeProviderError(PROVIDER, 'stop', status, `Google Geocoding answered ${status}${said}; the batch stops.`, fix);
        throw new GeocodeProviderError(PROVIDER, 'garbage', status, `Google Geocoding answered an unknown status ${JSON.stringify(redactSecrets(status, secrets).slice(0, 40))}${said}.`, 'Check GOOGLE_GEOCODING_URL points at the Geocoding API (…/maps/api/geocode/json).');
      }
    },
  };
}

/** The address line sent: the shop's parts joined as a person writes them. */
export function googleAddress(query: GeocodeQuery): string {
  return [query.address, query.city, [query.state, query.postalCode].filter(Boolean).join(' ')].map((p) => p?.trim()).filter(Boolean).join(', ');
}

/** The request URL: `address`, `components` (country, postal code) when the shop has them, the key. */
export function googleUrl(baseUrl: string, query: GeocodeQuery, apiKey: string): URL {
  const url = new URL(baseUrl);
  const address = googleAddress(query);
  if (address) url.searchParams.set('address', address);
  const components = [query.country?.trim() ? `country:${query.country.trim()}` : '', query.postalCode?.trim() ? `postal_code:${query.postalCode.trim()}` : ''].filter(Boolean);
  if (components.length > 0) url.searchParams.set('components', components.join('|'));
  url.searchParams.set('key', apiKey);
  return url;
}

/**
 * location_type → accuracy: ROOFTOP is the building, RANGE_INTERPOLATED a point between two
 * numbered addresses on the street; GEOMETRIC_CENTER and APPROXIMATE are the centre of an area,
 * a postal code's when the result is one, else (a locality, a route's middle) no better than the city.
 */
export function googleAccuracy(locationType: string | undefined, types: readonly string[] = []): GeocodeAccuracy {
  if (locationType === 'ROOFTOP') return 'rooftop';
  if (locationType === 'RANGE_INTERPOLATED') return 'street';
  return types.some((t) => t === 'postal_code' || t === 'postal_code_prefix') ? 'postal_code' : 'city';
}

function toResult(answer: GoogleAnswer): GeocodeResult | null {
  const first = answer.results?.[0];
  const lat = Number(first?.geometry?.location?.lat);
  const lng = Number(first?.geometry?.location?.lng);
  if (!first || !Number.isFinite(lat) || !Number.isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180) return null;
  return {
    latitude: lat,
    longitude: lng,
    accuracy: googleAccuracy(first.geometry?.location_type, first.types),
    formatted: `${first.formatted_address ?? ''}${first.partial_match ? ' (partial match)' : ''}`.trim(),
    ...(first.partial_match ? { partialMatch: true } : {}),
    ...(first.place_id ? { placeId: first.place_id } : {}),
    ...componentsOf(first),
  };
}

/** The postal code and state the result lies in (address_components), for the review's flags. */
function componentsOf(result: GoogleResult): Pick<GeocodeResult, 'postalCode' | 'state'> {
  const components = Array.isArray(result.address_components) ? result.address_components : [];
  const of = (type: string) => components.find((c) => Array.isArray(c.types) && c.types.includes(type));
  const postal = of('postal_code');
  const state = of('administrative_area_level_1');
  const names = [state?.short_name, state?.long_name].filter((n): n is string => typeof n === 'string' && n !== '');
  return { ...(typeof postal?.short_name === 'string' && postal.short_name ? { postalCode: postal.short_name } : {}), ...(names.length ? { state: [...new Set(names)] } : {}) };
}
