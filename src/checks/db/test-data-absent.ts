import { TEST_SHOP_SLUGS } from '../../db/seed.js';
import { defineCheck, fail, pass, warn } from '../define-check.js';

/** The checklist's "verify test data removed" query uses these patterns. */
export const DEFAULT_LEFTOVER_PATTERNS = ['%test%', '%tempe%'];

export default defineCheck({
  id: 'db.test-data-absent',
  title: 'Test data removed',
  needs: ['db'],
  stages: ['post'],
  params: ['patterns'],
  async run({ db, params }) {
    const patterns = (params?.patterns as string[] | undefined) ?? DEFAULT_LEFTOVER_PATTERNS;
    const { rows } = await db!.query<{ slug: string; known: boolean }>(
      `SELECT slug, slug = ANY($1::text[]) AS known FROM shops WHERE slug = ANY($1::text[]) OR slug LIKE ANY($2::text[]) ORDER BY slug`,
      [[...TEST_SHOP_SLUGS], patterns],
    );
    const known = rows.filter((r) => r.known).map((r) => r.slug);
    const lookalikes = rows.filter((r) => !r.known).map((r) => r.slug);
    if (known.length > 0) {
      return fail(`test shops still present: ${known.join(', ')}`, {
        details: [...known.map((s) => `test shop: ${s}`), ...lookalikes.map((s) => `matches ${patterns.join('/')}: ${s}`)],
        data: { known, lookalikes },
        hint: 'Run the db.purge-test-data step (`routergpt deploy` does, after a backup).',
      });
    }
    // A real Tempe shop matches '%tempe%' too: a person decides, so this is a warning.
    if (lookalikes.length > 0) {
      return warn(`${lookalikes.length} slug(s) match ${patterns.join(' / ')}: ${lookalikes.slice(0, 10).join(', ')}`, {
        details: lookalikes.map((s) => `review: ${s}`),
        data: { known, lookalikes },
        hint: 'Check these are real shops; add test leftovers to the purge patterns.',
      });
    }
    return pass(`none of the ${TEST_SHOP_SLUGS.length} test slugs, nothing matching ${patterns.join(' / ')}`);
  },
});
