import path from 'node:path';
import { fail, pass, warn } from '../../checks/define-check.js';
import { withTransaction } from '../../db/pool.js';
import { applyReview, checkReview } from '../../geocode/apply.js';
import { propose, runBatches, type BatchState, type GeocodedShop, type Proposal } from '../../geocode/batch.js';
import { readReviewFile } from '../../geocode/review-file.js';
import { createGeocoders, type GeocoderChain } from '../../geocode/select.js';
import { countShops, selectShops, shopSchema, type ShopSchema, type ShopSelection } from '../../geocode/shops.js';
import { plural } from '../../lib/plural.js';
import { defineStep, type StepContext, type StepResult } from '../define-step.js';
import { booleanParam, numberParam, stringListParam, stringParam } from './params.js';

const ID = 'db.geocode-shops';

/** The step's parameters — what `routergpt geocode`'s flags become (the command runs this step). */
export const GEOCODE_PARAMS = ['provider', 'sample', 'batch', 'limit', 'shops', 'refreshExpired', 'apply'] as const;

export interface GeocodeParams {
  providers?: string[];
  sample: number;
  batch: number;
  limit?: number;
  shops?: string[];
  refreshExpired: boolean;
  /** A reviewed file (absolute path) to apply instead of asking the provider. */
  apply?: string;
}

export function geocodeParams(params: Record<string, unknown>): GeocodeParams {
  const provider = stringParam(ID, params, 'provider');
  const limit = numberParam(ID, params, 'limit');
  const shops = stringListParam(ID, params, 'shops');
  const apply = stringParam(ID, params, 'apply');
  return {
    ...(provider ? { providers: provider.split(',').map((p) => p.trim()).filter(Boolean) } : {}),
    // 0: the plan asks no provider (`routergpt geocode` runs after its own dry run).
    sample: params.sample === 0 ? 0 : (numberParam(ID, params, 'sample') ?? 5),
    batch: numberParam(ID, params, 'batch') ?? 100,
    ...(limit !== undefined ? { limit } : {}),
    ...(shops ? { shops } : {}),
    refreshExpired: booleanParam(ID, params, 'refreshExpired') ?? false,
    ...(apply ? { apply } : {}),
  };
}

export function selectionOf(p: GeocodeParams): ShopSelection {
  return p.shops ? { slugs: p.shops } : { refreshExpired: p.refreshExpired };
}

/** The step's `provider` parameter (or --provider), else the environment's geocoding.provider chain. */
export function geocodersFor(ctx: Pick<StepContext, 'config' | 'db'>, p: GeocodeParams): GeocoderChain {
  return createGeocoders({ config: ctx.config, db: ctx.db, ...(p.providers ? { providers: p.providers } : {}) });
}

/** Nominatim's slot serialises every request anyway; Google's throttle wants a few in flight. */
export function concurrencyOf(chain: GeocoderChain): number {
  return chain.geocoders.some((g) => g.name === 'nominatim') ? 1 : 16;
}

export function describeChain(chain: GeocoderChain): string {
  const names = chain.geocoders.map((g) => g.name);
  return names.length === 1 ? `the ${names[0]} provider` : `the ${names.join(', ')} providers (in that order)`;
}

export function flagSettings(ctx: Pick<StepContext, 'config'>) {
  return { accuracyMin: ctx.config.geocoding.accuracyMin.value, movedWarnM: ctx.config.geocoding.movedWarnM.value };
}

/** One proposal as a line: `slug (address) → lat, lon [accuracy] formatted (provider) — flags`. */
export function proposalLine(p: Proposal, withProvider: boolean): string {
  const where = p.addressSent || 'no address';
  const flags = p.flags.length ? ` — ${p.flags.join(', ')}` : '';
  if (!p.result) return `${p.shop.slug} (${where}) → ${p.flags.includes('no-address') ? 'no address: would stay without coordinates' : 'no result: would stay without coordinates'}`;
  return `${p.shop.slug} (${where}) → ${p.result.latitude}, ${p.result.longitude} [${p.result.accuracy}] ${p.result.formatted}${withProvider ? ` (${p.provider})` : ''}${p.movedM !== undefined ? `, ${p.movedM} m from its coordinates` : ''}${flags}`;
}

function selectionText(p: GeocodeParams, schema: ShopSchema): string {
  if (p.shops) return `of the ${plural(p.shops.length, 'named shop')}`;
  if (!schema.location) return 'with an address';
  return p.refreshExpired ? 'without coordinates or with lapsed ones' : 'without coordinates';
}

/**
 * Give coordinates to shops (the checklist's geocode_existing_shops.py): `routergpt geocode` is
 * this step on its own. The plan is the dry run of a deploy: how many shops, and what the
 * cache — else the provider, for at most `sample` shops — answers; it writes nothing. The run
 * works in batches (geocode/batch.ts), checkpointed, resumable; or applies a reviewed file.
 * Shops the provider cannot resolve, or answers flagged as suspicious, make it `warn`.
 */
export const dbGeocodeShopsStep = defineStep({
  id: ID,
  params: GEOCODE_PARAMS,
  title: 'Geocode shops without coordinates',
  changesData: 'user-data',
  needs: ['db'],

  async plan(ctx) {
    const p = geocodeParams(ctx.params);
    const schema = await shopSchema(ctx.db.pool);
    if (!schema.shops) return ['The shops table does not exist yet (migration 001): once it does, its shops without coordinates would be geocoded.'];
    if (p.apply) {
      const review = await checkReview(ctx.db.pool, schema, p.apply, readReviewFile(p.apply));
      return [`Apply the reviewed file ${p.apply}: ${plural(review.rows.length, 'shop')} get exactly its coordinates${review.empty.length ? `; ${review.empty.length} row(s) without coordinates are left alone` : ''} (each refused if its updated_at changed since the review).`];
    }
    const chain = geocodersFor(ctx, p);
    try {
      const now = ctx.now();
      const selection = selectionOf(p);
      const total = await countShops(ctx.db.pool, schema, selection, now);
      const n = p.limit === undefined ? total : Math.min(total, p.limit);
      if (n === 0) return [p.shops ? 'None of the named shops exist: nothing to geocode.' : 'Every shop has coordinates: nothing to geocode.'];
      if (p.sample === 0) return [`${plural(n, 'shop')} ${selectionText(p, schema)} would be geocoded with ${describeChain(chain)}, in batches of ${p.batch} (answers cached in geocoding_cache).`];
      const sample = await selectShops(ctx.db.pool, schema, selection, { now, limit: Math.min(p.sample, n) });
      const { proposals } = await propose(ctx.db.pool, chain, sample, { now, settings: flagSettings(ctx), schema, readOnly: true, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      const head = schema.location
        ? `${plural(n, 'shop')} ${selectionText(p, schema)} would be geocoded with ${describeChain(chain)}, in batches of ${p.batch} (answers cached in geocoding_cache). Sample (the cache first, nothing written):`
        : `After migration 006, ${plural(n, 'shop')} ${selectionText(p, schema)} would be geocoded with ${describeChain(chain)}, in batches of ${p.batch}. Sample (from the address columns that exist, nothing written):`;
      const lines = [head, ...proposals.map((x) => `  ${proposalLine(x, chain.geocoders.length > 1)}`)];
      if (n > sample.length) lines.push(`  … and ${n - sample.length} more`);
      for (const attribution of chain.attributions) lines.push(`  Geocoding data ${attribution}`);
      return lines;
    } finally {
      await chain.close();
    }
  },

  async run(ctx) {
    const p = geocodeParams(ctx.params);
    const schema = await shopSchema(ctx.db.pool);
    if (p.apply) return applyFile(ctx, p.apply, schema);
    const chain = geocodersFor(ctx, p);
    // The parameters are journaled before the first batch: --resume continues with them.
    if (!ctx.resumed) await ctx.checkpoint({ params: ctx.params });
    let state: BatchState;
    try {
      state = await runBatches({
        pool: ctx.db.pool,
        chain,
        schema,
        selection: selectionOf(p),
        batchSize: p.batch,
        ...(p.limit !== undefined ? { limit: p.limit } : {}),
        concurrency: concurrencyOf(chain),
        settings: flagSettings(ctx),
        now: ctx.now,
        mode: 'geocode',
        log: ctx.log,
        // The parameters travel with the progress: --resume continues with the same ones.
        checkpoint: (s) => ctx.checkpoint({ ...(s as unknown as Record<string, unknown>), params: ctx.params }),
        ...(ctx.resumed ? { resumed: ctx.resumed as unknown as BatchState } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
    } finally {
      await chain.close();
    }
    return resultOf(state, chain.geocoders.map((g) => g.name).join(', '), ctx.now(), chain.attributions);
  },

  async verify(ctx, result) {
    const outputs = result.outputs ?? {};
    const unresolved = (outputs.unresolved ?? []) as Array<{ slug: string }>;
    const flagged = (outputs.flagged ?? []) as Array<{ slug: string; flags: string[] }>;
    const written = (outputs.geocoded ?? []) as GeocodedShop[];
    // What this step wrote is still there (a concurrent writer would have been refused by updated_at).
    const { rows } = await ctx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM shops WHERE id = ANY($1::bigint[]) AND latitude IS NULL`, [written.map((w) => w.id)]);
    if ((rows[0]?.n ?? 0) > 0) return fail(`${rows[0]!.n} shop(s) this step geocoded have no coordinates now`, { hint: 'Something cleared them during the run: see `routergpt status` for other runs, then run `routergpt geocode` again.' });
    if (unresolved.length || flagged.length) {
      return warn(`${plural(unresolved.length, 'shop')} could not be geocoded, ${flagged.length} answer(s) flagged for review`, {
        details: [...unresolved.map((u) => `unresolved: ${u.slug}`), ...flagged.map((f) => `flagged: ${f.slug} — ${f.flags.join(', ')}`)].slice(0, 200),
        hint: 'Review them with `routergpt geocode --dry-run --shops SLUG,… --review review.csv`, fix their addresses or apply a checked file with `routergpt geocode --apply review.csv`.',
      });
    }
    return pass(`${plural(written.length, 'shop')} geocoded, none unresolved or flagged`);
  },

  /** Rollback tier `geocode`: put back what each shop had, where it still holds exactly what this step wrote. */
  undo: {
    tier: 'geocode',
    title: 'Put back the coordinates the geocoding replaced',
    applies: (source) => (source.state === 'done' || source.state === 'warn') && Array.isArray(source.outputs.geocoded) && source.outputs.geocoded.length > 0,
    async plan(_ctx, source) {
      const geocoded = source.outputs.geocoded as GeocodedShop[];
      return [`Put back the coordinates of the ${plural(geocoded.length, 'shop')} geocoded by the run (none, for those that had none), where they still hold exactly what it wrote`];
    },
    run: (ctx, source) => ungeocode(ctx, source.outputs),
  },
});

export function resultOf(state: BatchState, provider: string, now: Date, attributions: string[]): StepResult {
  const warned = state.unresolved.length + state.flagged.length + state.changed.length > 0;
  const parts = [
    `Geocoded ${state.geocoded.length} of ${plural(state.processed, 'shop')} with ${provider} in ${plural(state.batches, 'batch', 'batches')} (${plural(state.calls, 'provider call')}, ${state.cacheHits} from the cache)`,
    ...(state.unresolved.length ? [`${state.unresolved.length} could not be resolved`] : []),
    ...(state.flagged.length ? [`${state.flagged.length} flagged for review`] : []),
    ...(state.changed.length ? [`${state.changed.length} changed during the run and were left alone`] : []),
  ];
  return {
    status: state.processed === 0 ? 'skipped' : warned ? 'warn' : 'done',
    summary: parts.join('; '),
    details: [
      ...state.unresolved.map((u) => `unresolved: ${u.slug} (${u.address}): ${u.reason}`),
      ...state.flagged.map((f) => `flagged: ${f.slug} — ${f.flags.join(', ')}`),
      ...state.changed.map((s) => `changed during the run, left alone: ${s}`),
      ...attributions.map((a) => `Geocoding data ${a}`),
    ].slice(0, 500),
    outputs: { provider, geocodedAt: now.toISOString(), geocoded: state.geocoded, unresolved: state.unresolved, flagged: state.flagged, changed: state.changed, calls: state.calls, cacheHits: state.cacheHits, batches: state.batches, ...(attributions.length ? { attributions } : {}) },
  };
}

async function applyFile(ctx: StepContext, file: string, schema: ShopSchema): Promise<StepResult> {
  const now = ctx.now();
  const review = await checkReview(ctx.db.pool, schema, file, readReviewFile(file));
  const geocoded = await withTransaction(ctx.db.pool, (client) => applyReview(client, schema, review, ctx.config.geocoding, now));
  const providers = [...new Set(geocoded.map((g) => g.provider))].join(', ') || 'none';
  return {
    status: review.empty.length ? 'warn' : 'done',
    summary: `Applied ${plural(geocoded.length, 'reviewed row')} of ${path.basename(file)}${review.empty.length ? `; ${review.empty.length} row(s) without coordinates left alone` : ''}`,
    details: [...geocoded.map((g) => `${g.slug} → ${g.latitude}, ${g.longitude} [${g.accuracy}] (${g.provider})`), ...review.empty.map((s) => `unresolved: ${s} (no coordinates in the file)`)],
    outputs: { provider: providers, geocodedAt: now.toISOString(), applied: file, geocoded, unresolved: review.empty.map((slug) => ({ slug })), flagged: [] },
  };
}

async function ungeocode(ctx: StepContext, outputs: Record<string, unknown>): Promise<StepResult> {
  const geocoded = (outputs.geocoded ?? []) as GeocodedShop[];
  const provider = String(outputs.provider ?? 'offline');
  const schema = await shopSchema(ctx.db.pool);
  // Only shops still holding exactly what this step wrote: a later correction is kept.
  const restored = await withTransaction(ctx.db.pool, async (client) => {
    let n = 0;
    for (const shop of geocoded) {
      const p = shop.previous;
      const values: unknown[] = [shop.id, shop.latitude, shop.longitude, shop.provider ?? provider, p.geocoded_at, p.geocode_source, p.geocode_accuracy, p.updated_at, p.latitude ?? null, p.longitude ?? null];
      const expiry = schema.expiry ? `, geocode_expires_at = $${values.push(p.geocode_expires_at ?? null)}::timestamptz` : '';
      const { rowCount } = await client.query(
        `UPDATE shops SET latitude = $9, longitude = $10, geocoded_at = $5::timestamptz, geocode_source = $6, geocode_accuracy = $7${expiry}, updated_at = $8::timestamptz
          WHERE id = $1 AND latitude = $2 AND longitude = $3 AND geocode_source = $4`,
        values,
      );
      n += rowCount ?? 0;
    }
    return n;
  });
  const kept = geocoded.length - restored;
  return {
    status: 'done',
    summary: `Put back the coordinates of ${plural(restored, 'shop')}${kept ? `; ${kept} changed since and were left alone` : ''} (geocoding_cache entries are kept)`,
    outputs: { restored, kept },
  };
}

export default dbGeocodeShopsStep;
