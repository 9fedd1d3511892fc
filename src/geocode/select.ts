import { ConfigError } from '../errors.js';
import { createOfflineGeocoder } from './offline.js';
import type { Geocoder } from './provider.js';

export const GEOCODER_NAMES = ['offline'] as const;

/** The geocoder a step or command asked for by name. Google and Nominatim come with their issue. */
export function selectGeocoder(name: string = 'offline'): Geocoder {
  if (name === 'offline') return createOfflineGeocoder();
  throw new ConfigError(`Unknown geocoding provider "${name}".`, `Use one of: ${GEOCODER_NAMES.join(', ')}.`);
}
