import { fail, pass, warn } from '../../checks/define-check.js';
import { withTransaction, type Queryable } from '../../db/pool.js';
import { geocodeChain } from '../../geocode/cache.js';
import { isGeocodeProviderError } from '../../geocode/errors.js';
import type { GeocodeQuery, GeocodeResult } from '../../geocode/provider.js';
import { createGeocoders, type GeocoderChain } from '../../geocode/select.js';
import { defineStep, type StepContext, type StepResult } from '../define-step.js';
import { stringParam } from './params.js';

const ID = 'db.geocode-shops';

interface ShopRow {
  id: string;
  slug: string;
  name: string;
  address: string | null;
  city: string | null;
  state: string | null;
  postal_code: string | null;
  geocoded_at: string | null;
  geocode_source: string | null;
  geocode_accuracy: string | null;
  updated_at: string;
}

/** What a shop had before: rollback writes exactly this back. */
interface GeocodedShop {
  id: string;
  slug: string;
  latitude: number;
  longitude: number;
  accuracy: string;
  /** The provider that answered (geocode_source); older journals have only outputs.provider. */
  provider?: string;
  previous: { geocoded_at: string | null; geocode_source: string | null; geocode_accuracy: string | null; updated_at: string };
}

const SELECT_MISSING = `SELECT id::text, slug, name, address, city, state, postal_code,
                              geocoded_at::text, geocode_source, geocode_accuracy, updated_at::text
                         FROM shops WHERE latitude IS NULL ORDER BY id`;

function queryOf(shop: ShopRow): GeocodeQuery {
  return { ...(shop.address ? { address: shop.address } : {}), ...(shop.city ? { city: shop.city } : {}), ...(shop.state ? { state: shop.state } : {}), ...(shop.postal_code ? { postalCode: shop.postal_code } : {}) };
}

/** The step's `provider` parameter, else the environment's geocoding.provider chain (offline by default). */
function geocodersOf(ctx: StepContext): GeocoderChain {
  const provider = stringParam(ID, ctx.params, 'provider');
  return createGeocoders({ config: ctx.config, db: ctx.db, ...(provider ? { providers: [provider] } : {}) });
}

function describeChain(chain: GeocoderChain): string {
  const names = chain.geocoders.map((g) => g.name);
  return names.length === 1 ? `the ${names[0]} provider` : `the ${names.join(', ')} providers (in that order)`;
}

/** The plan's sample: each provider asked directly (no cache, nothing written), the first answer kept. */
async function sampleAnswer(chain: GeocoderChain, query: GeocodeQuery, signal: AbortSignal | undefined): Promise<{ result: GeocodeResult | null; provider: string }> {
  let provider = chain.geocoders[0]?.name ?? 'offline';
  for (const [i, geocoder] of chain.geocoders.entries()) {
    provider = geocoder.name;
    try {
      const result = await geocoder.geocode(query, signal);
      if (result) return { result, provider };
    } catch (error) {
      if (!isGeocodeProviderError(error) || error.failure === 'stop' || i === chain.geocoders.length - 1) throw error;
    }
  }
  return { result: null, provider };
}

async function missing(db: Queryable): Promise<ShopRow[]> {
  return (await db.query<ShopRow>(SELECT_MISSING)).rows;
}

/**
 * Give coordinates to shops that have none (the checklist's geocode_existing_shops.py). The plan is
 * the dry run: how many shops, and what the provider answers for a sample — it asks the provider
 * directly and writes nothing (not even cache hit counts). The run goes through geocoding_cache.
 * Shops the provider cannot resolve keep NULL coordinates and are listed (verify warns).
 */
export const dbGeocodeShopsStep = defineStep({
  id: ID,
  params: ['provider'],
  title: 'Geocode shops without coordinates',
  changesData: 'user-data',
  needs: ['db'],

  async plan(ctx) {
    const chain = geocodersOf(ctx);
    try {
      const shops = await missing(ctx.db.pool);
      if (shops.length === 0) return ['Every shop has coordinates: nothing to geocode.'];
      const lines = [`${shops.length} shop(s) without coordinates would be geocoded with ${describeChain(chain)} (results cached in geocoding_cache). Sample:`];
      for (const shop of shops.slice(0, 5)) {
        const { result, provider } = await sampleAnswer(chain, queryOf(shop), ctx.signal);
        const where = [shop.address, shop.city, shop.state, shop.postal_code].filter(Boolean).join(', ');
        const by = chain.geocoders.length > 1 && result ? ` (${provider})` : '';
        lines.push(`  ${shop.slug} (${where || 'no address'}) → ${result ? `${result.latitude}, ${result.longitude} [${result.accuracy}]${result.partialMatch ? ' [partial match]' : ''} ${result.formatted}${by}` : 'no result: would stay without coordinates'}`);
      }
      if (shops.length > 5) lines.push(`  … and ${shops.length - 5} more`);
      for (const attribution of chain.attributions) lines.push(`  Geocoding data ${attribution}`);
      return lines;
    } finally {
      await chain.close();
    }
  },

  async run(ctx) {
    const chain = geocodersOf(ctx);
    const now = ctx.now();
    const outcome = await withTransaction(ctx.db.pool, async (client) => {
      // FOR UPDATE: a shop edited concurrently is not overwritten with a stale answer.
      const shops = (await client.query<ShopRow>(`${SELECT_MISSING} FOR UPDATE`)).rows;
      const geocoded: GeocodedShop[] = [];
      const unresolved: Array<{ id: string; slug: string }> = [];
      let cacheHits = 0;
      for (const shop of shops) {
        const { result, fromCache, provider } = await geocodeChain(client, chain.geocoders, queryOf(shop), now, ctx.signal);
        if (fromCache) cacheHits += 1;
        if (!result) {
          unresolved.push({ id: shop.id, slug: shop.slug });
          continue;
        }
        await client.query(
          `UPDATE shops SET latitude = $2, longitude = $3, geocoded_at = $4, geocode_source = $5, geocode_accuracy = $6, updated_at = $4 WHERE id = $1`,
          [shop.id, result.latitude, result.longitude, now, provider, result.accuracy],
        );
        geocoded.push({ id: shop.id, slug: shop.slug, latitude: result.latitude, longitude: result.longitude, accuracy: result.accuracy, provider, previous: { geocoded_at: shop.geocoded_at, geocode_source: shop.geocode_source, geocode_accuracy: shop.geocode_accuracy, updated_at: shop.updated_at } });
      }
      return { geocoded, unresolved, cacheHits };
    }).finally(() => chain.close());
    const { geocoded, unresolved, cacheHits } = outcome;
    const names = chain.geocoders.map((g) => g.name).join(', ');
    return {
      status: geocoded.length + unresolved.length === 0 ? 'skipped' : 'done',
      summary: `Geocoded ${geocoded.length} shop(s) with ${names}${unresolved.length ? `; ${unresolved.length} could not be resolved` : ''} (${cacheHits} from the cache)`,
      details: [...geocoded.map((g) => `${g.slug} → ${g.latitude}, ${g.longitude} [${g.accuracy}]`), ...unresolved.map((u) => `${u.slug}: no result`)],
      outputs: { provider: names, geocodedAt: now.toISOString(), geocoded, unresolved, ...(chain.attributions.length ? { attributions: chain.attributions } : {}) },
    };
  },

  async verify(ctx, result) {
    const unresolved = new Set(((result.outputs?.unresolved ?? []) as Array<{ slug: string }>).map((u) => u.slug));
    const left = await missing(ctx.db.pool);
    const unexpected = left.filter((s) => !unresolved.has(s.slug));
    if (unexpected.length > 0) return fail(`${unexpected.length} shop(s) still have no coordinates`, { details: unexpected.map((s) => s.slug), hint: 'Run the geocoding step again (shops added during the run are picked up).' });
    if (left.length > 0) return warn(`${left.length} shop(s) could not be geocoded and stay out of location search`, { details: left.map((s) => `${s.slug}: ${[s.address, s.city, s.state, s.postal_code].filter(Boolean).join(', ') || 'no address'}`), hint: 'Fix their address or postal code, or set coordinates by hand (geocode_source = \'manual\').' });
    return pass('Every shop has coordinates');
  },

  /** Rollback tier `geocode`: clear the coordinates this step set (a later correction is kept). */
  undo: {
    tier: 'geocode',
    title: 'Remove the coordinates the deploy\'s geocoding set',
    applies: (source) => (source.state === 'done' || source.state === 'warn') && Array.isArray(source.outputs.geocoded) && source.outputs.geocoded.length > 0,
    async plan(_ctx, source) {
      const geocoded = source.outputs.geocoded as GeocodedShop[];
      return [`Clear latitude/longitude on the ${geocoded.length} shop(s) geocoded by the deploy, where they still hold exactly what it wrote`];
    },
    run: (ctx, source) => ungeocode(ctx, source.outputs),
  },
});

async function ungeocode(ctx: StepContext, outputs: Record<string, unknown>): Promise<StepResult> {
  const geocoded = (outputs.geocoded ?? []) as GeocodedShop[];
  const provider = String(outputs.provider ?? 'offline');
  // Only shops still holding exactly what this step wrote: a later correction is kept.
  const restored = await withTransaction(ctx.db.pool, async (client) => {
    let n = 0;
    for (const shop of geocoded) {
      const { rowCount } = await client.query(
        `UPDATE shops SET latitude = NULL, longitude = NULL, geocoded_at = $5::timestamptz, geocode_source = $6, geocode_accuracy = $7, updated_at = $8::timestamptz
          WHERE id = $1 AND latitude = $2 AND longitude = $3 AND geocode_source = $4`,
        [shop.id, shop.latitude, shop.longitude, shop.provider ?? provider, shop.previous.geocoded_at, shop.previous.geocode_source, shop.previous.geocode_accuracy, shop.previous.updated_at],
      );
      n += rowCount ?? 0;
    }
    return n;
  });
  const kept = geocoded.length - restored;
  return {
    status: 'done',
    summary: `Removed the coordinates this step set on ${restored} shop(s)${kept ? `; ${kept} changed since and were left alone` : ''} (geocoding_cache entries are kept)`,
    outputs: { restored, kept },
  };
}

export default dbGeocodeShopsStep;
