// bench/adopt: adopting a legacy database on the 1M-shop bench database (bench/_bench-db.mjs,
// reused) — wall time of `routergpt migrate baseline` and of the `db.schema-drift` check
// (`routergpt verify --only db.schema-drift`) against `pg_dump --schema-only` of the same
// database, the baseline measured in the same run, interleaved. Target (issue 9, "Speed"): the
// drift check costs at most a few times pg_dump --schema-only (here: ≤ ×3, for the check itself:
// in-process, and the verify command's wall time less that of `verify --only db.reachable`).
//
// The copy `routergpt_bench_adopt` is made from the bench database (CREATE DATABASE … TEMPLATE),
// with its history table dropped (a legacy database: the migrations applied, nothing recorded)
// and the bench's own marker table dropped (it is not part of the schema the migrations make).
// Each run: pg_dump --schema-only → migrate baseline --to <last> → verify --only
// db.schema-drift; then (untimed) the history table is dropped again.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { BENCH_DB, benchUrl, DATASET_NAME, ensureBenchDb } from './_bench-db.mjs';
import { figure, fmt, median } from './lib.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'routergpt.js');
const COPY = `${BENCH_DB}_adopt`;
const RUNS = Number(process.env.BENCH_ADOPT_RUNS ?? 5);
const TARGET_RATIO = 3;
const log = (line) => process.stderr.write(`${line}\n`);

async function sql(url, text, values) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

function timed(cmd, args, options) {
  const started = process.hrtime.bigint();
  const result = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}: ${result.stderr || result.stdout}`);
  return { ms, stdout: result.stdout, stderr: result.stderr };
}

export async function run() {
  await ensureBenchDb({ log });
  const { adminUrl } = benchUrl();
  const copyUrl = (() => {
    const u = new URL(adminUrl);
    u.pathname = `/${COPY}`;
    return u.toString();
  })();
  const copyStarted = performance.now();
  await sql(adminUrl, `DROP DATABASE IF EXISTS "${COPY}" WITH (FORCE)`);
  await sql(adminUrl, `CREATE DATABASE "${COPY}" TEMPLATE "${BENCH_DB}"`);
  await sql(copyUrl, 'DROP TABLE IF EXISTS bench_dataset; DROP TABLE IF EXISTS routergpt_schema_migrations');
  const copyMs = performance.now() - copyStarted;
  const [{ shops }] = await sql(copyUrl, 'SELECT count(*)::int AS shops FROM shops');
  const [{ size }] = await sql(copyUrl, 'SELECT pg_size_pretty(pg_database_size(current_database())) AS size');

  const { loadMigrations } = await import(path.join(ROOT, 'dist/db/migrator/files.js'));
  const last = loadMigrations(path.join(ROOT, 'migrations')).at(-1).version;
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'routergpt-bench-adopt-'));
  writeFileSync(path.join(cwd, 'routergpt.config.yaml'), ['version: 1', 'environments:', '  staging:', '    database: { url_env: DATABASE_URL }', '    public_api_base: http://127.0.0.1:1', ''].join('\n'));
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', DATABASE_URL: copyUrl };
  const cli = (args) => timed(process.execPath, [BIN, ...args], { cwd, env });

  // The drift check in-process too (no CLI start-up), with the built module.
  const { createPool } = await import(path.join(ROOT, 'dist/db/pool.js'));
  const { detectDrift } = await import(path.join(ROOT, 'dist/db/schema/drift.js'));

  const dumps = [];
  const baselines = [];
  const drifts = [];
  const inProcess = [];
  const startups = [];
  const reachables = [];
  let driftSummary = '';
  let baselineSummary = '';
  for (let i = 0; i < RUNS; i += 1) {
    dumps.push(timed('pg_dump', ['--schema-only', '-d', copyUrl, '-f', '/dev/null']).ms);
    const b = cli(['migrate', 'baseline', '--to', last, '--env', 'staging', '--yes']);
    baselines.push(b.ms);
    baselineSummary = b.stderr.trim().split('\n').at(-1);
    const d = cli(['verify', '--env', 'staging', '--only', 'db.schema-drift', '--json']);
    drifts.push(d.ms);
    driftSummary = JSON.parse(d.stdout).checks[0].summary;
    const pool = createPool({ connectionString: copyUrl, max: 2, applicationName: 'routergpt bench adopt' });
    try {
      const started = performance.now();
      const report = await detectDrift(pool, path.join(ROOT, 'migrations'));
      inProcess.push(performance.now() - started);
      if (report.outcome !== 'compared' || report.differences.length > 0) throw new Error(`drift on the bench copy: ${JSON.stringify(report).slice(0, 400)}`);
    } finally {
      await pool.end();
    }
    startups.push(cli(['--version']).ms);
    reachables.push(cli(['verify', '--env', 'staging', '--only', 'db.reachable']).ms);
    await sql(copyUrl, 'DROP TABLE routergpt_schema_migrations');
    log(`  run ${i + 1}/${RUNS}: pg_dump ${fmt(dumps.at(-1))}, baseline ${fmt(baselines.at(-1))}, drift ${fmt(drifts.at(-1))} (in-process ${fmt(inProcess.at(-1))})`);
  }
  await sql(adminUrl, `DROP DATABASE IF EXISTS "${COPY}" WITH (FORCE)`);

  const dump = median(dumps);
  const base = median(baselines);
  const drift = median(drifts);
  const inproc = median(inProcess);
  const startup = median(startups);
  const reachable = median(reachables);
  // The check's own cost: in-process, and the CLI wall less verify's fixed cost (start-up, config, connection, report).
  const ratio = inproc / dump;
  const added = Math.max(0, drift - reachable) / dump;
  const row = (label, ms) => `  ${label.padEnd(58)} median ${fmt(ms).padStart(10)}   ×${(ms / dump).toFixed(2)}`;
  return {
    name: 'adopt',
    target: `db.schema-drift ≤ ×${TARGET_RATIO} of pg_dump --schema-only on the 1M-shop database`,
    runs: RUNS,
    pass: ratio <= TARGET_RATIO && added <= TARGET_RATIO,
    figures: [
      figure('adopt.drift-vs-pg-dump', '`db.schema-drift` in-process ÷ `pg_dump --schema-only` (1M shops)', inProcess.map((ms, i) => ms / dumps[i]), { target: { op: '<=', value: TARGET_RATIO }, baseline: { label: '`pg_dump --schema-only`', median: dump, unit: 'ms' } }),
      figure('adopt.drift-cli-added', '`verify --only db.schema-drift` less verify\'s fixed cost ÷ `pg_dump`', drifts.map((ms, i) => Math.max(0, ms - reachables[i]) / dumps[i]), { target: { op: '<=', value: TARGET_RATIO }, baseline: { label: '`pg_dump --schema-only`', median: dump, unit: 'ms' } }),
    ],
    lines: [
      `copy of ${BENCH_DB} (${DATASET_NAME}: ${shops.toLocaleString('en-US')} shops, ${size}) made in ${fmt(copyMs)}; legacy: history table dropped; ${RUNS} interleaved runs`,
      row('pg_dump --schema-only (baseline)', dump),
      row(`routergpt migrate baseline --to ${last} --yes (CLI wall)`, base),
      row('routergpt verify --only db.schema-drift (CLI wall)', drift),
      row('db.schema-drift in-process (detectDrift, no CLI start-up)', inproc),
      row('routergpt verify --only db.reachable (verify\'s fixed cost)', reachable),
      row('routergpt --version (CLI start-up alone)', startup),
      `  baseline said: ${baselineSummary}`,
      `  drift said: ${driftSummary}`,
      `  the check ÷ pg_dump --schema-only: in-process ×${ratio.toFixed(2)}; CLI wall less verify's fixed cost ×${added.toFixed(2)} (target ≤ ×${TARGET_RATIO}) ${ratio <= TARGET_RATIO && added <= TARGET_RATIO ? 'PASS' : 'MISS'}`,
      `  the whole verify command ÷ pg_dump: ×${(drift / dump).toFixed(2)} — mostly Node start-up and verify's own set-up, which every check pays`,
    ],
  };
}
