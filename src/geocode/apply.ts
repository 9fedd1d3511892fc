import { GEOCODER_NAMES } from '../config/geocoding-settings.js';
import type { GeocodingSettings } from '../config/geocoding-settings.js';
import type { PoolClient, Queryable } from '../db/pool.js';
import { OperationError, UsageError } from '../errors.js';
import type { GeocodedShop } from './batch.js';
import { normaliseQuery } from './normalise.js';
import { GEOCODE_ACCURACIES } from './provider.js';
import type { RawReviewRow, ReviewRow } from './review-file.js';
import { addressSent, queryOf, selectShops, type ShopRow, type ShopSchema } from './shops.js';

/**
 * `routergpt geocode --apply FILE`: exactly the reviewed rows are written. Every row is checked
 * first — its values, that its shop exists, that the shop's address and updated_at are what was
 * reviewed — and one bad row refuses the whole file (exit 2, nothing written).
 */
export interface CheckedReview {
  file: string;
  /** Rows with coordinates, each with its shop as it is now. */
  rows: Array<{ row: ReviewRow; shop: ShopRow }>;
  /** Rows without coordinates (no answer): nothing to write. */
  empty: string[];
}

const PROVIDERS: readonly string[] = [...GEOCODER_NAMES, 'manual'];
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/;

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function coordinate(value: unknown, limit: number): number | null | undefined {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(n) && Math.abs(n) <= limit ? n : undefined;
}

/** One row's values, or what is wrong with them. */
function parseRow(raw: RawReviewRow): { row?: ReviewRow; problems: string[] } {
  const v = raw.values;
  const at = `row ${raw.line}`;
  const problems: string[] = [];
  if (v.__invalid !== undefined) problems.push(`${at}: not a review row (${String(v.__invalid)})`);
  const slug = text(v.slug)?.trim();
  if (!slug) problems.push(`${at}: no slug`);
  const updated = text(v.shop_updated_at)?.trim();
  if (!updated || !TIMESTAMP.test(updated) || Number.isNaN(Date.parse(updated.replace(' ', 'T')))) problems.push(`${at}${slug ? ` (${slug})` : ''}: shop_updated_at ${JSON.stringify(v.shop_updated_at ?? '')} is not a timestamp`);
  const latitude = coordinate(v.latitude, 90);
  const longitude = coordinate(v.longitude, 180);
  if (latitude === undefined) problems.push(`${at}${slug ? ` (${slug})` : ''}: latitude ${JSON.stringify(v.latitude)} is not a number between -90 and 90`);
  if (longitude === undefined) problems.push(`${at}${slug ? ` (${slug})` : ''}: longitude ${JSON.stringify(v.longitude)} is not a number between -180 and 180`);
  if (latitude !== undefined && longitude !== undefined && (latitude === null) !== (longitude === null)) problems.push(`${at}${slug ? ` (${slug})` : ''}: latitude and longitude must both be given, or both be empty`);
  const accuracy = text(v.accuracy)?.trim() || null;
  const hasPoint = latitude !== null && latitude !== undefined;
  if (hasPoint && !(GEOCODE_ACCURACIES as readonly string[]).includes(accuracy ?? '')) problems.push(`${at}${slug ? ` (${slug})` : ''}: accuracy ${JSON.stringify(v.accuracy ?? '')} is not one of ${GEOCODE_ACCURACIES.join(', ')}`);
  const provider = text(v.provider)?.trim() ?? '';
  if (hasPoint && !PROVIDERS.includes(provider)) problems.push(`${at}${slug ? ` (${slug})` : ''}: provider ${JSON.stringify(v.provider ?? '')} is not one of ${PROVIDERS.join(', ')}`);
  const flags = Array.isArray(v.flags) ? v.flags.map(String) : typeof v.flags === 'string' ? (v.flags === '' ? [] : v.flags.split(';')) : [];
  if (problems.length > 0) return { problems };
  return { row: { slug: slug!, shop_updated_at: updated!, address_sent: text(v.address_sent) ?? '', latitude: latitude ?? null, longitude: longitude ?? null, accuracy, provider, flags }, problems };
}

/** Every row checked against the database; all problems at once as one UsageError (nothing written). */
export async function checkReview(db: Queryable, schema: ShopSchema, file: string, raws: readonly RawReviewRow[]): Promise<CheckedReview> {
  const fix = 'Write a fresh review with `routergpt geocode --dry-run --review FILE`, check it, and apply that file; nothing was changed.';
  if (!schema.location) throw new UsageError('The shops table has no coordinate columns yet (migration 006 is not applied).', 'Run `routergpt migrate up` first; nothing was changed.');
  if (raws.length === 0) throw new UsageError(`The review file ${file} has no rows.`, fix);
  const problems: string[] = [];
  const rows: ReviewRow[] = [];
  const seen = new Set<string>();
  for (const raw of raws) {
    const parsed = parseRow(raw);
    problems.push(...parsed.problems);
    if (!parsed.row) continue;
    if (seen.has(parsed.row.slug)) problems.push(`row ${raw.line} (${parsed.row.slug}): the shop is in the file twice`);
    seen.add(parsed.row.slug);
    rows.push(parsed.row);
  }
  const shops = new Map((await selectShops(db, schema, { slugs: rows.map((r) => r.slug) }, { now: new Date() })).map((s) => [s.slug, s]));
  const same = rows.length
    ? new Map(
        (
          await db.query<{ slug: string; same: boolean }>(
            `SELECT s.slug, s.updated_at = u.at AS same FROM unnest($1::text[], $2::timestamptz[]) AS u(slug, at) JOIN shops s ON s.slug = u.slug`,
            [rows.map((r) => r.slug), rows.map((r) => r.shop_updated_at)],
          )
        ).rows.map((r) => [r.slug, r.same]),
      )
    : new Map<string, boolean>();
  const checked: CheckedReview['rows'] = [];
  const empty: string[] = [];
  for (const row of rows) {
    const shop = shops.get(row.slug);
    if (!shop) {
      problems.push(`${row.slug}: no such shop`);
      continue;
    }
    if (!same.get(row.slug)) problems.push(`${row.slug}: changed since it was reviewed (updated_at ${shop.updated_at}, the file has ${row.shop_updated_at})`);
    else if (addressSent(shop) !== row.address_sent.trim()) problems.push(`${row.slug}: address_sent ${JSON.stringify(row.address_sent)} is not the shop's address (${JSON.stringify(addressSent(shop))})`);
    if (row.latitude === null) empty.push(row.slug);
    else checked.push({ row, shop });
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).map((p) => `  ${p}`).join('\n');
    throw new UsageError(`The review file ${file} cannot be applied: ${problems.length} problem(s), nothing was written:\n${shown}${problems.length > 10 ? `\n  … and ${problems.length - 10} more` : ''}`, fix);
  }
  return { file, rows: checked, empty };
}

/** When applied coordinates lapse: Google's as its cache row does (else cache_days from now); others never. */
async function expiryOf(db: Queryable, row: ReviewRow, shop: ShopRow, settings: GeocodingSettings, now: Date): Promise<Date | null> {
  if (row.provider !== 'google') return null;
  const { rows } = await db.query<{ expires_at: Date }>(`SELECT expires_at FROM geocoding_cache WHERE provider = 'google' AND query_normalized = $1`, [normaliseQuery(queryOf(shop))]);
  return rows[0] ? new Date(rows[0].expires_at) : new Date(now.getTime() + settings.google.cacheDays.value * 86_400_000);
}

/**
 * Write the checked rows in one transaction, each shop locked and compared again (a change
 * between the check and now fails the item: nothing of the file is written).
 */
export async function applyReview(client: PoolClient, schema: ShopSchema, review: CheckedReview, settings: GeocodingSettings, now: Date): Promise<GeocodedShop[]> {
  const locked = new Map((await selectShops(client, schema, { slugs: review.rows.map((r) => r.row.slug) }, { now, forUpdate: true })).map((s) => [s.slug, s]));
  const written: GeocodedShop[] = [];
  for (const { row, shop } of review.rows) {
    const current = locked.get(row.slug);
    if (!current || current.updated_at !== shop.updated_at) throw new OperationError(`${row.slug} changed while the review file was being applied; nothing of ${review.file} was written.`, 'Write a fresh review with `routergpt geocode --dry-run --review FILE` and apply that.');
    const values: unknown[] = [shop.id, row.latitude, row.longitude, now, row.provider, row.accuracy];
    const expiry = schema.expiry ? `, geocode_expires_at = $${values.push(await expiryOf(client, row, shop, settings, now))}` : '';
    await client.query(`UPDATE shops SET latitude = $2, longitude = $3, geocoded_at = $4, geocode_source = $5, geocode_accuracy = $6${expiry}, updated_at = $4 WHERE id = $1`, values);
    written.push({
      id: shop.id,
      slug: shop.slug,
      latitude: row.latitude!,
      longitude: row.longitude!,
      accuracy: row.accuracy!,
      provider: row.provider,
      previous: { latitude: shop.latitude, longitude: shop.longitude, geocoded_at: shop.geocoded_at, geocode_source: shop.geocode_source, geocode_accuracy: shop.geocode_accuracy, geocode_expires_at: shop.geocode_expires_at, updated_at: shop.updated_at },
    });
  }
  return written;
}
