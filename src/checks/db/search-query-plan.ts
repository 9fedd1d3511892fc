import { boundingBoxes } from '../../server/search/geo.js';
import { searchSql } from '../../server/search/search-shops.js';
import { withTransaction } from '../../db/pool.js';
import { defineCheck, fail, pass } from '../define-check.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function walk(node: PlanNode, out: PlanNode[] = []): PlanNode[] {
  out.push(node);
  for (const child of node.Plans ?? []) walk(child, out);
  return out;
}

/** Index names used on shops, or undefined when shops is read with a sequential scan. */
function shopIndexes(plan: PlanNode): { seq: boolean; indexes: string[] } {
  const nodes = walk(plan);
  const seq = nodes.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'shops');
  const indexes = [...new Set(nodes.filter((n) => n['Index Name']?.startsWith('idx_shops_')).map((n) => n['Index Name']!))];
  return { seq, indexes };
}

export default defineCheck({
  id: 'db.search-query-plan',
  title: 'Location search uses an index, within budget',
  needs: ['db'],
  stages: ['post'],
  params: ['latitude', 'longitude', 'radiusMiles', 'category', 'budgetMs'],
  async run({ db, params }) {
    const pool = db!;
    const lat = Number(params?.latitude ?? 33.4255);
    const lon = Number(params?.longitude ?? -111.94);
    const radius = Number(params?.radiusMiles ?? 10);
    const category = String(params?.category ?? 'barbershop');
    const budgetMs = Number(params?.budgetMs ?? 50);
    const boxes = boundingBoxes(lat, lon, radius);
    const values: unknown[] = [lat, lon, radius, 20, category, ...boxes.flatMap((b) => [b.latMin, b.latMax, b.lonMin, b.lonMax])];
    const sql = searchSql(boxes.length as 1 | 2, true);
    // The real query the server runs, with a category. EXPLAIN ANALYZE executes it: read-only.
    return withTransaction(pool, async (client) => {
      const explain = async () => {
        const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, values);
        return rows[0]!['QUERY PLAN'][0]!;
      };
      const natural = await explain();
      const used = shopIndexes(natural.Plan);
      const ms = natural['Execution Time'];
      const { rows: sizeRows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM shops');
      const shops = sizeRows[0]?.n ?? 0;
      const data = { executionMs: ms, indexes: used.indexes, shops };
      if (ms > budgetMs) return fail(`search took ${ms.toFixed(1)} ms (budget ${budgetMs} ms)`, { data, hint: 'Run ANALYZE shops; check the location indexes with db.indexes-valid.' });
      if (used.indexes.length > 0 && !used.seq) return pass(`uses ${used.indexes.join(', ')}; ${ms.toFixed(2)} ms`, { data });
      // On a small table a sequential scan is the planner's right choice; prove the index can serve the query.
      await client.query('SET LOCAL enable_seqscan = off');
      const forced = shopIndexes((await explain()).Plan);
      if (forced.indexes.length > 0 && shops < 10_000) {
        return pass(`${shops} shops: the planner prefers a sequential scan (${ms.toFixed(2)} ms); the query can use ${forced.indexes.join(', ')}`, { data: { ...data, indexes: forced.indexes } });
      }
      return fail(`the search reads shops with a sequential scan${forced.indexes.length === 0 ? ' and no location index can serve it' : ''}`, {
        data,
        hint: 'Check idx_shops_location_category / idx_shops_location exist and are valid (db.indexes-valid); run ANALYZE shops.',
      });
    });
  },
});
