/**
 * Where the API checks look: chosen from the target database, so smoke and post-deployment
 * checks work wherever the shops are — not only near Tempe, where the demo data is.
 *
 * - **Locations** (api.search, api.delegate, api.performance, api.chat-router-context): points
 *   about half a mile from up to four real shops — geocoded, not one of the checklist's test
 *   shops, not a `%test%` slug — spread at least 15 miles apart where the data allows.
 * - **Shop** (api.chat-router-context): the first of those shops that has services.
 * - **Empty point** (api.empty-area): the first of a few open-ocean points with no shop
 *   within the radius.
 *
 * Parameters that name them win (`params.locations`, `shopSlug`, `latitude`/`longitude`).
 * Without a database (`verify --base-url` alone) or with no real geocoded shop, the defaults
 * (the demo data's cities) are used, and the result says so. Reads only: a few indexed
 * queries, bounded by `CANDIDATES` rows whatever the table's size.
 */
import { TEST_SHOP_SLUGS } from '../../db/seed.js';
import type { CheckDeps } from '../define-check.js';
import { DEFAULT_LOCATIONS, probeLocations, type ProbeLocation } from './http.js';

export interface ProbeShop {
  slug: string;
  name: string;
  city: string | null;
  latitude: number;
  longitude: number;
  hasServices: boolean;
}

export interface EmptyPoint {
  latitude: number;
  longitude: number;
  radius_miles: number;
}

export interface ProbeTargets {
  /** Where the locations came from, for the check's details. */
  source: 'params' | 'database' | 'defaults';
  /** Why the defaults were used, when they were. */
  why?: string;
  locations: ProbeLocation[];
  /** Real shops near the locations (database source only), in the same order. */
  shops: ProbeShop[];
}

/** How many real shops are read to choose from: enough to spread, bounded on a big table. */
const CANDIDATES = 200;
const MAX_LOCATIONS = 4;
const MIN_SPREAD_MILES = 15;
/** ≈ 0.5 mile north of the shop: the search must find it without standing on it. */
const OFFSET_DEGREES = 0.0072;
const RADIUS_MILES = 10;
const MILES_PER_DEGREE_LAT = 69.05;

/** Open ocean, far from any plausible shop; the first with nothing within the radius is used. */
export const EMPTY_CANDIDATES: readonly EmptyPoint[] = [
  { latitude: 0, longitude: -140, radius_miles: 5 },
  { latitude: -45, longitude: -30, radius_miles: 5 },
  { latitude: 40, longitude: -160, radius_miles: 5 },
  { latitude: -30, longitude: 80, radius_miles: 5 },
];

const TEST_SLUG_PATTERNS = ['%test%'];

/** Rough planar distance in miles: for spreading probe points, not for checking the server. */
function roughMiles(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const dLat = (a.latitude - b.latitude) * MILES_PER_DEGREE_LAT;
  const dLon = (a.longitude - b.longitude) * MILES_PER_DEGREE_LAT * Math.cos((((a.latitude + b.latitude) / 2) * Math.PI) / 180);
  return Math.hypot(dLat, dLon);
}

/** Greedy spread: the first shop, then each next one at least MIN_SPREAD_MILES from all chosen. */
export function spreadShops(shops: readonly ProbeShop[], max = MAX_LOCATIONS): ProbeShop[] {
  const chosen: ProbeShop[] = [];
  for (const shop of shops) {
    if (chosen.length >= max) break;
    if (chosen.every((c) => roughMiles(c, shop) >= MIN_SPREAD_MILES)) chosen.push(shop);
  }
  // Fewer distinct areas than wanted: one location is still a real probe.
  return chosen;
}

export function locationNear(shop: ProbeShop): ProbeLocation {
  const latitude = Math.min(90, shop.latitude + OFFSET_DEGREES);
  return { name: `near ${shop.slug}${shop.city ? ` (${shop.city})` : ''}`, latitude: Number(latitude.toFixed(6)), longitude: shop.longitude, radius_miles: RADIUS_MILES };
}

async function realShops(deps: CheckDeps): Promise<ProbeShop[]> {
  const { rows } = await deps.db!.query<ProbeShop>(
    `SELECT s.slug, s.name, s.city, s.latitude, s.longitude,
            EXISTS (SELECT 1 FROM services v WHERE v.shop_id = s.id) AS "hasServices"
       FROM shops s
      WHERE s.latitude IS NOT NULL AND s.longitude IS NOT NULL
        AND NOT (s.slug = ANY($1::text[])) AND NOT (s.slug LIKE ANY($2::text[]))
      ORDER BY s.id
      LIMIT $3`,
    [[...TEST_SHOP_SLUGS], TEST_SLUG_PATTERNS, CANDIDATES],
  );
  // Shops that can take a conversation first, so the spread and the chat shop agree.
  return [...rows.filter((r) => r.hasServices), ...rows.filter((r) => !r.hasServices)];
}

/** The probe locations and shops for this check: parameters, else the target database, else defaults. */
export async function probeTargets(deps: CheckDeps): Promise<ProbeTargets> {
  if (Array.isArray(deps.params?.locations) && deps.params.locations.length > 0) {
    return { source: 'params', locations: probeLocations(deps.params), shops: [] };
  }
  if (!deps.db) return { source: 'defaults', why: 'no database to choose shops from', locations: [...DEFAULT_LOCATIONS], shops: [] };
  const shops = spreadShops(await realShops(deps));
  if (shops.length === 0) return { source: 'defaults', why: 'no geocoded shop that is not test data', locations: [...DEFAULT_LOCATIONS], shops: [] };
  return { source: 'database', locations: shops.map(locationNear), shops };
}

/** One line for a check's details: where it looked, and why there. */
export function describeTargets(t: ProbeTargets): string {
  if (t.source === 'params') return `probe locations from params.locations (${t.locations.length})`;
  if (t.source === 'database') return `probe locations near ${t.shops.map((s) => s.slug).join(', ')} (chosen from the database)`;
  return `default probe locations (${t.locations.map((l) => l.name).join(', ')}): ${t.why}; set params.locations to where your shops are`;
}

/** An open-ocean point with no shop within its radius (parameters win). */
export async function emptyPoint(deps: CheckDeps): Promise<EmptyPoint & { checked: boolean }> {
  const p = deps.params;
  if (p?.latitude !== undefined || p?.longitude !== undefined) {
    return { latitude: Number(p.latitude ?? 0), longitude: Number(p.longitude ?? -140), radius_miles: Number(p.radiusMiles ?? 5), checked: false };
  }
  const radius = Number(p?.radiusMiles ?? 5);
  if (!deps.db) return { ...EMPTY_CANDIDATES[0]!, radius_miles: radius, checked: false };
  for (const candidate of EMPTY_CANDIDATES) {
    const dLat = (radius + 1) / MILES_PER_DEGREE_LAT;
    const dLon = dLat / Math.max(0.01, Math.cos((candidate.latitude * Math.PI) / 180));
    const { rows } = await deps.db.query(
      `SELECT 1 FROM shops WHERE latitude BETWEEN $1 AND $2 AND longitude BETWEEN $3 AND $4 LIMIT 1`,
      [candidate.latitude - dLat, candidate.latitude + dLat, candidate.longitude - dLon, candidate.longitude + dLon],
    );
    if (rows.length === 0) return { ...candidate, radius_miles: radius, checked: true };
  }
  // Every candidate has a shop nearby (a test database full of random points): the first one;
  // the check then names the shops it found there.
  return { ...EMPTY_CANDIDATES[0]!, radius_miles: radius, checked: false };
}
