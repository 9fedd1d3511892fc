import { createRequire } from 'node:module';
import path from 'node:path';
import { routergptCacheDir } from '../lib/cache-dir.js';
import { cacheKey, packageVersion, readEntry, writeEntry } from '../lib/disk-cache.js';
import type { Geocoder, GeocodeQuery, GeocodeResult } from './provider.js';

type ZipCodes = typeof import('zipcodes');
type ZipEntry = import('zipcodes').ZipCodeEntry;

/** What the geocoder asks of the table: the package's `lookup` (a 5-digit ZIP) and `lookupByName`. */
interface ZipTable {
  lookup(zip: string): ZipEntry | undefined;
  lookupByName(city: string, state: string): ZipEntry[];
}

const requireHere = createRequire(import.meta.url);
let table: ZipTable | undefined;

/**
 * The `zipcodes` table, loaded on first use. Requiring the package compiles its 5 MB of object
 * literals (≈ 400 ms here: most of a deploy's db.geocode-shops for three shops, issue 16); the
 * same table as JSON parses in ≈ 80 ms. So the package's `codes` are kept in the disk cache
 * (src/lib/disk-cache.ts, area `zipcodes`, keyed by its version) and the two lookups are answered
 * from them exactly as the package answers: by ZIP, and by city within a state, whose ZIPs are the
 * entries of that state in the table's order (the package's own state map, which it does not
 * export, is that grouping: test/geocode/offline-table.test.ts compares the answers).
 */
export function zipTable(cacheDir: string = routergptCacheDir()): ZipTable {
  if (table) return table;
  const version = packageVersion('zipcodes');
  const key = cacheKey('zipcodes/v1', version);
  const dir = path.join(cacheDir, 'zipcodes');
  const stored = version ? readEntry(dir, key) : undefined;
  if (typeof stored === 'object' && stored !== null && !Array.isArray(stored)) return (table = fromCodes(stored as Record<string, ZipEntry>));
  const zipcodes = requireHere('zipcodes') as ZipCodes;
  if (version) writeEntry(dir, key, JSON.stringify(zipcodes.codes), 2);
  return (table = { lookup: (zip) => zipcodes.lookup(zip), lookupByName: (city, state) => zipcodes.lookupByName(city, state) });
}

function fromCodes(codes: Record<string, ZipEntry>): ZipTable {
  const byState = new Map<string, ZipEntry[]>();
  for (const entry of Object.values(codes)) {
    const list = byState.get(entry.state);
    if (list) list.push(entry);
    else byState.set(entry.state, [entry]);
  }
  // The package's state names ("Arizona" → "AZ"): a small module of its own.
  const states = requireHere('zipcodes/lib/states') as { normalize(state: string): string | undefined };
  return {
    // As the package: a code that starts with a letter (Canadian) is looked up by its first 3 characters.
    lookup: (zip) => (Number.isNaN(Number(zip.charAt(0))) ? codes[zip.slice(0, 3)] : codes[zip]),
    lookupByName(city, state) {
      const upper = city.toUpperCase();
      const entries = byState.get(states.normalize(state.toUpperCase()) ?? '') ?? byState.get(state) ?? [];
      return entries.filter((e) => e.city.toUpperCase() === upper);
    },
  };
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
    const entry = zipTable().lookup(zip);
    if (entry && isCoordinate(entry.latitude, entry.longitude) && (!state || entry.state === state)) {
      return { latitude: entry.latitude, longitude: entry.longitude, accuracy: 'postal_code', formatted: `${entry.zip} ${entry.city}, ${entry.state} (ZIP centroid)`, postalCode: entry.zip, state: [entry.state] };
    }
  }
  const city = query.city?.trim();
  if (city && state) {
    const entries = zipTable().lookupByName(city, state).filter((e) => isCoordinate(e.latitude, e.longitude));
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
