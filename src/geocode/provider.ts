/**
 * Geocoding providers: address → coordinates. The offline provider (ZIP centroids) is the only
 * one for now; Google and Nominatim implement this same interface later (their HTTP clients,
 * keys, rate limits and terms live with them). Callers go through the cache (cache.ts).
 */
export interface GeocodeQuery {
  address?: string;
  city?: string;
  state?: string;
  postalCode?: string;
}

/** How precise a match is; the vocabulary of shops.geocode_accuracy. */
export type GeocodeAccuracy = 'rooftop' | 'street' | 'postal_code' | 'city';

export interface GeocodeResult {
  latitude: number;
  longitude: number;
  accuracy: GeocodeAccuracy;
  /** What the provider matched, for people: "85020 Phoenix, AZ (ZIP centroid)". */
  formatted: string;
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
  /** null: the provider has no answer (cached as a negative entry). Throws on transport errors. */
  geocode(query: GeocodeQuery, signal?: AbortSignal): Promise<GeocodeResult | null>;
}
