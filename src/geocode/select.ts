import { ConfigError } from '../errors.js';
import { GEOCODER_NAMES, isGeocoderName, type GeocoderName } from '../config/geocoding-settings.js';
import type { EnvironmentConfig } from '../config/types.js';
import type { Database } from '../db/connect.js';
import { createGoogleGeocoder } from './google.js';
import { createNominatimGeocoder, isPublicNominatim, NOMINATIM_ATTRIBUTION } from './nominatim.js';
import { createOfflineGeocoder } from './offline.js';
import type { Geocoder } from './provider.js';
import { createFileSlot, createPostgresSlot, createRedisSlot, type RequestSlot } from './request-slot.js';

export { GEOCODER_NAMES };

/** The configured providers, in the order to ask them, and what they hold open. */
export interface GeocoderChain {
  geocoders: Geocoder[];
  /** Attribution lines a report must show for the providers in the chain (Nominatim's ODbL). */
  attributions: string[];
  /** How Nominatim's 1 request/s is kept, when it is in the chain. */
  slot: RequestSlot | undefined;
  close(): Promise<void>;
}

export interface CreateGeocodersOptions {
  config: EnvironmentConfig;
  /** The environment's open database: its advisory locks keep Nominatim's rate on a real server. */
  db?: Pick<Database, 'pool' | 'kind'>;
  /** Instead of `geocoding.provider` (a step's parameter, a command's --provider). */
  providers?: readonly string[];
}

/** The geocoder a step or command asked for by name, when it needs nothing but itself (offline). */
export function selectGeocoder(name: string = 'offline'): Geocoder {
  if (name === 'offline') return createOfflineGeocoder();
  if (isGeocoderName(name)) throw new ConfigError(`The ${name} geocoding provider needs the environment's configuration.`, 'Use createGeocoders({ config }) (report this: it is a routergpt bug).');
  throw unknownProvider(name);
}

export function unknownProvider(name: string): ConfigError {
  return new ConfigError(`Unknown geocoding provider "${name}".`, `Use one of: ${GEOCODER_NAMES.join(', ')} (geocoding.provider in routergpt.config.yaml takes one or an ordered list).`);
}

/**
 * The chain of geocoding.provider (or `providers`), each built from the environment: Google with
 * GOOGLE_MAPS_API_KEY, GOOGLE_GEOCODING_URL, cache_days and qps; Nominatim with NOMINATIM_URL,
 * the contact e-mail and the shared request slot — Redis when the environment has one, else an
 * advisory lock on a real PostgreSQL server, else a lock file next to the embedded database.
 * Problems are ConfigErrors (exit 2) raised before any request is sent.
 */
export function createGeocoders({ config, db, providers }: CreateGeocodersOptions): GeocoderChain {
  const settings = config.geocoding;
  const names = providers ?? settings.providers.value;
  for (const name of names) if (!isGeocoderName(name)) throw unknownProvider(name);
  let slot: RequestSlot | undefined;
  const geocoders = (names as GeocoderName[]).map((name): Geocoder => {
    switch (name) {
      case 'offline':
        return createOfflineGeocoder();
      case 'google': {
        const apiKey = settings.google.apiKey.value;
        if (!apiKey) throw new ConfigError(`geocoding.provider names google for the ${config.name} environment, but GOOGLE_MAPS_API_KEY is not set.`, 'Set GOOGLE_MAPS_API_KEY in the environment or .env (a key with the Geocoding API enabled), or choose another geocoding.provider.');
        return createGoogleGeocoder({ apiKey, baseUrl: settings.google.url.value, qps: settings.google.qps.value, cacheDays: settings.google.cacheDays.value });
      }
      case 'nominatim': {
        const baseUrl = settings.nominatim.url.value;
        if (isPublicNominatim(baseUrl) && !settings.nominatim.email.value) {
          throw new ConfigError(`geocoding.provider names nominatim for the ${config.name} environment, with the public server (${baseUrl}), but geocoding.nominatim.email is not set: its usage policy requires a contact in the User-Agent.`, `Set environments.${config.name}.geocoding.nominatim.email in routergpt.config.yaml, or point NOMINATIM_URL at your own Nominatim.`);
        }
        slot = nominatimSlot(config, db, new URL(baseUrl).host);
        return createNominatimGeocoder({ baseUrl, email: settings.nominatim.email.value, slot });
      }
    }
  });
  const held = slot;
  return {
    geocoders,
    attributions: names.includes('nominatim') ? [NOMINATIM_ATTRIBUTION] : [],
    slot: held,
    close: async () => {
      await held?.close();
    },
  };
}

/** Redis (redis_url_env) > an advisory lock on a real server > a lock file next to the embedded database. */
export function nominatimSlot(config: EnvironmentConfig, db: CreateGeocodersOptions['db'], host: string): RequestSlot {
  const name = `nominatim-${host}`;
  if (config.redisUrl.value) return createRedisSlot(config.redisUrl.value, { name });
  if (db?.kind === 'url') return createPostgresSlot(db.pool, { name });
  const target = config.database.value;
  // The embedded database's own directory (.routergpt/<env>/), where its lock file lives too.
  const dir = target.kind === 'embedded' ? target.dataDir : `${config.stateDir.value}/${config.name}`;
  return createFileSlot(dir, { name });
}
