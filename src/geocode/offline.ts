import { createRequire } from 'node:module';
import type { Geocoder, GeocodeQuery, GeocodeResult } from './provider.js';

type ZipCodes = typeof import('zipcodes');

let zipcodes: ZipCodes | undefined;
function data(): ZipCodes {
  // Loaded on first use: the package parses a 44k-entry table at import.
  zipcodes ??= createRequire(import.meta.url)('zipcodes') as ZipCodes;
  return zipcodes;
}

/**
 * Offline geocoding from the `zipcodes` package (US ZIP centroids with city and state): no
 * network, no key, no terms. A ZIP centroid lands ≈ 0.6 km from a street address, a city average
 * ≈ 3.5 km (FACTS.md) — good enough for "shops near me" within a few miles, never street level.
 *
 * 1. The postal code's centroid ('postal_code'), when the code is known (and, if a state is
 *    given, in that state — a typo'd ZIP from another state is worse than the city).
 * 2. Else the mean of the city's ZIP centroids ('city').
 */
export function createOfflineGeocoder(): Geocoder {
  return {
    name: 'offline',
    cacheTtlDays: 90,
    async geocode(query: GeocodeQuery): Promise<GeocodeResult | null> {
      return geocodeOffline(query);
    },
  };
}

export function geocodeOffline(query: GeocodeQuery): GeocodeResult | null {
  const state = query.state?.trim().toUpperCase();
  const zip = /^\s*(\d{5})(?:-\d{4})?\s*$/.exec(query.postalCode ?? '')?.[1];
  if (zip) {
    const entry = data().lookup(zip);
    if (entry && isCoordinate(entry.latitude, entry.longitude) && (!state || entry.state === state)) {
      return { latitude: entry.latitude, longitude: entry.longitude, accuracy: 'postal_code', formatted: `${entry.zip} ${entry.city}, ${entry.state} (ZIP centroid)`, postalCode: entry.zip, state: [entry.state] };
    }
  }
  const city = query.city?.trim();
  if (city && state) {
    const entries = data().lookupByName(city, state).filter((e) => isCoordinate(e.latitude, e.longitude));
    if (entries.length > 0) {
      const latitude = round(entries.reduce((sum, e) => sum + e.latitude, 0) / entries.length);
      const longitude = round(entries.reduce((sum, e) => sum + e.longitude, 0) / entries.length);
      return { latitude, longitude, accuracy: 'city', formatted: `${entries[0]?.city ?? city}, ${state} (mean of ${entries.length} ZIP centroids)`, state: [state] };
    }
  }
  return null;
}

function isCoordinate(latitude: number, longitude: number): boolean {
  return Number.isFinite(latitude) && Number.isFinite(longitude) && !(latitude === 0 && longitude === 0) && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
