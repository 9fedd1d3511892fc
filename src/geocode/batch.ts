import type { Pool, PoolClient, Queryable } from '../db/pool.js';
import { withTransaction } from '../db/pool.js';
import { plural } from '../lib/plural.js';
import { geocodeChain, peekCache } from './cache.js';
import { isGeocodeProviderError } from './errors.js';
import { answerFlags, movedM, pointKey, samePointFlags, type FlagSettings } from './flags.js';
import { normaliseQuery } from './normalise.js';
import type { GeocodeQuery, GeocodeResult, Geocoder } from './provider.js';
import type { GeocoderChain } from './select.js';
import { addressSent, countShops, hasAddress, queryOf, selectShops, type ShopRow, type ShopSchema, type ShopSelection } from './shops.js';

/**
 * The one implementation behind `routergpt geocode` and the db.geocode-shops / db.geocode-refresh
 * steps: propose answers (through the cache), flag the suspicious ones, and write them in
 * batches — each batch its own short transaction, checkpointed, so a killed run continues where
 * it stopped. Every provider answer is cached (committed at once, outside the batch's
 * transaction) before the batch writes shops: a rerun finds it there and never asks again.
 */
export interface Proposal {
  shop: ShopRow;
  addressSent: string;
  /** null: no answer (or no address to ask about). */
  result: GeocodeResult | null;
  /** The provider that answered (or the last one asked). */
  provider: string;
  fromCache: boolean;
  /** When the coordinates would lapse on the shop (Google's terms), null: never. */
  expiresAt: Date | null;
  /** Metres from the shop's current coordinates, when it has any. */
  movedM?: number;
  flags: string[];
}

export interface ProposeOptions {
  now: Date;
  settings: FlagSettings;
  schema: ShopSchema;
  /** Lookups in flight at once (each through the provider's own rate limit). */
  concurrency?: number;
  signal?: AbortSignal;
  /** The plan: read the cache without counting hits, ask the provider without caching — write nothing. */
  readOnly?: boolean;
}

export interface ProposeResult {
  proposals: Proposal[];
  /** Provider requests made (answers not from the cache). */
  calls: number;
  cacheHits: number;
}

function geocoderNamed(chain: GeocoderChain, name: string): Geocoder | undefined {
  return chain.geocoders.find((g) => g.name === name);
}

/** The plan's lookup: each provider's fresh cache row, else the provider itself — nothing written. */
async function lookUpReadOnly(db: Queryable, chain: GeocoderChain, query: GeocodeQuery, now: Date, useCache: boolean, signal: AbortSignal | undefined) {
  const key = normaliseQuery(query);
  let provider = chain.geocoders[0]?.name ?? 'offline';
  for (const [i, geocoder] of chain.geocoders.entries()) {
    provider = geocoder.name;
    const cached = useCache ? await peekCache(db, geocoder.name, key, now) : undefined;
    if (cached) {
      if (cached.result) return { result: cached.result, provider, fromCache: true, expiresAt: cached.expiresAt };
      continue;
    }
    try {
      const result = await geocoder.geocode(query, signal);
      if (result) return { result, provider, fromCache: false, expiresAt: new Date(now.getTime() + geocoder.cacheTtlDays * 86_400_000) };
    } catch (error) {
      if (!isGeocodeProviderError(error) || error.failure === 'stop' || i === chain.geocoders.length - 1) throw error;
    }
  }
  return { result: null, provider, fromCache: false, expiresAt: undefined };
}

async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (failed !== undefined) throw failed;
  return out;
}

/**
 * Answers for `shops`, flagged. Shops sharing an address share one lookup; a shop with no
 * address at all is not sent anywhere (`no-address`). A provider that refuses us (`stop`) or
 * fails past its retries throws: nothing of this batch is written.
 */
export async function propose(db: Queryable, chain: GeocoderChain, shops: readonly ShopRow[], options: ProposeOptions): Promise<ProposeResult> {
  const { now, settings } = options;
  const byKey = new Map<string, GeocodeQuery>();
  for (const shop of shops) if (hasAddress(shop)) byKey.set(normaliseQuery(queryOf(shop)), queryOf(shop));
  let calls = 0;
  let cacheHits = 0;
  const keys = [...byKey.keys()];
  const answers = await pool(keys, options.concurrency ?? 1, async (key) => {
    const query = byKey.get(key)!;
    const got = options.readOnly
      ? await lookUpReadOnly(db, chain, query, now, options.schema.cache, options.signal)
      : await geocodeChain(db, chain.geocoders, query, now, options.signal);
    if (got.fromCache) cacheHits += 1;
    else calls += 1;
    const lapses = got.result && geocoderNamed(chain, got.provider)?.coordinatesLapse;
    return { result: got.result, provider: got.provider, fromCache: got.fromCache, expiresAt: lapses && got.expiresAt ? got.expiresAt : null };
  });
  const answerOf = new Map(keys.map((k, i) => [k, answers[i]!]));
  const proposals = shops.map((shop): Proposal => {
    const sent = addressSent(shop);
    if (!hasAddress(shop)) return { shop, addressSent: sent, result: null, provider: chain.geocoders[0]?.name ?? 'offline', fromCache: false, expiresAt: null, flags: ['no-address'] };
    const answer = answerOf.get(normaliseQuery(queryOf(shop)))!;
    const moved = movedM(shop, answer.result);
    return { shop, addressSent: sent, ...answer, ...(moved !== undefined ? { movedM: moved } : {}), flags: answerFlags(shop, answer.result, settings) };
  });
  await flagSamePoints(db, proposals, options.schema);
  return { proposals, calls, cacheHits };
}

/** `same-point:<slug>`: another shop (answered here, or stored) at a different address on the same point. */
async function flagSamePoints(db: Queryable, proposals: Proposal[], schema: ShopSchema): Promise<void> {
  const answered = proposals.filter((p) => p.result);
  if (answered.length === 0) return;
  let stored: Array<{ slug: string; addressKey: string; point: string }> = [];
  if (schema.location) {
    const { rows } = await db.query<{ slug: string; address: string | null; city: string | null; state: string | null; postal_code: string | null; latitude: number; longitude: number }>(
      `SELECT slug, address, city, state, postal_code, latitude, longitude FROM shops
        WHERE latitude IS NOT NULL AND NOT (slug = ANY($3::text[]))
          AND (round(latitude::numeric, 6), round(longitude::numeric, 6)) IN (SELECT round(a::numeric, 6), round(b::numeric, 6) FROM unnest($1::float8[], $2::float8[]) AS t(a, b))`,
      [answered.map((p) => p.result!.latitude), answered.map((p) => p.result!.longitude), proposals.map((p) => p.shop.slug)],
    );
    stored = rows.map((r) => ({ slug: r.slug, addressKey: normaliseQuery(queryOf(r)), point: pointKey(r.latitude, r.longitude) }));
  }
  const flags = samePointFlags(
    answered.map((p) => ({ slug: p.shop.slug, addressKey: normaliseQuery(queryOf(p.shop)), point: pointKey(p.result!.latitude, p.result!.longitude) })),
    stored,
  );
  for (const p of answered) p.flags.push(...(flags.get(p.shop.slug) ?? []));
}

/** What a shop had before a write: the undo (rollback tier `geocode`) writes exactly this back. */
export interface GeocodedShop {
  id: string;
  slug: string;
  latitude: number;
  longitude: number;
  accuracy: string;
  /** The provider that answered (geocode_source). */
  provider?: string;
  previous: { latitude?: number | null; longitude?: number | null; geocoded_at: string | null; geocode_source: string | null; geocode_accuracy: string | null; geocode_expires_at?: string | null; updated_at: string };
}

function previousOf(shop: ShopRow): GeocodedShop['previous'] {
  return { latitude: shop.latitude, longitude: shop.longitude, geocoded_at: shop.geocoded_at, geocode_source: shop.geocode_source, geocode_accuracy: shop.geocode_accuracy, geocode_expires_at: shop.geocode_expires_at, updated_at: shop.updated_at };
}

export interface WriteOutcome {
  written: GeocodedShop[];
  /** Slugs edited since they were read (updated_at moved): left alone. */
  changed: string[];
}

/**
 * Write the answered proposals, each only where the shop is still as read (updated_at): a shop
 * edited meanwhile is not overwritten with an answer for its old address.
 */
export async function writeProposals(client: PoolClient | Queryable, proposals: readonly Proposal[], now: Date, schema: ShopSchema): Promise<WriteOutcome> {
  const answered = proposals.filter((p) => p.result);
  if (answered.length === 0) return { written: [], changed: [] };
  // One statement for the batch (one round trip, however many shops).
  const values: unknown[] = [
    answered.map((p) => p.shop.id),
    answered.map((p) => p.result!.latitude),
    answered.map((p) => p.result!.longitude),
    answered.map((p) => p.provider),
    answered.map((p) => p.result!.accuracy),
    answered.map((p) => p.shop.updated_at),
    answered.map((p) => p.expiresAt?.toISOString() ?? null),
    now,
  ];
  const { rows } = await client.query<{ id: string }>(
    `UPDATE shops AS s SET latitude = u.lat, longitude = u.lon, geocoded_at = $8, geocode_source = u.src, geocode_accuracy = u.acc${schema.expiry ? ', geocode_expires_at = u.exp' : ''}, updated_at = $8
       FROM unnest($1::bigint[], $2::float8[], $3::float8[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[]) AS u(id, lat, lon, src, acc, prev, exp)
      WHERE s.id = u.id AND s.updated_at = u.prev
      RETURNING s.id::text AS id`,
    values,
  );
  const done = new Set(rows.map((r) => r.id));
  const written: GeocodedShop[] = [];
  const changed: string[] = [];
  for (const p of answered) {
    if (!done.has(p.shop.id)) {
      changed.push(p.shop.slug);
      continue;
    }
    written.push({ id: p.shop.id, slug: p.shop.slug, latitude: p.result!.latitude, longitude: p.result!.longitude, accuracy: p.result!.accuracy, provider: p.provider, previous: previousOf(p.shop) });
  }
  return { written, changed };
}

/** Lapsed coordinates nobody could refresh are cleared: the provider's terms do not let us keep them. */
async function clearLapsed(client: PoolClient, shops: readonly ShopRow[], now: Date): Promise<WriteOutcome> {
  const written: GeocodedShop[] = [];
  const changed: string[] = [];
  for (const shop of shops) {
    const { rowCount } = await client.query(
      `UPDATE shops SET latitude = NULL, longitude = NULL, geocode_accuracy = NULL, geocode_expires_at = NULL, geocoded_at = $2, updated_at = $2
        WHERE id = $1 AND updated_at = $3::timestamptz AND geocode_expires_at <= $2`,
      [shop.id, now, shop.updated_at],
    );
    if (rowCount) written.push({ id: shop.id, slug: shop.slug, latitude: shop.latitude ?? 0, longitude: shop.longitude ?? 0, accuracy: shop.geocode_accuracy ?? '', ...(shop.geocode_source ? { provider: shop.geocode_source } : {}), previous: previousOf(shop) });
    else changed.push(shop.slug);
  }
  return { written, changed };
}

/** A batch run's progress: journaled by ctx.checkpoint after every batch, read back on resume. */
export interface BatchState {
  /** The last shop id of the last committed batch: the run continues after it. */
  afterId?: string;
  processed: number;
  total: number;
  batches: number;
  calls: number;
  cacheHits: number;
  geocoded: GeocodedShop[];
  /** db.geocode-refresh: lapsed coordinates cleared. */
  cleared: GeocodedShop[];
  unresolved: Array<{ slug: string; address: string; reason: string }>;
  flagged: Array<{ slug: string; flags: string[] }>;
  changed: string[];
}

export interface BatchRunOptions {
  pool: Pool;
  /** undefined: no provider can be asked (db.geocode-refresh clears what lapsed). */
  chain: GeocoderChain | undefined;
  schema: ShopSchema;
  selection: ShopSelection;
  batchSize: number;
  limit?: number;
  concurrency: number;
  settings: FlagSettings;
  now: () => Date;
  /** geocode: write answers; refresh: also clear lapsed coordinates that got no answer. */
  mode: 'geocode' | 'refresh';
  log: (line: string) => void;
  checkpoint: (state: BatchState) => Promise<void>;
  resumed?: BatchState;
  signal?: AbortSignal;
}

/** Kept in the journal for the report; more are counted, not listed. */
const LISTED = 1000;
/** Batches asked of the provider ahead of the one being written. */
const AHEAD = 2;

export async function runBatches(options: BatchRunOptions): Promise<BatchState> {
  const { pool: db, schema, selection } = options;
  const resumed = options.resumed && typeof options.resumed.processed === 'number' ? options.resumed : undefined;
  const state: BatchState = resumed
    ? { ...resumed, geocoded: [...resumed.geocoded], cleared: [...(resumed.cleared ?? [])], unresolved: [...resumed.unresolved], flagged: [...resumed.flagged], changed: [...resumed.changed] }
    : { processed: 0, total: 0, batches: 0, calls: 0, cacheHits: 0, geocoded: [], cleared: [], unresolved: [], flagged: [], changed: [] };
  const started = { at: performance.now(), processed: state.processed };
  if (!resumed) {
    const n = await countShops(db, schema, selection, options.now());
    state.total = options.limit === undefined ? n : Math.min(n, options.limit);
  } else if (state.afterId) {
    options.log(`resuming after ${plural(state.processed, 'shop')} (${plural(state.batches, 'batch', 'batches')} journaled; their answers are not asked again)`);
  }
  const roomAfter = (taken: number) => (options.limit === undefined ? options.batchSize : Math.min(options.batchSize, options.limit - taken));
  const next = async (afterId: string | undefined, taken: number) => {
    const room = roomAfter(taken);
    if (room <= 0 || options.signal?.aborted) return undefined;
    const now = options.now();
    const shops = await selectShops(db, schema, selection, { now, limit: room, ...(afterId ? { afterId } : {}) });
    if (shops.length === 0) return undefined;
    const proposed = options.chain
      ? await propose(db, options.chain, shops, { now, settings: options.settings, schema, concurrency: options.concurrency, ...(options.signal ? { signal: options.signal } : {}) })
      : { proposals: shops.map((shop): Proposal => ({ shop, addressSent: addressSent(shop), result: null, provider: shop.geocode_source ?? 'none', fromCache: false, expiresAt: null, flags: ['no-provider'] })), calls: 0, cacheHits: 0 };
    return { shops, now, proposed };
  };
  // The next batches are asked while this one is written (up to AHEAD of them, each started as
  // soon as the one before it is answered): the provider is never idle on our writes and
  // checkpoints. Their answers land in the cache, so a kill meanwhile loses no call.
  type Batch = NonNullable<Awaited<ReturnType<typeof next>>> & { taken: number };
  const after = (previous: Promise<Batch | undefined>): Promise<Batch | undefined> =>
    previous.then(async (b) => {
      if (!b) return undefined;
      const got = await next(b.shops.at(-1)!.id, b.taken + b.shops.length);
      return got && { ...got, taken: b.taken + b.shops.length };
    });
  const first: Promise<Batch | undefined> = next(state.afterId, state.processed).then((b) => b && { ...b, taken: state.processed });
  const ahead: Array<Promise<Batch | undefined>> = [first];
  for (;;) {
    const current = ahead.shift()!;
    const batch = await current;
    if (!batch) break;
    while (ahead.length < AHEAD) {
      const queued = after(ahead.at(-1) ?? current);
      queued.catch(() => {});
      ahead.push(queued);
    }
    const { shops, now, proposed } = batch;
    const { proposals } = proposed;
    // The batch's own short transaction: only its shops, only as they were read.
    const outcome = await withTransaction(db, async (client) => {
      const wrote = await writeProposals(client, proposals, now, schema);
      const lapsed = options.mode === 'refresh' ? proposals.filter((p) => !p.result).map((p) => p.shop) : [];
      const cleared = lapsed.length ? await clearLapsed(client, lapsed, now) : { written: [], changed: [] };
      return { wrote, cleared };
    });
    state.geocoded.push(...outcome.wrote.written);
    state.cleared.push(...outcome.cleared.written);
    state.changed.push(...outcome.wrote.changed, ...outcome.cleared.changed);
    for (const p of proposals) {
      if (!p.result && state.unresolved.length < LISTED) state.unresolved.push({ slug: p.shop.slug, address: p.addressSent || 'no address', reason: p.flags.includes('no-address') ? 'no address' : p.flags.includes('no-provider') ? 'no provider available' : `no answer from ${p.provider}` });
      else if (p.result && p.flags.length && state.flagged.length < LISTED) state.flagged.push({ slug: p.shop.slug, flags: p.flags });
    }
    state.calls += proposed.calls;
    state.cacheHits += proposed.cacheHits;
    state.processed += shops.length;
    state.batches += 1;
    state.afterId = shops.at(-1)!.id;
    await options.checkpoint(state);
    options.log(progressLine(state, started));
  }
  return state;
}

/** `[######----] 600/1,000 shops (60%) · 9.7/s · ETA 41s · 3 unresolved, 5 flagged` */
export function progressLine(state: BatchState, started: { at: number; processed: number }): string {
  const total = Math.max(state.total, state.processed);
  const share = total ? state.processed / total : 1;
  const width = 20;
  const filled = Math.round(share * width);
  const seconds = (performance.now() - started.at) / 1000;
  const rate = seconds > 0 ? (state.processed - started.processed) / seconds : 0;
  const eta = rate > 0 ? Math.round((total - state.processed) / rate) : undefined;
  const etaText = eta === undefined ? '' : ` · ETA ${eta >= 60 ? `${Math.floor(eta / 60)}m${String(eta % 60).padStart(2, '0')}s` : `${eta}s`}`;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${state.processed.toLocaleString('en-US')}/${total.toLocaleString('en-US')} shops (${Math.round(share * 100)}%) · ${rate.toFixed(1)}/s${etaText} · ${state.calls} provider calls, ${state.cacheHits} from the cache · ${state.unresolved.length} unresolved, ${state.flagged.length} flagged`;
}
