import { defineStep } from '../define-step.js';

/** Weekly maintenance: `SELECT cleanup_expired_geocoding_cache();` */
export const dbCleanupGeocodingCacheStep = defineStep({
  id: 'db.cleanup-geocoding-cache',
  title: 'Clean up expired geocoding cache entries',
  changesData: 'derived',
  needs: ['db'],
  async plan(ctx) {
    const { rows } = await ctx.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM geocoding_cache WHERE expires_at < now()');
    return [`SELECT cleanup_expired_geocoding_cache();  -- ${rows[0]?.n ?? 0} expired entries now`];
  },
  async run(ctx) {
    const { rows } = await ctx.db.pool.query<{ removed: number }>('SELECT cleanup_expired_geocoding_cache() AS removed');
    const removed = Number(rows[0]?.removed ?? 0);
    return { status: removed > 0 ? 'done' : 'skipped', summary: `removed ${removed} expired entries`, outputs: { removed } };
  },
});

export default dbCleanupGeocodingCacheStep;
