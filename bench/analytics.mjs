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
// BENCH_RUNS (default 7) timed runs each after one warm-up; BENCH_KEEP=1 keeps the database.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createAnalyticsBenchDb, dropAnalyticsBenchDb } from './_analytics-db.mjs';
import { fmt, median } from './lib.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'routergpt.js');
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 7));
const TARGET_RATIO = 2;
const TARGET_MS = 2000;

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
  const loaded = await createAnalyticsBenchDb();
  const { url, counts } = loaded;
  try {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'routergpt-bench-analytics-'));
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', DATABASE_URL: url };
    const cli = (args) => time(process.execPath, [BIN, '--env', 'prod', ...args], { cwd, env }, [0, 1]);
    const psql = (sql) => time('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], { env });
    const { successMetrics } = await import(path.join(ROOT, 'dist/db/analytics/metrics.js'));
    const q = await import(path.join(ROOT, 'dist/db/analytics/queries.js'));
    const client = new pg.Client({ connectionString: url, application_name: 'routergpt bench analytics core' });
    await client.connect();
    const coreMetrics = () => timeAsync(() => successMetrics(client, { since: new Date(Date.now() - 30 * 86_400_000) }));
    const coreAnalytics = () =>
      timeAsync(async () => {
        const w = { since: new Date(Date.now() - 7 * 86_400_000), until: new Date() };
        await q.dailyActivity(client, w);
        await q.orderedFunnel(client, w, 24);
        await q.popularShops(client, w, 20);
        await q.recentEvents(client, '1 hour');
        await q.timeBetweenEvents(client, w);
      });
    const s = { metrics: [], metricsSql: [], metricsCore: [], analytics: [], analyticsSql: [], analyticsCore: [] };
    try {
      // Warm-up: the caches (shared_buffers and the OS's), once each.
      cli(['metrics', '--since', '30d']);
      psql(HAND_METRICS_SQL);
      cli(['analytics', '--since', '7d']);
      psql(CHECKLIST_ANALYTICS_SQL);
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
    const spread = (v) => `${fmt(Math.min(...v))}–${fmt(Math.max(...v))}`;
    return {
      name: 'analytics',
      target: `metrics --since 30d and analytics --since 7d each ≤ ${TARGET_RATIO}× the bare SQL (psql) and < ${TARGET_MS / 1000} s, on ${Number(counts.events).toLocaleString('en-US')} events`,
      runs: RUNS,
      pass,
      lines: [
        `dataset: ${Number(counts.events).toLocaleString('en-US')} events (${Number(counts.synthetic).toLocaleString('en-US')} synthetic, ${counts.size}), ${Number(counts.bookings).toLocaleString('en-US')} bookings, ${Number(counts.sessions).toLocaleString('en-US')} sessions, ${Number(counts.feedback).toLocaleString('en-US')} ratings, ${Number(counts.refusal_rows).toLocaleString('en-US')} refusal rows; loaded in ${loaded.loadSeconds.toFixed(0)} s`,
        ...rows.map(([name, cmd, base]) => `${name.padEnd(32)} median ${fmt(cmd).padStart(10)}   bare SQL (psql) ${fmt(base).padStart(10)}   ×${(cmd / base).toFixed(2)}`),
        `metrics: samples ${spread(s.metrics)}; bare SQL ${spread(s.metricsSql)}; core in-process (successMetrics) median ${fmt(m.metricsCore)}`,
        `load average (1 min) ${loadBefore.toFixed(1)} before the load, ${os.loadavg()[0].toFixed(1)} after the runs, on ${os.cpus().length} cores`,
        `analytics: samples ${spread(s.analytics)}; bare SQL ${spread(s.analyticsSql)}; core in-process (its five queries) median ${fmt(m.analyticsCore)}`,
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
