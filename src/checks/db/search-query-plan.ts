import { withTransaction } from '../../db/pool.js';
import { ringQueries, type LocationSearch, type RingQuery } from '../../db/search/location-sql.js';
import { defineCheck, fail, pass, warn } from '../define-check.js';

/** Below this many shops a budget overrun is a warning: the plan matters, the time is noise. */
const SMALL_TABLE = 10_000;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

interface Explained {
  Plan: PlanNode;
  'Execution Time': number;
}

/** The API's default page size (SEARCH_DEFAULT_LIMIT): the LIMIT the server sends unless asked otherwise. */
const LIMIT = 20;

function walk(node: PlanNode, out: PlanNode[] = []): PlanNode[] {
  out.push(node);
  for (const child of node.Plans ?? []) walk(child, out);
  return out;
}

/** Index names used on shops, and whether shops is read with a sequential scan. */
function shopIndexes(plan: PlanNode): { seq: boolean; indexes: string[] } {
  const nodes = walk(plan);
  const seq = nodes.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'shops');
  const indexes = [...new Set(nodes.filter((n) => n['Index Name']?.startsWith('idx_shops_')).map((n) => n['Index Name']!))];
  return { seq, indexes };
}

/** One server query, explained: which search it belongs to, its ring, time, rows and indexes. */
interface RingPlan {
  search: string;
  ring: RingQuery;
  ms: number;
  rows: number;
  seq: boolean;
  indexes: string[];
}

/**
 * What the server's search would cost here: it runs the rings in order and stops at the first
 * that returns a full page, so only those rings' times add up (the rest are explained for
 * their plans — another location can need them — but are not part of this search's latency).
 */
function served(plans: RingPlan[]): RingPlan[] {
  const answering = plans.findIndex((p) => p.rows >= LIMIT);
  return answering === -1 ? plans : plans.slice(0, answering + 1);
}

const describeRing = (p: RingPlan) => `${p.search}, ${p.ring.radiusMiles} mi ring`;

export default defineCheck({
  id: 'db.search-query-plan',
  title: 'Location search uses an index, within budget',
  needs: ['db'],
  stages: ['post'],
  slow: true,
  params: ['latitude', 'longitude', 'radiusMiles', 'category', 'budgetMs'],
  async run({ db, params }) {
    const pool = db!;
    const base: LocationSearch = {
      latitude: Number(params?.latitude ?? 33.4255),
      longitude: Number(params?.longitude ?? -111.94),
      radiusMiles: Number(params?.radiusMiles ?? 10),
      limit: LIMIT,
    };
    const category = String(params?.category ?? 'barbershop');
    const budgetMs = Number(params?.budgetMs ?? 50);
    // The very queries the server's searchShops() issues — every ring, with and without a
    // category (different SQL texts, different plans). EXPLAIN ANALYZE executes them: read-only.
    const searches: Array<[string, LocationSearch]> = [
      [`category "${category}"`, { ...base, category }],
      ['any category', base],
    ];
    return withTransaction(pool, async (client) => {
      const explain = async (q: RingQuery) => {
        const { rows } = await client.query<{ 'QUERY PLAN': Explained[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${q.text}`, q.values);
        return rows[0]!['QUERY PLAN'][0]!;
      };
      const bySearch: RingPlan[][] = [];
      for (const [name, search] of searches) {
        const plans: RingPlan[] = [];
        for (const ring of ringQueries(search)) {
          // Twice, keeping the faster: the first run also pays for cold pages and a busy machine.
          const [a, b] = [await explain(ring), await explain(ring)];
          const e = b['Execution Time'] < a['Execution Time'] ? b : a;
          plans.push({ search: name, ring, ms: e['Execution Time'], rows: e.Plan['Actual Rows'] ?? 0, ...shopIndexes(e.Plan) });
        }
        bySearch.push(plans);
      }
      const all = bySearch.flat();
      const { rows: sizeRows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM shops');
      const shops = sizeRows[0]?.n ?? 0;
      const ranHere = new Set(bySearch.flatMap(served));
      const slowest = bySearch
        .map((plans) => ({ search: plans[0]!.search, ms: served(plans).reduce((sum, p) => sum + p.ms, 0) }))
        .reduce((a, b) => (b.ms > a.ms ? b : a));
      const indexes = [...new Set(all.flatMap((p) => p.indexes))];
      const details = all.map(
        (p) => `${describeRing(p)}: ${p.ms.toFixed(2)} ms, ${p.rows} row(s), ${p.seq ? 'sequential scan' : p.indexes.join(', ') || 'no shops index'}${ranHere.has(p) ? '' : ' (not run here: a smaller ring is full)'}`,
      );
      const data = { executionMs: slowest.ms, indexes, shops, queries: all.map((p) => ({ search: p.search, radiusMiles: p.ring.radiusMiles, executionMs: p.ms, rows: p.rows, indexes: p.indexes, seqScan: p.seq })) };
      if (slowest.ms > budgetMs && shops < SMALL_TABLE) {
        // On a table this small the plan is what matters; the time measures the machine's load.
        return warn(`search (${slowest.search}) took ${slowest.ms.toFixed(1)} ms (budget ${budgetMs} ms) on only ${shops} shops: the machine is busy, not the query slow`, { details, data, hint: 'Run the check again when the machine is quieter; on production-sized data the budget is enforced.' });
      }
      if (slowest.ms > budgetMs) {
        return fail(`search (${slowest.search}) took ${slowest.ms.toFixed(1)} ms (budget ${budgetMs} ms)`, { details, data, hint: 'Run ANALYZE shops; check the location indexes with db.indexes-valid.' });
      }
      const scanned = all.filter((p) => p.seq || p.indexes.length === 0);
      if (scanned.length === 0) return pass(`${all.length} queries use ${indexes.join(', ')}; the search takes ${slowest.ms.toFixed(2)} ms at most here`, { details, data });
      // On a small table a sequential scan is the planner's right choice; prove the index can serve each such query.
      await client.query('SET LOCAL enable_seqscan = off');
      const unserved: RingPlan[] = [];
      const forcedIndexes = new Set(indexes);
      for (const p of scanned) {
        const forced = shopIndexes((await explain(p.ring)).Plan);
        if (forced.indexes.length === 0) unserved.push(p);
        for (const i of forced.indexes) forcedIndexes.add(i);
      }
      if (unserved.length === 0 && shops < 10_000) {
        return pass(`${shops} shops: the planner prefers a sequential scan for ${scanned.length} of ${all.length} queries (${slowest.ms.toFixed(2)} ms); each can use an index (${[...forcedIndexes].join(', ')})`, {
          details,
          data: { ...data, indexes: [...forcedIndexes] },
        });
      }
      const failing = unserved.length > 0 ? unserved : scanned;
      return fail(`the search reads shops with a sequential scan${unserved.length > 0 ? ' and no location index can serve it' : ''} (${failing.map(describeRing).join('; ')})`, {
        details,
        data,
        hint: 'Check idx_shops_location_category / idx_shops_location exist and are valid (db.indexes-valid); run ANALYZE shops.',
      });
    });
  },
});
