// bench/maintain: retention on a throwaway database of ≈ 10,000,000 analytics events over 35 days
// (_analytics-db.mjs, in its own database `routergpt_bench_maintain`: this benchmark moves rows).
//
// 1. The analytics archive: one day of events (≈ 286,000) moved from router_analytics to
//    router_analytics_archive per run, by the retention.archive-analytics step's own code (runBatches
//    + archiveBatch from dist/, batches of BENCH_BATCH rows, default the step's 5000), against the
//    naive baseline — `INSERT INTO router_analytics_archive SELECT … ; DELETE FROM router_analytics …`
//    in one transaction — on the next day, interleaved (batched, naive, batched, …), BENCH_RUNS each
//    (default 3), the table vacuumed before each run (as autovacuum would between two daily runs).
//    Reported: throughput (rows/s); the longest lock held — the mover's longest transaction (a
//    batch, or the naive one), whose row locks and table locks last until it commits; and from
//    outside, what that costs: a probe asking every 250 ms for a migration's ACCESS EXCLUSIVE lock
//    (queued), its longest wait, and a writer inserting an event every 50 ms (the API's writes),
//    its worst latency (inserts queue behind a waiting DDL).
// 2. `routergpt maintain daily` (the real CLI, the staging checklist: the daily findings and the
//    archive of one more day, ≈ 286,000 events) wall time, against the same daily findings without the
//    archive step (a checklist of the daily review alone), interleaved, BENCH_RUNS each.
// Target: no batch transaction over 1 s and a DDL waiting at most 1 s behind the batched archive
// (the naive one holds both for its whole length), at ≥ 1/3 of the naive transaction's rate.
// BENCH_KEEP=1 keeps the database.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { analyticsBenchUrl, createAnalyticsBenchDb, dropAnalyticsBenchDb } from './_analytics-db.mjs';
import { figure, median, percentile } from './lib.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'routergpt.js');
const NAME = 'routergpt_bench_maintain';
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const BATCH = Number(process.env.BENCH_BATCH ?? 5000);
const DAY_MS = 86_400_000;
const COLUMNS = 'id, event_type, session_id, shop_id, search_id, latency_ms, payload, created_at, synthetic, release, host';

/**
 * Watches the table from outside while `fn` runs. A probe session asks, every 250 ms, for what a
 * migration's ALTER TABLE needs — `LOCK TABLE router_analytics IN ACCESS EXCLUSIVE MODE`, queued
 * (lock_timeout 120 s) — and records how long it waited: the longest any transaction of the mover
 * held the table against DDL. A writer inserts an event every 50 ms (the API's writes): its worst
 * latency is how long inserts stalled (queued behind the waiting DDL, which waits for the mover).
 */
async function observed(url, fn) {
  const probe = new pg.Client({ connectionString: url, application_name: 'bench ddl probe' });
  const writer = new pg.Client({ connectionString: url, application_name: 'bench writer' });
  await probe.connect();
  await writer.connect();
  let running = true;
  const waits = [];
  const probing = (async () => {
    while (running) {
      await probe.query('BEGIN');
      await probe.query("SET LOCAL lock_timeout = '120s'");
      const t = performance.now();
      await probe.query('LOCK TABLE router_analytics IN ACCESS EXCLUSIVE MODE');
      waits.push(performance.now() - t);
      await probe.query('ROLLBACK');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const latencies = [];
  const writing = (async () => {
    while (running) {
      const t = performance.now();
      await writer.query(`INSERT INTO router_analytics (event_type, latency_ms, synthetic, release) VALUES ('search', 1, true, 'bench-writer')`);
      latencies.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    const started = performance.now();
    const result = await fn();
    return { ...result, ms: performance.now() - started, longestHeldMs: Math.max(0, ...waits), writerMaxMs: Math.max(0, ...latencies), writerP99Ms: latencies.length ? percentile(latencies, 99) : 0 };
  } finally {
    running = false;
    await Promise.all([probing, writing]);
    await probe.end();
    await writer.end();
  }
}

async function batched(pool, runBatches, archiveBatch, from, to) {
  const result = await runBatches(pool, { batchSize: BATCH, lockTimeoutMs: 2000 }, (client, keyset, limit) => archiveBatch(client, to, keyset === '-infinity' ? from.toISOString() : keyset, limit));
  return { rows: result.rows, batches: result.batches, longestBatchMs: result.longestBatchMs };
}

async function naive(url, from, to) {
  const c = new pg.Client({ connectionString: url, application_name: 'bench naive archive' });
  await c.connect();
  try {
    const t = performance.now();
    await c.query('BEGIN');
    const moved = await c.query(`INSERT INTO router_analytics_archive (${COLUMNS}, archived_at) SELECT ${COLUMNS}, now() FROM router_analytics WHERE created_at >= $1 AND created_at < $2`, [from, to]);
    await c.query('DELETE FROM router_analytics WHERE created_at >= $1 AND created_at < $2', [from, to]);
    await c.query('COMMIT');
    return { rows: moved.rowCount, batches: 1, longestBatchMs: performance.now() - t };
  } finally {
    await c.end();
  }
}

function cli(args, cwd, url) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, BENCH_MAINTAIN_URL: url, NO_COLOR: '1' }, encoding: 'utf8' });
  const ms = performance.now() - t;
  // 1: a finding failed (on_fail: continue) — still a timed run; anything else is the bench's problem.
  if (![0, 1, 3].includes(r.status)) throw new Error(`routergpt ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  if (r.status !== 0) process.stderr.write(`  (routergpt ${args[0]} ${args[1]} exited ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')})\n`);
  return ms;
}

const rate = (rows, ms) => (rows / ms) * 1000;
const k = (n) => Math.round(n).toLocaleString('en-US');

export async function run() {
  const loaded = await createAnalyticsBenchDb({ name: NAME });
  const { url } = analyticsBenchUrl(NAME);
  const { createPool } = await import(path.join(ROOT, 'dist/db/pool.js'));
  const { runBatches } = await import(path.join(ROOT, 'dist/db/retention/batches.js'));
  const { archiveBatch } = await import(path.join(ROOT, 'dist/db/retention/analytics.js'));
  const pool = createPool({ connectionString: url, max: 2, applicationName: 'bench archive' });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query('SELECT min(created_at) AS first FROM router_analytics');
    const first = new Date(rows[0].first);
    const dayStart = (i) => new Date(Math.floor(first.getTime() / DAY_MS) * DAY_MS + i * DAY_MS);
    const samples = { batched: [], naive: [] };
    let day = 1;
    for (let r = 0; r < RUNS; r++) {
      for (const kind of ['batched', 'naive']) {
        await admin.query('VACUUM ANALYZE router_analytics');
        const from = dayStart(day);
        const to = dayStart(day + 1);
        day += 1;
        const s = await observed(url, () => (kind === 'batched' ? batched(pool, runBatches, archiveBatch, from, to) : naive(url, from, to)));
        process.stderr.write(`  ${kind} day ${day - 1}: ${k(s.rows)} rows in ${(s.ms / 1000).toFixed(1)} s (${k(rate(s.rows, s.ms))} rows/s), longest transaction ${s.longestBatchMs.toFixed(0)} ms (${s.batches} batch${s.batches === 1 ? '' : 'es'}), a DDL waited ≤ ${s.longestHeldMs.toFixed(0)} ms, writer max ${s.writerMaxMs.toFixed(0)} ms\n`);
        samples[kind].push(s);
      }
    }

    // maintain daily: the staging checklist (daily findings + the archive step) vs the findings alone.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'routergpt-bench-maintain-'));
    const reviewOnly = path.join(dir, 'daily-review.yaml');
    writeFileSync(reviewOnly, 'name: staging\nphases:\n  - id: maintenance-daily\n    run: maintenance\n    cadence: daily\n    items:\n      - checks: [analytics.errors-by-route, analytics.response-times, analytics.rate-limit-hits, db.analytics-recent-events]\n        on_fail: continue\n');
    const { rows: lastRows } = await admin.query('SELECT max(created_at) AS last FROM router_analytics');
    const last = new Date(lastRows[0].last);
    const maintain = { full: [], review: [], archived: [] };
    const archivedNow = async () => Number((await admin.query('SELECT count(*) AS n FROM router_analytics_archive')).rows[0].n);
    for (let r = 0; r < RUNS; r++) {
      // Each full run archives one more day: the archive age that reaches exactly one day further.
      const archiveDays = Math.floor((last.getTime() - dayStart(day + 1).getTime()) / DAY_MS);
      day += 1;
      writeFileSync(path.join(dir, 'routergpt.config.yaml'), `version: 1\nenvironments:\n  staging:\n    database: { url_env: BENCH_MAINTAIN_URL }\n    retention: { analytics_archive_days: ${archiveDays} }\n`);
      await admin.query('VACUUM ANALYZE router_analytics');
      const before = await archivedNow();
      maintain.full.push(cli(['maintain', 'daily', '--env', 'staging', '--release', 'bench', '--checklist', path.join(ROOT, 'checklists', 'staging.yaml')], dir, url));
      maintain.archived.push((await archivedNow()) - before);
      maintain.review.push(cli(['maintain', 'daily', '--env', 'staging', '--release', 'bench', '--checklist', reviewOnly], dir, url));
      process.stderr.write(`  maintain daily (archive age ${archiveDays} d, ${k(maintain.archived.at(-1))} events archived): ${(maintain.full.at(-1) / 1000).toFixed(1)} s; the daily review alone ${(maintain.review.at(-1) / 1000).toFixed(1)} s\n`);
    }
    const { rows: moved } = await admin.query('SELECT count(*) AS n FROM router_analytics_archive');

    const med = (list, f) => median(list.map(f));
    const bRate = med(samples.batched, (s) => rate(s.rows, s.ms));
    const nRate = med(samples.naive, (s) => rate(s.rows, s.ms));
    const bHeld = med(samples.batched, (s) => s.longestBatchMs);
    const nHeld = med(samples.naive, (s) => s.longestBatchMs);
    const bWait = med(samples.batched, (s) => s.longestHeldMs);
    const nWait = med(samples.naive, (s) => s.longestHeldMs);
    const pass = bHeld <= 1000 && bWait <= 1000 && bRate >= nRate / 3;
    return {
      name: 'maintain',
      target: 'batched archive: no transaction (lock) over 1 s, a DDL waits ≤ 1 s behind it, ≥ 1/3 of the naive rate',
      runs: RUNS,
      pass,
      figures: [
        figure('maintain.longest-lock', 'batched archive: longest transaction (lock held)', samples.batched.map((s) => s.longestBatchMs), { unit: 'ms', target: { op: '<=', value: 1000 }, baseline: { label: 'naive, one transaction', median: nHeld, unit: 'ms' } }),
        figure('maintain.ddl-wait', 'batched archive: longest wait of a migration\'s lock behind it', samples.batched.map((s) => s.longestHeldMs), { unit: 'ms', target: { op: '<=', value: 1000 }, baseline: { label: 'naive', median: nWait, unit: 'ms' } }),
        figure('maintain.rate-vs-naive', 'batched archive rate ÷ the naive one-transaction rate', samples.batched.map((s, i) => rate(s.rows, s.ms) / rate(samples.naive[i].rows, samples.naive[i].ms)), { target: { op: '>=', value: 1 / 3 }, baseline: { label: 'naive', median: nRate, unit: 'rows/s' } }),
      ],
      lines: [
        `database: ${k(loaded.counts.events)} events (${loaded.counts.size}), loaded in ${loaded.loadSeconds.toFixed(0)} s; ${k(Number(moved[0].n))} archived by the end`,
        `archive, one day per run (≈ ${k(med(samples.batched, (s) => s.rows))} events): batched (${BATCH} a batch) ${k(bRate)} rows/s vs naive one transaction ${k(nRate)} rows/s (×${(bRate / nRate).toFixed(2)})`,
        `longest lock held (the mover's longest transaction): batched ${bHeld.toFixed(0)} ms (one batch) vs naive ${nHeld.toFixed(0)} ms (its one transaction) (×${(bHeld / nHeld).toFixed(3)})`,
        `a migration's ACCESS EXCLUSIVE lock, asked every 250 ms, waited at most: batched ${bWait.toFixed(0)} ms vs naive ${nWait.toFixed(0)} ms; the API's inserts (one per 50 ms) stalled at most: batched ${med(samples.batched, (s) => s.writerMaxMs).toFixed(0)} ms vs naive ${med(samples.naive, (s) => s.writerMaxMs).toFixed(0)} ms`,
        `maintain daily (findings + archiving one day, median ${k(median(maintain.archived))} events): ${(median(maintain.full) / 1000).toFixed(1)} s vs the daily findings alone ${(median(maintain.review) / 1000).toFixed(1)} s (×${(median(maintain.full) / median(maintain.review)).toFixed(2)})`,
        `per run — batched: ${samples.batched.map((s) => `${k(rate(s.rows, s.ms))}/s, held ${s.longestBatchMs.toFixed(0)} ms, DDL waited ${s.longestHeldMs.toFixed(0)} ms`).join('; ')}; naive: ${samples.naive.map((s) => `${k(rate(s.rows, s.ms))}/s, held ${s.longestBatchMs.toFixed(0)} ms, DDL waited ${s.longestHeldMs.toFixed(0)} ms`).join('; ')}; maintain: ${maintain.full.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s vs ${maintain.review.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s`,
      ],
    };
  } finally {
    await admin.end();
    await pool.end();
    if (process.env.BENCH_KEEP !== '1') await dropAnalyticsBenchDb(NAME);
  }
}

// `node bench/maintain.mjs` alone (npm run bench -- maintain runs it through run.mjs).
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(`${r.name}: ${r.target} → ${r.pass ? 'PASS' : 'MISS'}`);
  for (const line of r.lines) console.log(`  ${line}`);
}
