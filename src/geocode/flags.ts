import { isCoarserThan, type GeocodeAccuracy, type GeocodeResult } from './provider.js';
import type { ShopRow } from './shops.js';

/**
 * Why a proposed answer deserves a person's look (docs/geocoding.md "Flags"). Each flag is one
 * token without spaces, so a review file's `flags` column stays a `;`-separated list:
 * - `coarse:<accuracy>`         coarser than geocoding.accuracy_min (street by default)
 * - `partial-match`             the provider matched only part of the address (Google)
 * - `outside-postal-code:<pc>`  the place found is in another postal code than the shop's
 * - `outside-state:<state>`     … in another state
 * - `same-point:<slug>`         another shop at a different address was given the same point
 * - `moved:<metres>m`           farther than geocoding.moved_warn_m from the shop's coordinates
 * - `no-result`, `no-address`   nothing to apply
 */
export interface FlagSettings {
  accuracyMin: GeocodeAccuracy;
  movedWarnM: number;
}

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (deg: number) => (deg * Math.PI) / 180;

export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const a = Math.sin(rad(lat2 - lat1) / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(rad(lon2 - lon1) / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** US ZIP+4 and spacing do not make a difference: 85004-1234 is 85004. */
function postalKey(value: string): string {
  const v = value.trim().toUpperCase().replace(/\s+/g, '');
  return /^\d{5}(-?\d{4})?$/.test(v) ? v.slice(0, 5) : v;
}

/** The distance from the shop's current coordinates, when it has any. */
export function movedM(shop: Pick<ShopRow, 'latitude' | 'longitude'>, result: GeocodeResult | null): number | undefined {
  if (!result || shop.latitude === null || shop.longitude === null) return undefined;
  return Math.round(distanceM(shop.latitude, shop.longitude, result.latitude, result.longitude));
}

/** The flags of one answer on its own (same-point needs the others: samePointFlags). */
export function answerFlags(shop: ShopRow, result: GeocodeResult | null, settings: FlagSettings): string[] {
  if (!result) return ['no-result'];
  const flags: string[] = [];
  if (isCoarserThan(result.accuracy, settings.accuracyMin)) flags.push(`coarse:${result.accuracy}`);
  if (result.partialMatch) flags.push('partial-match');
  if (shop.postal_code?.trim() && result.postalCode && postalKey(shop.postal_code) !== postalKey(result.postalCode)) flags.push(`outside-postal-code:${token(result.postalCode)}`);
  const state = shop.state?.trim().toLowerCase();
  if (state && result.state?.length && !result.state.some((s) => s.trim().toLowerCase() === state)) flags.push(`outside-state:${token(result.state[0]!)}`);
  const moved = movedM(shop, result);
  if (moved !== undefined && moved > settings.movedWarnM) flags.push(`moved:${moved}m`);
  return flags;
}

function token(value: string): string {
  return value.trim().replace(/[\s;,]+/g, '_');
}

export function pointKey(latitude: number, longitude: number): string {
  return `${latitude.toFixed(6)},${longitude.toFixed(6)}`;
}

/**
 * `same-point:<slug>` for every shop whose point another shop at a different address also has:
 * among the answers themselves, and against shops already stored (`others`).
 */
export function samePointFlags(answers: ReadonlyArray<{ slug: string; addressKey: string; point?: string }>, others: ReadonlyArray<{ slug: string; addressKey: string; point: string }>): Map<string, string[]> {
  const byPoint = new Map<string, Array<{ slug: string; addressKey: string }>>();
  for (const a of [...answers, ...others]) {
    if (!a.point) continue;
    const list = byPoint.get(a.point) ?? [];
    if (!list.some((x) => x.slug === a.slug)) list.push(a);
    byPoint.set(a.point, list);
  }
  const flags = new Map<string, string[]>();
  for (const a of answers) {
    if (!a.point) continue;
    const twins = (byPoint.get(a.point) ?? []).filter((o) => o.slug !== a.slug && o.addressKey !== a.addressKey);
    if (twins.length > 0) flags.set(a.slug, twins.slice(0, 3).map((t) => `same-point:${t.slug}`));
  }
  return flags;
}
