import { defineCheck, pass, warn } from '../define-check.js';

export default defineCheck({
  id: 'db.geocoding-cache',
  title: 'Geocoding cache working',
  needs: ['db'],
  stages: ['post'],
  params: ['maxExpired'],
  async run({ db, params }) {
    const { rows } = await db!.query<{ provider: string; entries: number; expired: number }>(
      `SELECT provider, count(*)::int AS entries, count(*) FILTER (WHERE expires_at < now())::int AS expired FROM geocoding_cache GROUP BY provider ORDER BY provider`,
    );
    const details = rows.map((r) => `${r.provider}: ${r.entries} entries, ${r.expired} expired`);
    const total = rows.reduce((n, r) => n + r.entries, 0);
    const expired = rows.reduce((n, r) => n + r.expired, 0);
    const maxExpired = Number(params?.maxExpired ?? 1000);
    if (total === 0) return warn('the geocoding cache is empty', { hint: 'Geocode the shops to fill it: `routergpt geocode --dry-run` (it caches what it asks), then `routergpt geocode` (the deploy runs the same step, db.geocode-shops).', data: { total } });
    if (expired > maxExpired || expired / total > 0.5) {
      return warn(`${expired} of ${total} cache entries have expired`, { details, hint: 'Run `SELECT cleanup_expired_geocoding_cache();` (weekly maintenance).', data: { total, expired } });
    }
    return pass(`${total} cached entries (${rows.map((r) => `${r.provider} ${r.entries}`).join(', ')})`, { details, data: { total, expired } });
  },
});
