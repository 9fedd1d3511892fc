import type { Queryable } from '../db/pool.js';
import { GeocodeProviderError } from './errors.js';
import { normaliseQuery } from './normalise.js';
import type { GeocodeAccuracy, Geocoder, GeocodeQuery, GeocodeResult } from './provider.js';

/**
 * geocoding_cache (migration 008): one row per (provider, normalised query), with expires_at set
 * from the provider's TTL. A NULL latitude is a cached "no result", so an unresolvable address is
 * not asked again until it expires.
 */
export interface CachedAnswer {
  /** null: a cached negative answer. */
  result: GeocodeResult | null;
  hit: true;
  /** When the row lapses: coordinates from it may be kept no longer (Google's terms). */
  expiresAt: Date;
}

interface CacheRow {
  latitude: number | null;
  longitude: number | null;
  accuracy: string | null;
  result: Record<string, unknown> | null;
  expires_at: Date;
}

const CACHE_COLUMNS = 'latitude, longitude, accuracy, result, expires_at';

function answerOf(row: CacheRow | undefined): CachedAnswer | undefined {
  if (!row) return undefined;
  const expiresAt = new Date(row.expires_at);
  if (row.latitude === null || row.longitude === null) return { result: null, hit: true, expiresAt };
  const raw = row.result ?? {};
  const text = (key: string) => (typeof raw[key] === 'string' && raw[key] !== '' ? (raw[key] as string) : undefined);
  const state = Array.isArray(raw.state) ? raw.state.filter((s): s is string => typeof s === 'string') : [];
  const postalCode = text('postalCode');
  const placeId = text('placeId');
  return {
    result: {
      latitude: row.latitude,
      longitude: row.longitude,
      accuracy: (row.accuracy ?? 'city') as GeocodeAccuracy,
      formatted: text('formatted') ?? '',
      ...(raw.partialMatch === true ? { partialMatch: true } : {}),
      ...(placeId ? { placeId } : {}),
      ...(postalCode ? { postalCode } : {}),
      ...(state.length ? { state } : {}),
    },
    hit: true,
    expiresAt,
  };
}

/** A fresh cached answer, counted as a hit. */
export async function readCache(db: Queryable, provider: string, key: string, now: Date): Promise<CachedAnswer | undefined> {
  const { rows } = await db.query<CacheRow>(
    `UPDATE geocoding_cache SET hit_count = hit_count + 1
      WHERE provider = $1 AND query_normalized = $2 AND expires_at > $3
      RETURNING ${CACHE_COLUMNS}`,
    [provider, key, now],
  );
  return answerOf(rows[0]);
}

/** A fresh cached answer, read only (a plan writes nothing, not even the hit count). */
export async function peekCache(db: Queryable, provider: string, key: string, now: Date): Promise<CachedAnswer | undefined> {
  const { rows } = await db.query<CacheRow>(`SELECT ${CACHE_COLUMNS} FROM geocoding_cache WHERE provider = $1 AND query_normalized = $2 AND expires_at > $3`, [provider, key, now]);
  return answerOf(rows[0]);
}

export async function writeCache(db: Queryable, provider: string, key: string, result: GeocodeResult | null, ttlDays: number, now: Date): Promise<Date> {
  const { rows } = await db.query<{ expires_at: Date }>(
    `INSERT INTO geocoding_cache (query_normalized, provider, latitude, longitude, accuracy, result, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7::timestamptz + make_interval(days => $8))
     ON CONFLICT (provider, query_normalized) DO UPDATE
       SET latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, accuracy = EXCLUDED.accuracy,
           result = EXCLUDED.result, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
     RETURNING expires_at`,
    [key, provider, result?.latitude ?? null, result?.longitude ?? null, result?.accuracy ?? null, JSON.stringify(result ?? { status: 'no_result' }), now, ttlDays],
  );
  return new Date(rows[0]!.expires_at);
}

export interface CachedGeocodeResult {
  key: string;
  result: GeocodeResult | null;
  fromCache: boolean;
  /** When the answer's cache row lapses (undefined: no provider was asked). */
  expiresAt?: Date;
}

/** Geocode through the cache: a fresh cached answer, else ask the provider and remember it. */
export async function geocodeCached(db: Queryable, geocoder: Geocoder, query: GeocodeQuery, now: Date, signal?: AbortSignal): Promise<CachedGeocodeResult> {
  const key = normaliseQuery(query);
  const cached = await readCache(db, geocoder.name, key, now);
  if (cached) return { key, result: cached.result, fromCache: true, expiresAt: cached.expiresAt };
  const result = await geocoder.geocode(query, signal);
  const expiresAt = await writeCache(db, geocoder.name, key, result, geocoder.cacheTtlDays, now);
  return { key, result, fromCache: false, expiresAt };
}

export interface ChainGeocodeResult extends CachedGeocodeResult {
  /** The provider that answered (or, with no answer, the last one asked). */
  provider: string;
  /** Providers passed over because they failed transiently or answered garbage, with why. */
  skipped: Array<{ provider: string; error: GeocodeProviderError }>;
}

/**
 * Ask the chain's providers in order, each through its own cache rows: the first answer wins;
 * "no answer" (cached as a negative entry for that provider) moves on to the next. A provider
 * that is exhausted or answers garbage is passed over when another follows; one that refuses us
 * (`stop`: key, quota, ban) stops everything — falling back would hide a broken key.
 */
export async function geocodeChain(db: Queryable, geocoders: readonly Geocoder[], query: GeocodeQuery, now: Date, signal?: AbortSignal): Promise<ChainGeocodeResult> {
  const skipped: ChainGeocodeResult['skipped'] = [];
  let last: CachedGeocodeResult | undefined;
  let lastName = geocoders[0]?.name ?? 'none';
  for (const [i, geocoder] of geocoders.entries()) {
    lastName = geocoder.name;
    try {
      last = await geocodeCached(db, geocoder, query, now, signal);
    } catch (error) {
      const isLast = i === geocoders.length - 1;
      if (error instanceof GeocodeProviderError && error.failure !== 'stop' && !isLast) {
        skipped.push({ provider: geocoder.name, error });
        continue;
      }
      throw error;
    }
    if (last.result) return { ...last, provider: geocoder.name, skipped };
  }
  return { key: last?.key ?? normaliseQuery(query), result: null, fromCache: last?.fromCache ?? false, provider: lastName, skipped };
}
