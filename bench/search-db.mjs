// bench/search-db: location search inside PostgreSQL on 1,000,000 shops, through the real
// searchShops() of dist/server/search over one pg connection, with the shop-density grid the
// server uses (src/db/search/density.ts; also timed without it).
// Target: p99 ≤ 5 ms over ≥ 300 mixed queries (10% sparse points, radii 0.1–50 mi, half with a
// category), ≤ 1.1 statements per search, p99 ≤ ×1.5 a `SELECT 1` round trip and ≤ ×0.6 the
// PostGIS KNN anchor. Measured in the same run, on the same connection, interleaved query by
// query so that all share the noise:
//   - `SELECT 1`, the floor (one round trip);
//   - the previous search, one statement per ring from the client (ringQuery, unnamed), as "before";
//   - PostGIS: KNN `<->` on a geography GiST index + `ST_DWithin`, re-ranked by the same
//     haversine (when the postgis extension is available; `apt-get install postgresql-15-postgis-3`);
// and the oracle: every query's answer from the full-radius ring alone (no rings: exact by
// construction, the same haversine and order), against which all three are compared, id by id.
// A handful of queries also run with index scans off (a sequential scan), as before.
import path from 'node:path';
import pg from 'pg';
import { CATEGORIES, ensureBenchDb, metroCentres, prng, SHOPS, US } from './_bench-db.mjs';
import { figure, fmt, median, percentile } from './lib.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const QUERIES = Math.max(300, Number(process.env.BENCH_QUERIES ?? 400));
const PASSES = Math.max(1, Number(process.env.BENCH_PASSES ?? 3));
const SEQ_QUERIES = 6;
const TARGET_P99_MS = 5;
const TARGET_STATEMENTS = 1.1;
const TARGET_VS_SELECT1 = 1.5;
const TARGET_VS_POSTGIS = 0.6;

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
const ids = (rows) => rows.map((r) => Number(r.id)).join(',');

/** A Queryable over `client` that counts the statements sent through it. */
function counting(client) {
  const db = {
    statements: 0,
    query(...args) {
      db.statements += 1;
      return client.query(...args);
    },
  };
  return db;
}

/** The search as it was: one statement per ring, from the client, stopping at the first full ring. */
async function ringLoop(db, q, ringQuery, ringRadii) {
  const radii = ringRadii(q.radiusMiles);
  for (const [i, r] of radii.entries()) {
    const { text, values } = ringQuery(q, r);
    const { rows } = await db.query(text, values);
    if (rows.length >= q.limit || i === radii.length - 1) return rows;
  }
  return [];
}

// The PostGIS anchor's own copy of the shops (kept beside, never in, the shops table the
// migrations own): geography points with a GiST index.
const POSTGIS_TABLE = 'bench_postgis_shops';

async function preparePostgis(client, log) {
  const { rows } = await client.query("SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'");
  if (!rows.length) return { available: false, why: 'the postgis extension is not installed (apt-get install -y postgresql-15-postgis-3)' };
  await client.query('CREATE EXTENSION IF NOT EXISTS postgis');
  const { rows: have } = await client.query('SELECT to_regclass($1) IS NOT NULL AS ok', [POSTGIS_TABLE]);
  if (!have[0].ok) {
    log(`building ${POSTGIS_TABLE} (the PostGIS anchor's geography copy of the shops, once)…`);
    const started = Date.now();
    await client.query(`CREATE TABLE ${POSTGIS_TABLE} AS
      SELECT id, slug, category, latitude, longitude, ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)::geography AS geog
        FROM shops WHERE latitude IS NOT NULL`);
    await client.query(`CREATE INDEX ON ${POSTGIS_TABLE} USING gist (geog)`);
    await client.query(`VACUUM ANALYZE ${POSTGIS_TABLE}`);
    log(`  built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  const { rows: v } = await client.query('SELECT postgis_lib_version() AS v');
  return { available: true, version: v[0].v };
}

/**
 * PostGIS KNN: the 2 × limit nearest by `<->` (sphere distance, in the GiST index's order, the
 * category as a filter), then `ST_DWithin` (sphere, padded by 0.1 %) and the project's haversine
 * cut at the radius and re-rank — so ties and rounding land exactly as in our search. (With
 * `ST_DWithin` inside the index scan instead, the planner reads the whole box with a bitmap
 * scan for large radii: 100,000 entries for 50 miles in a metro.)
 */
function postgisQuery(q, haversineSql) {
  const withCategory = q.category !== undefined;
  const point = 'ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography';
  const text = `SELECT id::int AS id, slug, distance FROM (
      SELECT g.id, g.slug, ${haversineSql('g')} AS distance
        FROM (SELECT id, slug, latitude, longitude, geog FROM ${POSTGIS_TABLE}
               ${withCategory ? 'WHERE category = $5' : ''}
               ORDER BY geog <-> ${point}
               LIMIT 2 * $4::int) g
       WHERE ST_DWithin(g.geog, ${point}, $3::float8 * 1609.344 * 1.001 + 1, false)) c
     WHERE distance <= $3::float8
     ORDER BY distance, slug
     LIMIT $4`;
  const values = [q.latitude, q.longitude, q.radiusMiles, q.limit];
  if (withCategory) values.push(q.category);
  return { text, values };
}

export async function run() {
  const url = await ensureBenchDb();
  const log = (line) => process.stderr.write(`${line}\n`);
  const { searchShops } = await import(path.join(ROOT, 'dist/server/search/search-shops.js'));
  const { ringQuery, ringRadii } = await import(path.join(ROOT, 'dist/db/search/location-sql.js'));
  const { EARTH_RADIUS_MILES } = await import(path.join(ROOT, 'dist/db/search/geo.js'));
  const haversineSql = (t) => `2 * ${EARTH_RADIUS_MILES} * asin(least(1, sqrt(
      power(sin(radians(${t}.latitude - $1::float8) / 2), 2)
      + cos(radians($1::float8)) * cos(radians(${t}.latitude)) * power(sin(radians(${t}.longitude - $2::float8) / 2), 2))))`;
  const client = new pg.Client({ connectionString: url, application_name: 'routergpt bench search-db' });
  await client.connect();
  try {
    const postgis = await preparePostgis(client, log);
    const queries = queryMix();
    const db = counting(client);
    const old = counting(client);
    const noGrid = counting(client);
    // The shop-density grid, read as the server reads it (once, then every 10 minutes).
    const { loadDensityGrid } = await import(path.join(ROOT, 'dist/db/search/density.js'));
    const gridStarted = process.hrtime.bigint();
    const grid = await loadDensityGrid(client);
    const gridMs = ms(gridStarted);

    // The oracle: each query's full-radius ring on its own (exact by construction).
    const oracle = [];
    for (const q of queries) {
      const { text, values } = ringQuery(q, q.radiusMiles);
      oracle.push(ids((await client.query(text, values)).rows));
    }

    // Warm the caches and the plan cache; check every answer against the oracle.
    let exact = 0;
    let oldExact = 0;
    let gisExact = 0;
    const oldStatements = [];
    let noGridExact = 0;
    for (const [i, q] of queries.entries()) {
      if (ids(await searchShops(db, q, grid)) === oracle[i]) exact += 1;
      if (ids(await searchShops(noGrid, q)) === oracle[i]) noGridExact += 1;
      const before = old.statements;
      if (ids(await ringLoop(old, q, ringQuery, ringRadii)) === oracle[i]) oldExact += 1;
      oldStatements.push(old.statements - before);
      if (postgis.available) {
        const { text, values } = postgisQuery(q, haversineSql);
        if (ids((await client.query(text, values)).rows) === oracle[i]) gisExact += 1;
      }
    }

    const search = [];
    const loop = [];
    const gis = [];
    const select1 = [];
    const withoutGrid = [];
    const byQuery = queries.map(() => []);
    db.statements = 0;
    old.statements = 0;
    noGrid.statements = 0;
    for (let pass = 0; pass < PASSES; pass += 1) {
      for (const [i, q] of queries.entries()) {
        let t = process.hrtime.bigint();
        await client.query('SELECT 1');
        select1.push(ms(t));
        t = process.hrtime.bigint();
        await searchShops(db, q, grid);
        const took = ms(t);
        search.push(took);
        byQuery[i].push(took);
        t = process.hrtime.bigint();
        await searchShops(noGrid, q);
        withoutGrid.push(ms(t));
        t = process.hrtime.bigint();
        await ringLoop(old, q, ringQuery, ringRadii);
        loop.push(ms(t));
        if (postgis.available) {
          const { text, values } = postgisQuery(q, haversineSql);
          t = process.hrtime.bigint();
          await client.query(text, values);
          gis.push(ms(t));
        }
      }
    }
    const statementsPerSearch = db.statements / search.length;
    const oldStatementsPerSearch = old.statements / loop.length;
    const p50 = median(search);
    const p99 = percentile(search, 99);
    const s1p99 = percentile(select1, 99);
    const gisP99 = postgis.available ? percentile(gis, 99) : NaN;
    const sparseTimes = queries.flatMap((q, i) => (q.sparse ? byQuery[i] : []));
    const catTimes = queries.flatMap((q, i) => (q.category ? byQuery[i] : []));
    const plainTimes = queries.flatMap((q, i) => (q.category ? [] : byQuery[i]));
    const ringsHist = [1, 2, 3, 4, 5].map((n) => oldStatements.filter((s) => s === n).length);

    // The slowest queries (by their median across passes), with the one statement's plan.
    const { searchQuery, RING_GROWTH } = await import(path.join(ROOT, 'dist/db/search/location-sql.js'));
    const slowest = queries
      .map((q, i) => ({ q, med: median(byQuery[i]), max: Math.max(...byQuery[i]) }))
      .sort((a, b) => b.med - a.med)
      .slice(0, 3);
    const planLines = [];
    for (const s of slowest) {
      // What the search sent: the grid's first ring alone, then (when it was not full) the rest.
      const first = grid.firstRingMiles(s.q.latitude, s.q.longitude, s.q.limit, s.q.category);
      const firstRing = first === undefined ? undefined : ringQuery(s.q, Math.min(first, s.q.radiusMiles));
      const full = firstRing !== undefined && ((await client.query(firstRing.text, firstRing.values)).rows.length >= s.q.limit || first >= s.q.radiusMiles);
      const { text, values } = full ? firstRing : searchQuery(s.q, first === undefined ? undefined : first * RING_GROWTH);
      const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, values);
      const plan = rows[0]['QUERY PLAN'][0];
      const nodes = [];
      const walk = (n) => {
        if (['Index Scan', 'Index Only Scan', 'Bitmap Index Scan', 'Seq Scan'].includes(n['Node Type']) && n['Actual Loops'] > 0) nodes.push(`${n['Index Name'] ?? n['Node Type']} rows=${n['Actual Rows']}`);
        for (const c of n.Plans ?? []) walk(c);
      };
      walk(plan.Plan);
      planLines.push(`slow: ${describe(s.q)} median ${fmt(s.med)} max ${fmt(s.max)}; first ring ${first === undefined ? 'none (no grid estimate)' : `${first.toFixed(2)} mi${full ? '' : ', not full'}`}; rings run: ${nodes.join(', ')}; plan ${plan['Planning Time'].toFixed(2)} ms + exec ${plan['Execution Time'].toFixed(2)} ms`);
    }

    // Sequential-scan baseline for a few queries (slow: every row's distance), and agreement.
    const seqPicks = queries.filter((_, i) => i % Math.floor(queries.length / SEQ_QUERIES) === 3).slice(0, SEQ_QUERIES);
    const seqRatios = [];
    let agree = true;
    for (const q of seqPicks) {
      const indexed = [];
      for (let k = 0; k < 3; k += 1) {
        const t = process.hrtime.bigint();
        await searchShops(client, q, grid);
        indexed.push(ms(t));
      }
      const expected = ids(await searchShops(client, q, grid));
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off; SET LOCAL max_parallel_workers_per_gather = 0');
      const t = process.hrtime.bigint();
      const seqRows = await ringLoop(client, q, ringQuery, ringRadii);
      const seqMs = ms(t);
      await client.query('COMMIT');
      if (ids(seqRows) !== expected) agree = false;
      seqRatios.push({ q, seqMs, indexedMs: median(indexed), ratio: seqMs / median(indexed) });
    }

    const allExact = exact === queries.length && noGridExact === queries.length && oldExact === queries.length && (!postgis.available || gisExact === queries.length);
    const vsSelect1 = p99 / s1p99;
    const vsGis = p99 / gisP99;
    const pass = p99 <= TARGET_P99_MS && agree && allExact && statementsPerSearch <= TARGET_STATEMENTS && vsSelect1 <= TARGET_VS_SELECT1 && (!postgis.available || vsGis <= TARGET_VS_POSTGIS);
    const row = (label, values) => `${label.padEnd(34)} p50 ${fmt(median(values)).padStart(9)}   p99 ${fmt(percentile(values, 99)).padStart(9)}   max ${fmt(Math.max(...values))}`;
    const load = (await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ');
    // Per pass (each pass is the whole query set once): p99 ratios against the same pass's baselines.
    const perPass = (xs) => Array.from({ length: PASSES }, (_, k) => xs.slice(k * queries.length, (k + 1) * queries.length));
    const passP99 = (xs) => perPass(xs).map((p) => percentile(p, 99));
    const [searchP99s, s1P99s, gisP99s] = [passP99(search), passP99(select1), postgis.available ? passP99(gis) : []];
    const figures = [
      figure('search-db.statements', 'statements per search (mixed query set)', [statementsPerSearch], { unit: '', target: { op: '<=', value: TARGET_STATEMENTS }, baseline: { label: 'a statement per ring (before)', median: oldStatementsPerSearch, unit: '' }, note: 'counted over all passes' }),
      figure('search-db.p99-vs-select1', 'in-DB search p99 ÷ `SELECT 1` p99', searchP99s.map((v, k) => v / s1P99s[k]), { target: { op: '<=', value: TARGET_VS_SELECT1 }, baseline: { label: '`SELECT 1` p99', median: median(s1P99s), unit: 'ms' } }),
      postgis.available
        ? figure('search-db.p99-vs-postgis', 'in-DB search p99 ÷ PostGIS KNN p99', searchP99s.map((v, k) => v / gisP99s[k]), { target: { op: '<=', value: TARGET_VS_POSTGIS }, baseline: { label: `PostGIS ${postgis.version} KNN p99`, median: median(gisP99s), unit: 'ms' } })
        : figure('search-db.p99-vs-postgis', 'in-DB search p99 ÷ PostGIS KNN p99', [], { note: `skipped: ${postgis.why}` }),
      figure('search-db.p99', 'in-DB search p99', searchP99s, { unit: 'ms', target: { op: '<=', value: TARGET_P99_MS } }),
      figure('search-db.oracle', 'oracle-exact share (searchShops, before, PostGIS; sequential-scan agreement)', [agree ? Math.min(exact, oldExact, postgis.available ? gisExact : exact) / queries.length : 0], { unit: '', target: { op: '>=', value: 1 }, note: `${exact}/${queries.length} id by id; before ${oldExact}; PostGIS ${postgis.available ? gisExact : 'n/a'}; sequential scan ${agree ? 'agrees' : 'DIFFERS'}` }),
    ];
    return {
      name: 'search-db',
      figures,
      target: `searchShops on ${SHOPS.toLocaleString('en-US')} shops, ${queries.length} mixed queries: p99 ≤ ${TARGET_P99_MS} ms, ≤ ${TARGET_STATEMENTS} statements/search, p99 ≤ ×${TARGET_VS_SELECT1} SELECT 1, ≤ ×${TARGET_VS_POSTGIS} PostGIS KNN, oracle-exact`,
      runs: PASSES,
      pass,
      data: { p50, p99, s1p99, gisP99, loopP99: percentile(loop, 99), statementsPerSearch, oldStatementsPerSearch, vsSelect1, vsGis, exact, oldExact, gisExact, queries: queries.length },
      lines: [
        `${queries.length} queries × ${PASSES} passes = ${search.length} timed searches over one connection (10% sparse, half with a category, radii 0.1–50 mi, limit 20); load average ${load}`,
        row('searchShops (one statement)', search),
        row('  with category', catTimes),
        row('  without category', plainTimes),
        row('  sparse points', sparseTimes),
        row('  without the density grid', withoutGrid),
        row('before: a statement per ring', loop),
        postgis.available ? row(`PostGIS ${postgis.version} KNN + ST_DWithin`, gis) : `PostGIS KNN: skipped — ${postgis.why}`,
        row('SELECT 1 (floor)', select1),
        `density grid: ${grid.cells.toLocaleString('en-US')} cells of 0.05° for ${grid.shops.toLocaleString('en-US')} shops, read in ${fmt(gridMs)} (once; the server reads it again every 10 minutes); without it ${(noGrid.statements / withoutGrid.length).toFixed(2)} statements per search`,
        `statements per search: ${statementsPerSearch.toFixed(3)} (target ≤ ${TARGET_STATEMENTS}; plus one version() probe per connection); before ${oldStatementsPerSearch.toFixed(2)} (rings run: ${ringsHist.map((n, i) => `${n}×${i + 1}`).filter((s) => !s.startsWith('0×')).join(', ')})`,
        `ratios of p99: search ÷ SELECT 1 ×${vsSelect1.toFixed(2)} (target ≤ ×${TARGET_VS_SELECT1}); ÷ PostGIS KNN ${postgis.available ? `×${vsGis.toFixed(2)}` : 'n/a'} (target ≤ ×${TARGET_VS_POSTGIS}); ÷ before ×${(p99 / percentile(loop, 99)).toFixed(2)}`,
        `oracle (the full-radius ring alone): searchShops ${exact}/${queries.length} exact (without the grid ${noGridExact}), before ${oldExact}/${queries.length}, PostGIS ${postgis.available ? `${gisExact}/${queries.length}` : 'n/a'}`,
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
