import { withTransaction } from '../../db/pool.js';
import { searchQuery } from '../../db/search/location-sql.js';
import { plural } from '../../lib/plural.js';
import { defineCheck, pass, skip, warn } from '../define-check.js';

interface Statement {
  query: string;
  calls: string;
  mean_ms: number;
  total_ms: number;
}

/**
 * The monthly review's "slow queries". With pg_stat_statements loaded (shared_preload_libraries
 * and CREATE EXTENSION), the statements of this database whose mean time is over
 * `params.budget_ms` (default 100 ms) among those called at least `params.min_calls` times
 * (default 10), slowest total first; the text shown is the normalised one ($1 for values: no
 * customer data). Without it, the product's own hot query — the location search, every ring the
 * server runs — is EXPLAIN ANALYZEd against the same budget, and the message says how to load the
 * extension.
 */
export default defineCheck({
  id: 'db.slow-queries',
  title: 'Slow queries (monthly review)',
  needs: ['db'],
  stages: [],
  tags: ['maintenance'],
  params: ['budget_ms', 'min_calls'],
  async run({ db, params }) {
    const budget = Number(params?.budget_ms ?? 100);
    const minCalls = Number(params?.min_calls ?? 10);
    const { rows: [ext] } = await db!.query<{ installed: boolean; loaded: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS installed,
              coalesce(current_setting('shared_preload_libraries', true), '') ~ '(^|[ ,])pg_stat_statements($|[ ,])' AS loaded`,
    );
    if (ext?.installed && ext.loaded) {
      const { rows } = await db!.query<Statement>(
        `SELECT left(regexp_replace(s.query, '\\s+', ' ', 'g'), 160) AS query, s.calls::text AS calls,
                round(s.mean_exec_time::numeric, 1)::float8 AS mean_ms, round(s.total_exec_time::numeric)::float8 AS total_ms
           FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
          WHERE d.datname = current_database() AND s.calls >= $1 AND s.mean_exec_time > $2
            AND s.query !~* '^\\s*(BEGIN|COMMIT|ROLLBACK|SET|SHOW|DISCARD)\\b'
          ORDER BY s.total_exec_time DESC LIMIT 10`,
        [minCalls, budget],
      );
      const data = { source: 'pg_stat_statements', budgetMs: budget, minCalls, slow: rows.length };
      if (rows.length === 0) return pass(`pg_stat_statements: no statement called ${minCalls}+ times averages over ${budget} ms`, { data });
      return warn(`pg_stat_statements: ${plural(rows.length, 'statement')} average over ${budget} ms`, {
        details: rows.map((r) => `${r.mean_ms} ms mean × ${r.calls} calls (${r.total_ms} ms total): ${r.query}`),
        data,
        hint: 'EXPLAIN (ANALYZE, BUFFERS) the slowest one with typical values; a missing index or a stale plan (ANALYZE the table) is the usual cause.',
      });
    }
    const how = ext?.loaded ? 'CREATE EXTENSION pg_stat_statements' : "shared_preload_libraries = 'pg_stat_statements' (a restart) and CREATE EXTENSION pg_stat_statements";
    const shops = await db!.query<{ ok: boolean }>(`SELECT to_regclass('public.shops') IS NOT NULL AND EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'shops' AND column_name = 'latitude') AS ok`);
    if (!shops.rows[0]?.ok) return skip(`pg_stat_statements is not enabled (${how}), and the location search cannot be explained before migration 006`);
    // The statement the server's searchShops() sends for a Tempe search, with and without a
    // category (db.search-query-plan judges their plans ring by ring).
    const plans = await withTransaction(db!, async (client) => {
      const out: Array<{ search: string; ms: number; rows: number }> = [];
      const tempe = { latitude: 33.4255, longitude: -111.94, radiusMiles: 10, limit: 20 };
      for (const [search, q] of [['any category', searchQuery(tempe)], ['category "barbershop"', searchQuery({ ...tempe, category: 'barbershop' })]] as const) {
        const { rows } = await client.query<{ 'QUERY PLAN': Array<{ 'Execution Time': number; Plan: { 'Actual Rows'?: number } }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${q.text}`, q.values);
        const e = rows[0]!['QUERY PLAN'][0]!;
        out.push({ search, ms: e['Execution Time'], rows: e.Plan['Actual Rows'] ?? 0 });
      }
      return out;
    });
    const slow = plans.filter((p) => p.ms > budget);
    const details = plans.map((p) => `location search, ${p.search}: ${p.ms.toFixed(1)} ms, ${plural(p.rows, 'row')}`);
    const data = { source: 'explain-analyze', budgetMs: budget, slow: slow.length };
    const note = `pg_stat_statements is not enabled (${how}): the location search explained instead`;
    if (slow.length) return warn(`${note}; ${plural(slow.length, 'search')} over ${budget} ms`, { details, data, hint: 'Run `routergpt verify --only db.search-query-plan` for the plan; enable pg_stat_statements to see every slow statement.' });
    return pass(`${note}; every search within ${budget} ms`, { details, data });
  },
});
