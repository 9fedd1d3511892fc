/**
 * Geocoding providers: address → coordinates. offline.ts (ZIP centroids), google.ts (Google
 * Geocoding API) and nominatim.ts (OpenStreetMap) implement this interface, each with its HTTP
 * client, key, rate limit and terms; select.ts builds the configured chain. Callers go through
 * the cache (cache.ts).
 */
export interface GeocodeQuery {
  address?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  /** ISO 3166-1 alpha-2 (shops have no country column yet: unset means "not said"). */
  country?: string;
}

/** How precise a match is, finest first; the vocabulary of shops.geocode_accuracy. */
export const GEOCODE_ACCURACIES = ['rooftop', 'street', 'postal_code', 'city'] as const;
export type GeocodeAccuracy = (typeof GEOCODE_ACCURACIES)[number];

/** Whether `accuracy` is coarser than `min` (city is coarser than street). */
export function isCoarserThan(accuracy: GeocodeAccuracy, min: GeocodeAccuracy): boolean {
  return GEOCODE_ACCURACIES.indexOf(accuracy) > GEOCODE_ACCURACIES.indexOf(min);
}

export interface GeocodeResult {
  latitude: number;
  longitude: number;
  accuracy: GeocodeAccuracy;
  /** What the provider matched, for people: "85020 Phoenix, AZ (ZIP centroid)". */
  formatted: string;
  /** The provider matched only part of the address (Google's partial_match): flagged for review. */
  partialMatch?: boolean;
  /** The provider's id of the place (Google's place_id may be stored indefinitely under its terms). */
  placeId?: string;
  /** The postal code of the place found, when the provider says (flags an answer outside the shop's). */
  postalCode?: string;
  /** The state (or province) of the place found, as codes and names the provider gives ("AZ", "Arizona"). */
  state?: string[];
}

export interface Geocoder {
  /** Stored in geocoding_cache.provider and shops.geocode_source. */
  readonly name: string;
  /**
   * How long an answer may be cached, in days. Per provider because terms differ (Google's
   * allow 30 days for coordinates; offline data never goes stale but is refreshed with the
   * package, so the checklist's 90 days is used).
   */
  readonly cacheTtlDays: number;
  /**
   * Whether coordinates stored on a shop lapse with the cache row they came from
   * (shops.geocode_expires_at, migration 014): Google's terms limit keeping them to cache_days;
   * Nominatim's ODbL and the offline data set no limit (NULL: never lapses).
   */
  readonly coordinatesLapse?: boolean;
  /** null: the provider has no answer (cached as a negative entry). Throws on transport errors. */
  geocode(query: GeocodeQuery, signal?: AbortSignal): Promise<GeocodeResult | null>;
}
