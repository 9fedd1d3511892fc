import type { Queryable } from '../db/pool.js';
import { googleAddress } from './google.js';
import type { GeocodeQuery } from './provider.js';

/**
 * The shops a geocoding run reads and writes, whatever migrations the database has: before 006
 * there are no coordinate columns (every shop with an address would be geocoded), before 014 no
 * geocode_expires_at (nothing lapses).
 */
export interface ShopRow {
  id: string;
  slug: string;
  address: string | null;
  city: string | null;
  state: string | null;
  postal_code: string | null;
  latitude: number | null;
  longitude: number | null;
  geocoded_at: string | null;
  geocode_source: string | null;
  geocode_accuracy: string | null;
  geocode_expires_at: string | null;
  /** ISO 8601 with microseconds (to_json): what a review file records and --apply compares. */
  updated_at: string;
}

export interface ShopSchema {
  /** Migration 006: latitude, longitude, geocoded_at, geocode_source, geocode_accuracy. */
  location: boolean;
  /** Migration 014: geocode_expires_at. */
  expiry: boolean;
  /** Migration 008: geocoding_cache. */
  cache: boolean;
  /** shops itself (001). */
  shops: boolean;
}

export async function shopSchema(db: Queryable): Promise<ShopSchema> {
  const { rows } = await db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name IN ('shops', 'geocoding_cache')`,
  );
  const has = (table: string, column?: string) => rows.some((r) => r.table_name === table && (!column || r.column_name === column));
  return { shops: has('shops'), location: has('shops', 'latitude'), expiry: has('shops', 'geocode_expires_at'), cache: has('geocoding_cache') };
}

/** Which shops a run geocodes. */
export interface ShopSelection {
  /** These shops (by slug), whether or not they have coordinates. */
  slugs?: string[];
  /** Shops without coordinates, and those whose coordinates lapsed (geocode_expires_at). */
  refreshExpired?: boolean;
  /** Only shops whose coordinates lapsed (db.geocode-refresh). */
  onlyExpired?: boolean;
  /** Only shops geocoded by this provider (geocode_source). */
  source?: string;
}

function columnsOf(schema: ShopSchema): string {
  const location = schema.location
    ? 'latitude, longitude, geocoded_at::text, geocode_source, geocode_accuracy'
    : 'NULL::float8 AS latitude, NULL::float8 AS longitude, NULL::text AS geocoded_at, NULL::text AS geocode_source, NULL::text AS geocode_accuracy';
  const expiry = schema.expiry ? 'geocode_expires_at::text' : 'NULL::text AS geocode_expires_at';
  return `id::text, slug, address, city, state, postal_code, ${location}, ${expiry}, to_json(updated_at)#>>'{}' AS updated_at`;
}

function whereOf(schema: ShopSchema, selection: ShopSelection, values: unknown[], now: Date): string {
  if (selection.slugs) {
    values.push(selection.slugs);
    return `slug = ANY($${values.length}::text[])`;
  }
  if (!schema.location) return 'true';
  const lapsed = () => {
    values.push(now);
    return `(latitude IS NOT NULL AND geocode_expires_at <= $${values.length})`;
  };
  if (selection.onlyExpired) {
    if (!schema.expiry) return 'false';
    const where = lapsed();
    if (selection.source === undefined) return where;
    values.push(selection.source === 'unknown' ? null : selection.source);
    return `${where} AND geocode_source IS NOT DISTINCT FROM $${values.length}`;
  }
  if (selection.refreshExpired && schema.expiry) return `(latitude IS NULL OR ${lapsed()})`;
  return 'latitude IS NULL';
}

/** The selected shops after `afterId`, in id order (the batch runner's cursor), at most `limit`. */
export async function selectShops(db: Queryable, schema: ShopSchema, selection: ShopSelection, options: { now: Date; afterId?: string; limit?: number; forUpdate?: boolean }): Promise<ShopRow[]> {
  const values: unknown[] = [];
  const where = [whereOf(schema, selection, values, options.now)];
  if (options.afterId) {
    values.push(options.afterId);
    where.push(`id > $${values.length}::bigint`);
  }
  let limit = '';
  if (options.limit !== undefined) {
    values.push(options.limit);
    limit = ` LIMIT $${values.length}`;
  }
  const { rows } = await db.query<ShopRow>(`SELECT ${columnsOf(schema)} FROM shops WHERE ${where.join(' AND ')} ORDER BY shops.id${limit}${options.forUpdate ? ' FOR UPDATE' : ''}`, values);
  return rows;
}

export async function countShops(db: Queryable, schema: ShopSchema, selection: ShopSelection, now: Date, afterId?: string): Promise<number> {
  const values: unknown[] = [];
  const where = [whereOf(schema, selection, values, now)];
  if (afterId) {
    values.push(afterId);
    where.push(`id > $${values.length}::bigint`);
  }
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM shops WHERE ${where.join(' AND ')}`, values);
  return rows[0]?.n ?? 0;
}

export function queryOf(shop: Pick<ShopRow, 'address' | 'city' | 'state' | 'postal_code'>): GeocodeQuery {
  const t = (v: string | null) => (v && v.trim() ? v.trim() : undefined);
  const address = t(shop.address);
  const city = t(shop.city);
  const state = t(shop.state);
  const postalCode = t(shop.postal_code);
  return { ...(address ? { address } : {}), ...(city ? { city } : {}), ...(state ? { state } : {}), ...(postalCode ? { postalCode } : {}) };
}

/** What a review shows as sent: the shop's address parts as a person writes them. */
export function addressSent(shop: Pick<ShopRow, 'address' | 'city' | 'state' | 'postal_code'>): string {
  return googleAddress(queryOf(shop));
}

export function hasAddress(shop: Pick<ShopRow, 'address' | 'city' | 'state' | 'postal_code'>): boolean {
  return Object.keys(queryOf(shop)).length > 0;
}
