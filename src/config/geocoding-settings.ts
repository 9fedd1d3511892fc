import { GEOCODE_ACCURACIES, type GeocodeAccuracy } from '../geocode/provider.js';
import type { RawEnvironment } from './file-schema.js';
import type { Sourced } from './types.js';

/** The providers `geocoding.provider` may name (src/geocode/<name>.ts). */
export const GEOCODER_NAMES = ['google', 'nominatim', 'offline'] as const;
export type GeocoderName = (typeof GEOCODER_NAMES)[number];

export const DEFAULT_GOOGLE_GEOCODING_URL = 'https://maps.googleapis.com/maps/api/geocode/json';
export const DEFAULT_NOMINATIM_URL = 'https://nominatim.openstreetmap.org';

/** `geocoding:` of an environment, resolved; the secrets and URLs come from the environment. */
export interface GeocodingSettings {
  /** In order: the first provider that answers wins, the next is asked when one has no answer. */
  providers: Sourced<GeocoderName[]>;
  /** Coarser than this is flagged (the dry run, db.shops-geocoded). */
  accuracyMin: Sourced<GeocodeAccuracy>;
  /** A shop moved farther than this (metres) by a new answer is flagged. */
  movedWarnM: Sourced<number>;
  google: {
    /** Google's terms allow caching coordinates for 30 days at most. */
    cacheDays: Sourced<number>;
    qps: Sourced<number>;
    /** GOOGLE_MAPS_API_KEY — a secret: registered for redaction, never printed. */
    apiKey: Sourced<string | undefined>;
    url: Sourced<string>;
  };
  nominatim: {
    email: Sourced<string | undefined>;
    url: Sourced<string>;
  };
}

export const GEOCODING_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // One name or an ordered list; the names are checked by resolveGeocoding (one message listing the known ones).
    provider: { type: ['string', 'array'], items: { type: 'string', minLength: 1 }, minItems: 1 },
    accuracy_min: { type: 'string' },
    moved_warn_m: { type: 'number', minimum: 0 },
    google: {
      type: 'object',
      additionalProperties: false,
      properties: { cache_days: { type: 'integer', minimum: 1, maximum: 30 }, qps: { type: 'number', exclusiveMinimum: 0, maximum: 100 } },
    },
    nominatim: { type: 'object', additionalProperties: false, properties: { email: { type: 'string' } } },
  },
} as const;

/**
 * `geocoding:` over the defaults: offline (the only provider that needs nothing), accuracy_min
 * street (postal_code when offline is the only provider), moved_warn_m 500, Google cache_days 30 (its terms' limit) and qps 10. The key and the
 * two base URLs come from the environment (GOOGLE_MAPS_API_KEY, GOOGLE_GEOCODING_URL,
 * NOMINATIM_URL). Problems are collected, so every one is reported at once.
 */
export function resolveGeocoding(raw: RawEnvironment['geocoding'], env: NodeJS.ProcessEnv, fileLabel: (key: string) => string, envLabel: (variable: string) => string, problems: string[]): GeocodingSettings {
  const fromFile = <T>(key: string, value: T | undefined, fallback: T, defaultOrigin = 'built-in default'): Sourced<T> =>
    value === undefined ? { value: fallback, source: 'default', origin: defaultOrigin } : { value, source: 'file', origin: fileLabel(`geocoding.${key}`) };
  const fromEnv = <T extends string | undefined>(variable: string, fallback: T, defaultOrigin: string): Sourced<string | T> => {
    const value = env[variable]?.trim();
    return value ? { value, source: 'env', origin: envLabel(variable) } : { value: fallback, source: 'default', origin: defaultOrigin };
  };

  const names = raw?.provider === undefined ? ['offline'] : ([] as string[]).concat(raw.provider);
  const providers = fromFile<GeocoderName[]>('provider', raw?.provider === undefined ? undefined : (names.filter(isGeocoderName)), ['offline'], 'built-in default (offline)');
  for (const name of names) {
    if (!isGeocoderName(name)) problems.push(`${fileLabel('geocoding.provider')}: unknown geocoding provider "${name}"; known providers: ${GEOCODER_NAMES.join(', ')}.`);
  }
  const duplicates = names.filter((n, i) => names.indexOf(n) !== i);
  if (duplicates.length > 0) problems.push(`${fileLabel('geocoding.provider')}: ${[...new Set(duplicates)].join(', ')} listed twice; name each provider once, in the order to ask them.`);

  let accuracy: GeocodeAccuracy | undefined;
  if (raw?.accuracy_min !== undefined) {
    if ((GEOCODE_ACCURACIES as readonly string[]).includes(raw.accuracy_min)) accuracy = raw.accuracy_min as GeocodeAccuracy;
    else problems.push(`${fileLabel('geocoding.accuracy_min')}: unknown accuracy "${raw.accuracy_min}"; use one of ${GEOCODE_ACCURACIES.join(', ')} (finest first).`);
  }

  const email = raw?.nominatim?.email?.trim();
  if (email !== undefined && email !== '' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) problems.push(`${fileLabel('geocoding.nominatim.email')}: "${email}" is not an e-mail address; Nominatim's policy asks for a contact address it can write to.`);

  const urlOf = (variable: string, fallback: string): Sourced<string> => {
    const sourced = fromEnv(variable, fallback, `built-in default (${fallback})`);
    try {
      const url = new URL(sourced.value);
      if (!/^https?:$/.test(url.protocol)) problems.push(`${sourced.origin} is ${JSON.stringify(sourced.value)}: it must be an http(s) URL.`);
    } catch {
      problems.push(`${sourced.origin} is ${JSON.stringify(sourced.value)}, not a URL: it must be an absolute http(s) URL.`);
    }
    return sourced;
  };

  return {
    providers,
    // Street by default; with only the offline provider (ZIP centroids at best), postal_code: a finer
    // minimum would flag every shop it places, and a city-level fallback is still flagged.
    accuracyMin: providers.value.length === 1 && providers.value[0] === 'offline'
      ? fromFile('accuracy_min', accuracy, 'postal_code', 'built-in default for the offline provider (postal_code: the finest it gives)')
      : fromFile('accuracy_min', accuracy, 'street'),
    movedWarnM: fromFile('moved_warn_m', raw?.moved_warn_m, 500),
    google: {
      cacheDays: fromFile('google.cache_days', raw?.google?.cache_days, 30, "built-in default (Google's terms: 30 days)"),
      qps: fromFile('google.qps', raw?.google?.qps, 10),
      apiKey: fromEnv('GOOGLE_MAPS_API_KEY', undefined, 'GOOGLE_MAPS_API_KEY (not set)'),
      url: urlOf('GOOGLE_GEOCODING_URL', DEFAULT_GOOGLE_GEOCODING_URL),
    },
    nominatim: {
      email: fromFile('nominatim.email', email || undefined, undefined, 'not set'),
      url: urlOf('NOMINATIM_URL', DEFAULT_NOMINATIM_URL),
    },
  };
}

export function isGeocoderName(name: string): name is GeocoderName {
  return (GEOCODER_NAMES as readonly string[]).includes(name);
}
