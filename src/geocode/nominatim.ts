import type { Dispatcher } from 'undici';
import { ConfigError } from '../errors.js';
import { DEFAULT_NOMINATIM_URL } from '../config/geocoding-settings.js';
import { VERSION } from '../version.js';
import { GeocodeProviderError } from './errors.js';
import { backoffMs, DEFAULT_RETRY, firstBytes, garbage, getText, parseJsonBody, sleep, type RetryPolicy } from './http.js';
import type { GeocodeAccuracy, Geocoder, GeocodeQuery, GeocodeResult } from './provider.js';
import type { RequestSlot } from './request-slot.js';

/**
 * Nominatim, OpenStreetMap's geocoder (https://nominatim.org/release-docs/latest/api/Search/).
 *
 * Terms and limits of the public server (https://operations.osmfoundation.org/policies/nominatim/),
 * as this client follows them:
 * - at most 1 request per second for the whole application: every request goes through a
 *   RequestSlot shared by all routergpt processes (Redis, a database advisory lock, or a lock file);
 * - an application-specific User-Agent with a contact: `routergpt/<version> (<email>)`, the e-mail
 *   from geocoding.nominatim.email — refused on the public server without one;
 * - attribution: results are © OpenStreetMap contributors under the ODbL (NOMINATIM_ATTRIBUTION,
 *   shown in reports);
 * - bulk geocoding is discouraged on the public server: for thousands of shops run your own
 *   Nominatim (NOMINATIM_URL) or use another provider.
 * Cached answers follow the ODbL, which sets no expiry; 90 days keeps them fresh like offline's.
 */
export const NOMINATIM_ATTRIBUTION = '© OpenStreetMap contributors, ODbL';
export const PUBLIC_NOMINATIM_HOST = 'nominatim.openstreetmap.org';

export interface NominatimGeocoderOptions {
  /** NOMINATIM_URL; default the public server. */
  baseUrl?: string;
  /** geocoding.nominatim.email: the contact in the User-Agent. */
  email?: string | undefined;
  /** The application-wide 1 request/s bound (request-slot.ts). */
  slot: RequestSlot;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  random?: () => number;
  dispatcher?: Dispatcher;
}

interface NominatimPlace {
  place_id?: number | string;
  lat?: string;
  lon?: string;
  display_name?: string;
  place_rank?: number;
  importance?: number;
  addresstype?: string;
  category?: string;
  type?: string;
  address?: Record<string, unknown>;
}

const PROVIDER = 'nominatim';

export function isPublicNominatim(baseUrl: string): boolean {
  try {
    return new URL(baseUrl).hostname === PUBLIC_NOMINATIM_HOST;
  } catch {
    return false;
  }
}

export function nominatimUserAgent(email: string | undefined): string {
  return `routergpt/${VERSION} (${email ? `contact: ${email}` : 'no contact configured'})`;
}

export function createNominatimGeocoder(options: NominatimGeocoderOptions): Geocoder {
  const baseUrl = options.baseUrl ?? DEFAULT_NOMINATIM_URL;
  if (isPublicNominatim(baseUrl) && !options.email) {
    throw new ConfigError(
      `The public Nominatim server (${PUBLIC_NOMINATIM_HOST}) requires a contact e-mail in the User-Agent, and geocoding.nominatim.email is not set.`,
      'Set geocoding.nominatim.email in routergpt.config.yaml for this environment (an address the OSM operators can write to), or point NOMINATIM_URL at your own Nominatim.',
    );
  }
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const headers = { 'user-agent': nominatimUserAgent(options.email), 'accept-language': 'en' };

  return {
    name: PROVIDER,
    cacheTtlDays: 90,
    async geocode(query, signal) {
      const url = nominatimUrl(baseUrl, query);
      if (!url) return null;
      const req = { provider: PROVIDER, url, headers, secrets: [], timeoutMs: options.timeoutMs ?? 10_000, signal, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) };
      for (let attempt = 1; ; attempt++) {
        let res;
        try {
          res = await options.slot.run(() => getText(req), signal);
        } catch (error) {
          if (!(error instanceof GeocodeProviderError) || attempt >= retry.tries) throw error;
          await sleep(backoffMs(attempt - 1, retry, options.random), signal);
          continue;
        }
        if (res.httpStatus === 429 || res.httpStatus >= 500) {
          if (attempt < retry.tries) {
            await sleep(backoffMs(attempt - 1, retry, options.random, res.retryAfterS), signal);
            continue;
          }
          throw new GeocodeProviderError(PROVIDER, 'exhausted', `HTTP ${res.httpStatus}`, `Nominatim at ${url.host} answered HTTP ${res.httpStatus} ${retry.tries} times in a row: ${firstBytes(res.body, [])}`, res.httpStatus === 429 ? 'Nominatim is limiting this application: another process (or machine) may be geocoding against it without the shared slot — wait a few minutes, then run again.' : 'The Nominatim server is failing: run again later.');
        }
        if (res.httpStatus === 403 || res.httpStatus === 401) {
          throw new GeocodeProviderError(PROVIDER, 'stop', `HTTP ${res.httpStatus}`, `Nominatim at ${url.host} refused the request (HTTP ${res.httpStatus}): ${firstBytes(res.body, [])}; the batch stops.`, `The server blocks this User-Agent or address (usually for breaking its usage policy): check geocoding.nominatim.email and ${PUBLIC_NOMINATIM_HOST}'s policy, or use your own NOMINATIM_URL.`);
        }
        if (res.httpStatus === 400) {
          throw new GeocodeProviderError(PROVIDER, 'stop', 'HTTP 400', `Nominatim at ${url.host} rejected the query (HTTP 400): ${firstBytes(res.body, [])}; the batch stops.`, 'Check NOMINATIM_URL points at a Nominatim server (its /search endpoint), and the shop\'s address fields.');
        }
        const body = parseJsonBody(res, req);
        if (!Array.isArray(body)) throw garbage(res, req, 'is JSON but not a list of places');
        return toResult(body[0] as NominatimPlace | undefined);
      }
    },
  };
}

/** The structured search (street, city, state, postalcode, country); undefined when the shop has no address at all. */
export function nominatimUrl(baseUrl: string, query: GeocodeQuery): URL | undefined {
  const parts: Array<[string, string | undefined]> = [['street', query.address], ['city', query.city], ['state', query.state], ['postalcode', query.postalCode], ['country', query.country]];
  const given = parts.map(([k, v]) => [k, v?.trim()] as const).filter((p): p is readonly [string, string] => Boolean(p[1]));
  if (given.length === 0 || (given.length === 1 && given[0]![0] === 'country')) return undefined;
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/search`;
  for (const [k, v] of given) url.searchParams.set(k, v);
  url.searchParams.set('format', 'jsonv2');
  url.searchParams.set('addressdetails', '1');
  url.searchParams.set('limit', '1');
  return url;
}

/**
 * place_rank → accuracy (Nominatim's search ranks: 30 a house or POI, 26–27 a street, 28–29
 * addressable parts of it, 21–25 postcodes and neighbourhoods, 13–20 towns, villages and suburbs,
 * below that counties, states and countries). Without a place_rank (an older server), the
 * addresstype says the same. `importance` measures prominence, not precision: a city has a high
 * one, so it can only lower confidence, never raise the accuracy. Coarser than a town is no answer.
 */
export function nominatimAccuracy(place: Pick<NominatimPlace, 'place_rank' | 'addresstype' | 'type' | 'importance'>): GeocodeAccuracy | undefined {
  const kind = place.addresstype ?? place.type;
  if (kind === 'postcode') return 'postal_code';
  const rank = typeof place.place_rank === 'number' ? place.place_rank : rankOf(kind);
  if (rank === undefined) return undefined;
  if (rank >= 30) return 'rooftop';
  if (rank >= 26) return 'street';
  if (rank >= 21) return 'postal_code';
  if (rank >= 13) return 'city';
  return undefined;
}

function rankOf(kind: string | undefined): number | undefined {
  switch (kind) {
    case 'house':
    case 'building':
    case 'amenity':
    case 'shop':
      return 30;
    case 'road':
    case 'street':
      return 26;
    case 'neighbourhood':
    case 'quarter':
      return 22;
    case 'suburb':
    case 'city':
    case 'town':
    case 'village':
    case 'hamlet':
      return 16;
    default:
      return undefined;
  }
}

function toResult(place: NominatimPlace | undefined): GeocodeResult | null {
  if (!place) return null;
  const latitude = Number(place.lat);
  const longitude = Number(place.lon);
  const accuracy = nominatimAccuracy(place);
  if (!accuracy || !Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return null;
  return {
    latitude,
    longitude,
    accuracy,
    formatted: place.display_name ?? '',
    ...(place.place_id !== undefined ? { placeId: String(place.place_id) } : {}),
    ...addressOf(place),
  };
}

/** The postal code and state of the place (addressdetails=1), for the review's flags. */
function addressOf(place: NominatimPlace): Pick<GeocodeResult, 'postalCode' | 'state'> {
  const address = place.address && typeof place.address === 'object' ? place.address : {};
  const text = (key: string) => (typeof address[key] === 'string' && address[key] !== '' ? (address[key] as string) : undefined);
  // ISO3166-2-lvl4 is "US-AZ": the code after the country's.
  const iso = text('ISO3166-2-lvl4')?.split('-').slice(1).join('-');
  const names = [iso, text('state')].filter((n): n is string => Boolean(n));
  const postcode = text('postcode');
  return { ...(postcode ? { postalCode: postcode } : {}), ...(names.length ? { state: [...new Set(names)] } : {}) };
}
