import { ConfigError } from '../../errors.js';
import { runBatches, type BatchState } from '../../geocode/batch.js';
import { createGeocoders, type GeocoderChain } from '../../geocode/select.js';
import { shopSchema } from '../../geocode/shops.js';
import { plural } from '../../lib/plural.js';
import { defineStep, type StepContext } from '../define-step.js';
import { concurrencyOf, flagSettings } from './geocode-shops.js';
import { numberParam } from './params.js';

const ID = 'db.geocode-refresh';

/**
 * The providers that gave the lapsed coordinates, as far as this environment can ask them:
 * a Google row is refreshed with Google (its key set), else it is cleared.
 */
async function lapsedSources(ctx: StepContext, now: Date): Promise<Array<{ source: string; n: number }>> {
  const { rows } = await ctx.db.pool.query<{ source: string; n: number }>(
    `SELECT coalesce(geocode_source, 'unknown') AS source, count(*)::int AS n FROM shops WHERE latitude IS NOT NULL AND geocode_expires_at <= $1 GROUP BY 1 ORDER BY 1`,
    [now],
  );
  return rows;
}

function chainFor(ctx: StepContext, source: string): { chain?: GeocoderChain; why?: string } {
  try {
    return { chain: createGeocoders({ config: ctx.config, db: ctx.db, providers: [source] }) };
  } catch (error) {
    if (error instanceof ConfigError) return { why: error.message };
    throw error;
  }
}

/**
 * Weekly maintenance: coordinates whose provider's terms let them lapse (shops.geocode_expires_at,
 * migration 014 — Google's cache_days) are asked again of that provider, through the cache, in
 * checkpointed batches; those it cannot answer, or whose provider this environment cannot ask
 * (no key), are cleared — keeping them would break the terms. Cleared shops drop out of location
 * search until geocoded again (db.shops-geocoded lists them).
 */
export const dbGeocodeRefreshStep = defineStep({
  id: ID,
  params: ['batch'],
  title: 'Refresh or clear lapsed shop coordinates',
  // Derived: it only ever renews or drops coordinates the provider's terms no longer let us keep
  // (re-geocoding rebuilds them); a backup of them would itself keep them past the terms.
  changesData: 'derived',
  needs: ['db'],

  async plan(ctx) {
    const schema = await shopSchema(ctx.db.pool);
    if (!schema.expiry) return ['shops.geocode_expires_at does not exist yet (migration 014): nothing can lapse.'];
    const sources = await lapsedSources(ctx, ctx.now());
    if (sources.length === 0) return ['No shop coordinates have lapsed.'];
    return sources.map(({ source, n }) => {
      const { chain, why } = chainFor(ctx, source);
      void chain?.close();
      return chain ? `${plural(n, 'shop')} with lapsed ${source} coordinates would be asked again of ${source} (cleared when it has no answer)` : `${plural(n, 'shop')} with lapsed ${source} coordinates would be cleared: ${why}`;
    });
  },

  async run(ctx) {
    const batch = numberParam(ID, ctx.params, 'batch') ?? 100;
    const schema = await shopSchema(ctx.db.pool);
    if (!schema.expiry) return { status: 'skipped', summary: 'shops.geocode_expires_at does not exist yet (migration 014)' };
    const now = ctx.now();
    const sources = await lapsedSources(ctx, now);
    if (sources.length === 0) return { status: 'done', summary: 'No shop coordinates have lapsed', outputs: { refreshed: 0, cleared: 0 } };
    const resumed = (ctx.resumed ?? {}) as Record<string, BatchState>;
    const states: Record<string, BatchState> = { ...resumed };
    const notes: string[] = [];
    for (const { source } of sources) {
      const { chain, why } = chainFor(ctx, source);
      if (why) notes.push(`${source}: cleared, not refreshed — ${why}`);
      try {
        states[source] = await runBatches({
          pool: ctx.db.pool,
          chain,
          schema,
          selection: { onlyExpired: true, source },
          batchSize: batch,
          concurrency: chain ? concurrencyOf(chain) : 1,
          settings: flagSettings(ctx),
          now: ctx.now,
          mode: 'refresh',
          log: (line) => ctx.log(`${source}: ${line}`),
          checkpoint: (s) => ctx.checkpoint({ ...states, [source]: s } as unknown as Record<string, unknown>),
          ...(resumed[source] ? { resumed: resumed[source] } : {}),
        });
      } finally {
        await chain?.close();
      }
    }
    const all = Object.values(states);
    const refreshed = all.reduce((n, s) => n + s.geocoded.length, 0);
    const cleared = all.reduce((n, s) => n + s.cleared.length, 0);
    const flagged = all.flatMap((s) => s.flagged);
    return {
      status: cleared || flagged.length ? 'warn' : 'done',
      summary: `Refreshed ${plural(refreshed, 'shop')}' lapsed coordinates, cleared ${cleared}${flagged.length ? `; ${flagged.length} new answer(s) flagged` : ''}`,
      details: [...notes, ...all.flatMap((s) => s.cleared.map((c) => `cleared: ${c.slug}`)), ...flagged.map((f) => `flagged: ${f.slug} — ${f.flags.join(', ')}`)].slice(0, 300),
      outputs: { refreshed, cleared, calls: all.reduce((n, s) => n + s.calls, 0) },
    };
  },
});

export default dbGeocodeRefreshStep;
