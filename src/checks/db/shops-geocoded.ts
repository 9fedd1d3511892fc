import { defineCheck, pass, warn } from '../define-check.js';

export default defineCheck({
  id: 'db.shops-geocoded',
  title: 'Every shop geocoded',
  needs: ['db'],
  stages: ['post'],
  async run({ db }) {
    const { rows } = await db!.query<{ slug: string; total: number }>(
      `SELECT slug, count(*) OVER ()::int AS total FROM shops WHERE latitude IS NULL OR longitude IS NULL ORDER BY slug LIMIT 20`,
    );
    const { rows: all } = await db!.query<{ n: number }>('SELECT count(*)::int AS n FROM shops');
    if (rows.length > 0) {
      const total = rows[0]!.total;
      return warn(`${total} of ${all[0]?.n} shop(s) have no coordinates and cannot be found by location search`, {
        details: rows.map((r) => r.slug),
        data: { missing: total },
        hint: 'Run the db.geocode-shops step (dry run first).',
      });
    }
    return pass(`all ${all[0]?.n ?? 0} shops have coordinates`);
  },
});
