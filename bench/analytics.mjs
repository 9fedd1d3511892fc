// bench/analytics: `routergpt metrics --since 30d` and `routergpt analytics --since 7d` (the real
// CLI, a process per run) on a throwaway database of ≈ 10,000,000 analytics events
// (_analytics-db.mjs), against the bare SQL of the checklist's queries run with psql in the same
// run, interleaved so both share the machine's noise.
// Target: each command's median within 2× of its bare-SQL baseline, and under 2 s.
//
// Baselines (one psql process each, like the CLI's one process):
// - analytics: the checklist's five queries as an operator runs them — router_usage_summary and
//   router_conversion_funnel for the last 7 days, router_shop_discovery's top 20, the events of the
//   last hour, the time between events of the last 24 hours (in the form PostgreSQL accepts).
// - metrics: the checklist has no SQL for its Success Metrics; the baseline is what an operator
//   would run by hand for them over 30 days from the same views and tables — router_usage_summary
//   and router_conversion_funnel for 30 days (searches, bookings, errors, mean latency), the
//   bookings by session source, the mean rating, the refusals.
// Also reported (not targeted): each command's core in-process (successMetrics / the analytics
// queries on one pg connection, no process start), which is what the CLI adds its start-up to.
// Cold and warm (migration 012's rollups): cold is each command's first run with the rollups
// emptied (it builds them from 10 M events, as the first run after an upgrade does); warm is
// every later run (the rollups brought up to date, the rest read raw).
// Watch overhead: one watch interval's evaluation (windowFigures of the current 15-minute window
// and of its baseline one week earlier, as routergpt watch runs them) in-process, median of
// BENCH_WATCH_RUNS (default 9), against a bare SELECT count(*) over the same two windows.
// BENCH_RUNS (default 7) timed runs each after one warm-up; BENCH_KEEP=1 keeps the database;
// BENCH_REUSE=1 reuses a kept one (migrated up to this release first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { analyticsBenchUrl, createAnalyticsBenchDb, dropAnalyticsBenchDb } from './_analytics-db.mjs';
import { figure, fmt, median } from './lib.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'routergpt.js');
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 7));
const TARGET_RATIO = 2;
const TARGET_MS = 2000;
const WATCH_RUNS = Math.max(3, Number(process.env.BENCH_WATCH_RUNS ?? 9));
const ROLLUP_TABLES = ['router_analytics_hourly', 'router_analytics_hourly_sessions', 'router_analytics_hourly_gaps', 'router_analytics_hourly_shops', 'router_search_outcomes', 'router_search_delegations', 'router_funnel_hourly'];

/** A kept database (BENCH_KEEP=1 earlier), migrated to this release; undefined if there is none. */
async function reuseAnalyticsBenchDb() {
  const { url } = analyticsBenchUrl();
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch {
    return undefined;
  }
  try {
    const { createPool } = await import(path.join(ROOT, 'dist/db/pool.js'));
    const { loadMigrations } = await import(path.join(ROOT, 'dist/db/migrator/files.js'));
    const { migrateUp } = await import(path.join(ROOT, 'dist/db/migrator/migrator.js'));
    const pool = createPool({ connectionString: url, max: 1 });
    try {
      await migrateUp({ pool, migrations: loadMigrations(path.join(ROOT, 'migrations')), lockTimeoutMs: 5000, lockWaitMs: 30_000, appliedBy: 'bench' });
    } finally {
      await pool.end();
    }
    const { rows } = await client.query(
      `SELECT (SELECT count(*) FROM router_analytics) AS events, (SELECT count(*) FROM router_analytics WHERE synthetic) AS synthetic,
              (SELECT count(*) FROM bookings) AS bookings, (SELECT count(*) FROM chat_sessions) AS sessions,
              (SELECT count(*) FROM router_feedback) AS feedback, (SELECT count(*) FROM router_refusals) AS refusal_rows,
              pg_size_pretty(pg_total_relation_size('router_analytics')) AS size`,
    );
    return { url, counts: rows[0], loadSeconds: 0, reused: true };
  } finally {
    await client.end();
  }
}

/** Empty the rollups, as a database just migrated to 012 has them. */
async function emptyRollups(client) {
  await client.query(`TRUNCATE ${ROLLUP_TABLES.join(', ')}`);
  await client.query('UPDATE router_analytics_rollup_state SET hourly_until = NULL, outcomes_until = NULL, funnel_until = NULL, refreshed_at = NULL');
}

const CHECKLIST_ANALYTICS_SQL = `
SELECT * FROM router_usage_summary WHERE date >= CURRENT_DATE - 7 ORDER BY date DESC;
SELECT * FROM router_conversion_funnel WHERE date >= CURRENT_DATE - 7 ORDER BY date DESC;
SELECT * FROM router_shop_discovery WHERE times_discovered > 0 ORDER BY times_discovered DESC LIMIT 20;
SELECT event_type, COUNT(*) FROM router_analytics WHERE created_at > NOW() - INTERVAL '1 hour' GROUP BY event_type;
SELECT event_type, avg(extract(epoch FROM gap)) AS avg_time_between_events
  FROM (SELECT event_type, created_at - lag(created_at) OVER (PARTITION BY session_id ORDER BY created_at) AS gap
          FROM router_analytics WHERE created_at > NOW() - INTERVAL '24 hours') g
 GROUP BY event_type;
`;

const HAND_METRICS_SQL = `
SELECT * FROM router_usage_summary WHERE date >= CURRENT_DATE - 30 ORDER BY date DESC;
SELECT * FROM router_conversion_funnel WHERE date >= CURRENT_DATE - 30 ORDER BY date DESC;
SELECT cs.source, count(*) FROM bookings b LEFT JOIN chat_sessions cs ON cs.id = b.session_id
 WHERE b.created_at >= NOW() - INTERVAL '30 days' AND NOT b.synthetic GROUP BY cs.source;
SELECT count(*), avg(rating) FROM router_feedback WHERE updated_at >= NOW() - INTERVAL '30 days' AND NOT synthetic;
SELECT status, sum(count) FROM router_refusals WHERE minute >= NOW() - INTERVAL '30 days' AND NOT synthetic GROUP BY status;
`;

/** Wall time of one process, ms; exit codes in `ok` are fine (metrics exits 1 when a target is missed). */
function time(cmd, args, options, ok = [0]) {
  const started = process.hrtime.bigint();
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
  if (!ok.includes(result.status)) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}: ${String(result.stderr).slice(0, 500)}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function timeAsync(fn) {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

export async function run() {
  const loadBefore = os.loadavg()[0];
  const loaded = (process.env.BENCH_REUSE === '1' && (await reuseAnalyticsBenchDb())) || (await createAnalyticsBenchDb());
  const { url, counts } = loaded;
  try {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'routergpt-bench-analytics-'));
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', DATABASE_URL: url };
    const cli = (args) => time(process.execPath, [BIN, '--env', 'prod', ...args], { cwd, env }, [0, 1]);
    const psql = (sql) => time('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], { env });
    const { successMetrics } = await import(path.join(ROOT, 'dist/db/analytics/metrics.js'));
    const { loadAnalytics } = await import(path.join(ROOT, 'dist/db/analytics/load.js'));
    const { refreshAnalyticsRollups, readAnalyticsRollupState } = await import(path.join(ROOT, 'dist/db/analytics/rollups.js'));
    const { windowFigures } = await import(path.join(ROOT, 'dist/db/analytics/watch.js'));
    const client = new pg.Client({ connectionString: url, application_name: 'routergpt bench analytics core' });
    await client.connect();
    // The cores as the commands run them: refresh, then read the rollups.
    const coreMetrics = () => timeAsync(async () => successMetrics(client, { since: new Date(Date.now() - 30 * 86_400_000), rollups: await refreshAnalyticsRollups(client) }));
    const coreAnalytics = () =>
      timeAsync(async () => {
        const w = { since: new Date(Date.now() - 7 * 86_400_000), until: new Date() };
        await loadAnalytics(client, w, { funnelWindowHours: 24, shops: 20, rollups: await refreshAnalyticsRollups(client) });
      });
    const s = { metrics: [], metricsSql: [], metricsCore: [], analytics: [], analyticsSql: [], analyticsCore: [], watch: [], watchSql: [] };
    const cold = {};
    try {
      // Cold: each command's first run, building the rollups from nothing; its bare SQL right after.
      await emptyRollups(client);
      cold.metrics = cli(['metrics', '--since', '30d']);
      cold.metricsSql = psql(HAND_METRICS_SQL);
      await emptyRollups(client);
      cold.analytics = cli(['analytics', '--since', '7d']);
      cold.analyticsSql = psql(CHECKLIST_ANALYTICS_SQL);
      // Warm-up: the caches (shared_buffers and the OS's), once each.
      cli(['metrics', '--since', '30d']);
      psql(HAND_METRICS_SQL);
      cli(['analytics', '--since', '7d']);
      psql(CHECKLIST_ANALYTICS_SQL);
      // Watch: the last 15 minutes of the data and the same window a week earlier (its baseline).
      const { rows: last } = await client.query('SELECT max(created_at) AS t FROM router_analytics');
      const to = new Date(last[0].t);
      const current = { from: new Date(to.getTime() - 15 * 60_000), to };
      const baseline = { from: new Date(current.from.getTime() - 7 * 86_400_000), to: new Date(to.getTime() - 7 * 86_400_000) };
      const count = (w) => client.query('SELECT count(*) FROM router_analytics WHERE created_at >= $1 AND created_at < $2', [w.from, w.to]);
      await windowFigures(client, current);
      for (let i = 0; i < WATCH_RUNS; i += 1) {
        s.watchSql.push(await timeAsync(async () => { await count(current); await count(baseline); }));
        // As the watch loop runs them: the current window raw, the baseline through the rollups as the last refresh left them.
        s.watch.push(await timeAsync(async () => { await windowFigures(client, current); await windowFigures(client, baseline, await readAnalyticsRollupState(client)); }));
      }
      for (let i = 0; i < RUNS; i += 1) {
        s.metricsSql.push(psql(HAND_METRICS_SQL));
        s.metrics.push(cli(['metrics', '--since', '30d']));
        s.metricsCore.push(await coreMetrics());
        s.analyticsSql.push(psql(CHECKLIST_ANALYTICS_SQL));
        s.analytics.push(cli(['analytics', '--since', '7d']));
        s.analyticsCore.push(await coreAnalytics());
      }
    } finally {
      await client.end();
    }
    const m = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)]));
    const rows = [
      ['routergpt metrics --since 30d', m.metrics, m.metricsSql],
      ['routergpt analytics --since 7d', m.analytics, m.analyticsSql],
    ];
    const pass = rows.every(([, cmd, base]) => cmd <= TARGET_RATIO * base && cmd < TARGET_MS);
    const { rows: sizes } = await (async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return await c.query(`SELECT pg_size_pretty(sum(pg_total_relation_size(t::regclass))) AS size FROM unnest($1::text[]) t`, [ROLLUP_TABLES]);
      } finally {
        await c.end();
      }
    })();
    const spread = (v) => `${fmt(Math.min(...v))}–${fmt(Math.max(...v))}`;
    return {
      name: 'analytics',
      target: `metrics --since 30d and analytics --since 7d each ≤ ${TARGET_RATIO}× the bare SQL (psql) and < ${TARGET_MS / 1000} s, on ${Number(counts.events).toLocaleString('en-US')} events`,
      runs: RUNS,
      pass,
      figures: [
        figure('analytics.metrics-vs-sql', '`metrics --since 30d` ÷ the bare SQL by `psql` (10 M events)', s.metrics.map((ms, i) => ms / s.metricsSql[i]), { target: { op: '<=', value: TARGET_RATIO }, baseline: { label: 'bare SQL (psql)', median: m.metricsSql, unit: 'ms' } }),
        figure('analytics.metrics-ms', '`metrics --since 30d` wall time (10 M events)', s.metrics, { unit: 'ms', target: { op: '<', value: TARGET_MS } }),
        figure('analytics.analytics-vs-sql', '`analytics --since 7d` ÷ the bare SQL by `psql`', s.analytics.map((ms, i) => ms / s.analyticsSql[i]), { target: { op: '<=', value: TARGET_RATIO }, baseline: { label: 'bare SQL (psql)', median: m.analyticsSql, unit: 'ms' } }),
        figure('analytics.analytics-ms', '`analytics --since 7d` wall time', s.analytics, { unit: 'ms', target: { op: '<', value: TARGET_MS } }),
      ],
      lines: [
        `dataset: ${loaded.reused ? '(reused, BENCH_REUSE=1) ' : ''}${Number(counts.events).toLocaleString('en-US')} events (${Number(counts.synthetic).toLocaleString('en-US')} synthetic, ${counts.size}), ${Number(counts.bookings).toLocaleString('en-US')} bookings, ${Number(counts.sessions).toLocaleString('en-US')} sessions, ${Number(counts.feedback).toLocaleString('en-US')} ratings, ${Number(counts.refusal_rows).toLocaleString('en-US')} refusal rows; loaded in ${loaded.loadSeconds.toFixed(0)} s`,
        ...rows.map(([name, cmd, base]) => `${name.padEnd(32)} median ${fmt(cmd).padStart(10)}   bare SQL (psql) ${fmt(base).padStart(10)}   ×${(cmd / base).toFixed(2)}`),
        `cold (rollups built from nothing, ${sizes[0].size}): metrics ${fmt(cold.metrics)} vs bare SQL ${fmt(cold.metricsSql)} ×${(cold.metrics / cold.metricsSql).toFixed(2)}; analytics ${fmt(cold.analytics)} vs bare SQL ${fmt(cold.analyticsSql)} ×${(cold.analytics / cold.analyticsSql).toFixed(2)}`,
        `metrics: samples ${spread(s.metrics)}; bare SQL ${spread(s.metricsSql)}; core in-process (refresh + successMetrics) median ${fmt(m.metricsCore)}`,
        `load average (1 min) ${loadBefore.toFixed(1)} before the load, ${os.loadavg()[0].toFixed(1)} after the runs, on ${os.cpus().length} cores`,
        `analytics: samples ${spread(s.analytics)}; bare SQL ${spread(s.analyticsSql)}; core in-process (refresh + its five queries) median ${fmt(m.analyticsCore)}`,
        `watch, one interval (windowFigures of the last 15 min and of its baseline a week earlier, ${WATCH_RUNS} runs): median ${fmt(m.watch)} vs bare SELECT count(*) over the same windows ${fmt(m.watchSql)} ×${(m.watch / m.watchSql).toFixed(2)}; samples ${spread(s.watch)}`,
      ],
    };
  } finally {
    if (process.env.BENCH_KEEP !== '1') await dropAnalyticsBenchDb();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run();
  console.log(`${result.name}: ${result.target} (${result.runs} runs) → ${result.pass ? 'PASS' : 'MISS'}`);
  for (const line of result.lines) console.log(`  ${line}`);
}
