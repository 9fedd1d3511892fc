// bench/search-db: location search inside PostgreSQL on 1,000,000 shops, through the real
// searchShops() of dist/server/search over one pg connection.
// Target: p99 ≤ 5 ms over ≥ 300 mixed queries (10% sparse points, radii 0.1–50 mi, half with a
// category). Baselines in the same run, on the same connection: a `SELECT 1` round trip
// (interleaved with the searches, so both share the noise), and the same search SQL with index
// scans switched off (a sequential scan) for a handful of queries, whose results must agree.
import path from 'node:path';
import pg from 'pg';
import { CATEGORIES, ensureBenchDb, metroCentres, prng, SHOPS, US } from './_bench-db.mjs';
import { fmt, median, percentile } from './lib.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const QUERIES = Math.max(300, Number(process.env.BENCH_QUERIES ?? 400));
const PASSES = Math.max(1, Number(process.env.BENCH_PASSES ?? 3));
const SEQ_QUERIES = 6;
const TARGET_P99_MS = 5;

function pickWeighted(rand, items, weightOf) {
  let r = rand();
  for (const item of items) {
    r -= weightOf(item);
    if (r < 0) return item;
  }
  return items[items.length - 1];
}

/** The query mix: 10% sparse points, 90% near a metro (by its share), radii log-uniform 0.1–50 mi, half with a category. */
export function queryMix(count = QUERIES, seed = 7) {
  const rand = prng(seed);
  const centres = metroCentres();
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const queries = [];
  for (let i = 0; i < count; i += 1) {
    const sparse = i % 10 === 0;
    let latitude;
    let longitude;
    if (sparse) {
      latitude = US.latMin + rand() * (US.latMax - US.latMin);
      longitude = US.lonMin + rand() * (US.lonMax - US.lonMin);
    } else {
      const m = pickWeighted(rand, centres, (c) => c.share);
      const deg = m.spreadMiles / 69.05;
      latitude = m.lat + normal() * deg;
      longitude = m.lon + (normal() * deg) / Math.cos((m.lat * Math.PI) / 180);
    }
    // Both ends of the range appear; in between, log-uniform (small radii are as common as large).
    const radiusMiles = i % 50 === 1 ? 50 : i % 50 === 2 ? 0.1 : Math.round(0.1 * (500 ** rand()) * 100) / 100;
    const category = i % 2 === 1 ? pickWeighted(rand, CATEGORIES, ([, p]) => p)[0] : undefined;
    queries.push({ latitude, longitude, radiusMiles, category, limit: 20, sparse });
  }
  return queries;
}

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const describe = (q) => `(${q.latitude.toFixed(3)}, ${q.longitude.toFixed(3)}) r=${q.radiusMiles} mi${q.category ? ` ${q.category}` : ''}${q.sparse ? ' sparse' : ''}`;

export async function run() {
  const url = await ensureBenchDb();
  const { searchShops } = await import(path.join(ROOT, 'dist/server/search/search-shops.js'));
  const { ringQuery } = await import(path.join(ROOT, 'dist/db/search/location-sql.js'));
  const client = new pg.Client({ connectionString: url, application_name: 'routergpt bench search-db' });
  await client.connect();
  try {
    const queries = queryMix();
    for (const q of queries) await searchShops(client, q); // warm the caches and the plan cache
    const search = [];
    const select1 = [];
    const byQuery = queries.map(() => []);
    for (let pass = 0; pass < PASSES; pass += 1) {
      for (const [i, q] of queries.entries()) {
        let t = process.hrtime.bigint();
        await client.query('SELECT 1');
        select1.push(ms(t));
        t = process.hrtime.bigint();
        await searchShops(client, q);
        const took = ms(t);
        search.push(took);
        byQuery[i].push(took);
      }
    }
    const p50 = median(search);
    const p99 = percentile(search, 99);
    const s1p50 = median(select1);
    const s1p99 = percentile(select1, 99);
    const sparseTimes = queries.flatMap((q, i) => (q.sparse ? byQuery[i] : []));
    const catTimes = queries.flatMap((q, i) => (q.category ? byQuery[i] : []));
    const plainTimes = queries.flatMap((q, i) => (q.category ? [] : byQuery[i]));

    // The slowest queries (by their median across passes), with their plans, for diagnosis.
    const slowest = queries
      .map((q, i) => ({ q, med: median(byQuery[i]), max: Math.max(...byQuery[i]) }))
      .sort((a, b) => b.med - a.med)
      .slice(0, 3);
    // The full-radius ring: the widest query this search can issue.
    const explain = async (q) => {
      const { text, values } = ringQuery(q, q.radiusMiles);
      return { sql: text, values };
    };
    const planLines = [];
    for (const s of slowest) {
      const { sql, values } = await explain(s.q);
      const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, values);
      const plan = rows[0]['QUERY PLAN'][0];
      const nodes = [];
      const walk = (n) => {
        if (['Index Scan', 'Index Only Scan', 'Bitmap Index Scan', 'Bitmap Heap Scan', 'Seq Scan'].includes(n['Node Type'])) nodes.push(`${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''} rows=${n['Actual Rows']}`);
        for (const c of n.Plans ?? []) walk(c);
      };
      walk(plan.Plan);
      planLines.push(`slow: ${describe(s.q)} median ${fmt(s.med)} max ${fmt(s.max)}; plan ${nodes.join(' → ')}; exec ${plan['Execution Time'].toFixed(2)} ms`);
    }

    // Sequential-scan baseline for a few queries (slow: every row's distance), and agreement.
    const seqPicks = queries.filter((_, i) => i % Math.floor(queries.length / SEQ_QUERIES) === 3).slice(0, SEQ_QUERIES);
    const seqRatios = [];
    let agree = true;
    for (const q of seqPicks) {
      const indexed = [];
      for (let k = 0; k < 3; k += 1) {
        const t = process.hrtime.bigint();
        await searchShops(client, q);
        indexed.push(ms(t));
      }
      const expected = (await searchShops(client, q)).map((h) => h.id).join(',');
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off; SET LOCAL max_parallel_workers_per_gather = 0');
      const t = process.hrtime.bigint();
      const seqRows = await searchShops(client, q);
      const seqMs = ms(t);
      await client.query('COMMIT');
      if (seqRows.map((h) => h.id).join(',') !== expected) agree = false;
      seqRatios.push({ q, seqMs, indexedMs: median(indexed), ratio: seqMs / median(indexed) });
    }

    const pass = p99 <= TARGET_P99_MS && agree;
    return {
      name: 'search-db',
      target: `searchShops p99 ≤ ${TARGET_P99_MS} ms on ${SHOPS.toLocaleString('en-US')} shops, ${queries.length} mixed queries`,
      runs: PASSES,
      pass,
      lines: [
        `${queries.length} queries × ${PASSES} passes = ${search.length} timed searches over one connection (10% sparse, half with a category, radii 0.1–50 mi, limit 20)`,
        `searchShops          p50 ${fmt(p50).padStart(9)}   p99 ${fmt(p99).padStart(9)}   max ${fmt(Math.max(...search))}`,
        `  with category      p50 ${fmt(median(catTimes)).padStart(9)}   p99 ${fmt(percentile(catTimes, 99)).padStart(9)}`,
        `  without category   p50 ${fmt(median(plainTimes)).padStart(9)}   p99 ${fmt(percentile(plainTimes, 99)).padStart(9)}`,
        `  sparse points      p50 ${fmt(median(sparseTimes)).padStart(9)}   p99 ${fmt(percentile(sparseTimes, 99)).padStart(9)}`,
        `SELECT 1 (baseline)  p50 ${fmt(s1p50).padStart(9)}   p99 ${fmt(s1p99).padStart(9)}`,
        `ratio search ÷ SELECT 1: p50 ×${(p50 / s1p50).toFixed(1)}, p99 ×${(p99 / s1p99).toFixed(1)}`,
        `sequential scan (indexes off) on ${seqRatios.length} queries: median ${fmt(median(seqRatios.map((r) => r.seqMs)))} vs ${fmt(median(seqRatios.map((r) => r.indexedMs)))} indexed → indexed is ×${median(seqRatios.map((r) => r.ratio)).toFixed(0)} faster (min ×${Math.min(...seqRatios.map((r) => r.ratio)).toFixed(0)}); results ${agree ? 'identical' : 'DIFFER'}`,
        ...planLines,
      ],
    };
  } finally {
    await client.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run();
  console.log(`${result.name}: ${result.target} (${result.runs} runs) → ${result.pass ? 'PASS' : 'MISS'}`);
  for (const line of result.lines) console.log(`  ${line}`);
}
