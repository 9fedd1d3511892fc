import { GEOCODE_ACCURACIES } from '../../geocode/provider.js';
import { defineCheck, pass, warn } from '../define-check.js';

/**
 * Shops location search cannot find (no coordinates), shops whose coordinates lapsed under
 * their provider's terms (geocode_expires_at, migration 014: db.geocode-refresh renews them),
 * and shops geocoded coarser than geocoding.accuracy_min (a city centre is miles off).
 */
export default defineCheck({
  id: 'db.shops-geocoded',
  title: 'Every shop geocoded, precisely and within its provider\'s terms',
  needs: ['db'],
  stages: ['post'],
  async run({ db, config, now }) {
    const { rows: cols } = await db!.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'shops' AND column_name = 'geocode_expires_at'`);
    const hasExpiry = cols.length > 0;
    const min = config.geocoding.accuracyMin.value;
    const coarser = GEOCODE_ACCURACIES.slice(GEOCODE_ACCURACIES.indexOf(min) + 1);
    const { rows } = await db!.query<{ slug: string; problem: string }>(
      `SELECT slug, CASE WHEN latitude IS NULL OR longitude IS NULL THEN 'missing'
                         ${hasExpiry ? "WHEN geocode_expires_at <= $2 THEN 'expired'" : ''}
                         WHEN geocode_accuracy = ANY($1::text[]) THEN 'coarse:' || geocode_accuracy END AS problem
         FROM shops
        WHERE latitude IS NULL OR longitude IS NULL ${hasExpiry ? 'OR geocode_expires_at <= $2' : ''} OR geocode_accuracy = ANY($1::text[])
        ORDER BY slug`,
      hasExpiry ? [coarser, now()] : [coarser],
    );
    const { rows: all } = await db!.query<{ n: number }>('SELECT count(*)::int AS n FROM shops');
    const total = all[0]?.n ?? 0;
    const count = (p: (s: string) => boolean) => rows.filter((r) => p(r.problem)).length;
    const missing = count((p) => p === 'missing');
    const expired = count((p) => p === 'expired');
    const coarse = count((p) => p.startsWith('coarse:'));
    if (rows.length === 0) return pass(`all ${total} shops have coordinates, none lapsed, none coarser than ${min}`);
    const parts = [
      ...(missing ? [`${missing} have no coordinates (location search cannot find them)`] : []),
      ...(expired ? [`${expired} have coordinates that lapsed under their provider's terms`] : []),
      ...(coarse ? [`${coarse} are geocoded coarser than ${min} (geocoding.accuracy_min)`] : []),
    ];
    return warn(`${rows.length} of ${total} shop(s): ${parts.join('; ')}`, {
      details: rows.slice(0, 20).map((r) => `${r.slug}: ${r.problem === 'missing' ? 'no coordinates' : r.problem === 'expired' ? 'coordinates lapsed (geocode_expires_at)' : r.problem}`),
      data: { missing, expired, coarse },
      hint: `Run \`routergpt geocode --dry-run${expired ? ' --refresh-expired' : ''}\`, review it (--review FILE), then \`routergpt geocode\` (or --apply FILE); coarse ones: \`routergpt geocode --dry-run --shops SLUG,… --provider google\`.`,
    });
  },
});
