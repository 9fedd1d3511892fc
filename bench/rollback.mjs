// bench/rollback: the two rollback paths on real PostgreSQL, through the real CLI.
//
// 1. Toggle latency: from spawning `routergpt rollback --tier toggle --yes --no-verify` to the
//    first 503 from a running `routergpt serve` on POST /router/search-by-location (polled every
//    ~20 ms), (a) with nothing else running and (b) while a deploy holds the run lock (the
//    loopback checklist, its code.deploy a `sleep` journaled as `running`). Baseline in the same
//    run: `routergpt router status` (CLI start-up + one query), interleaved. Target: both medians
//    within the documented 2 s (docs/runbook.md), and (b)/(a) ≈ 1 (the toggle takes no lock).
// 2. Tier restore on a copy of the 1M-shop bench database (bench/_bench-db.mjs, reused): a
//    deploy of db.backup → db.migrate → db.geocode-shops, then `rollback --tier restore
//    --dry-run` (the loss preview), `rollback --tier restore --yes --no-verify` (safety backup +
//    restore, from its journal) and `verify --only api.health,api.schema-matches` against a
//    running server. Baseline in the same run: a plain `pg_restore` of the same dump into an
//    empty database, interleaved with the rollbacks.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { BENCH_DB, DATASET_NAME, benchUrl, ensureBenchDb } from './_bench-db.mjs';
import { BIN, exited, freePort } from './_local.mjs';
import { figure, fmt, median } from './lib.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const LOOPBACK = path.join(ROOT, 'test', 'fixtures', 'checklists', 'loopback.yaml');
const BENCH_IDENTITY = 'bench-operator@example.com';
const TOGGLE_RUNS = Number(process.env.BENCH_TOGGLE_RUNS ?? 7);
const RESTORE_RUNS = Number(process.env.BENCH_RESTORE_RUNS ?? 3);
const PARTS = (process.env.BENCH_ROLLBACK_PARTS ?? 'toggle,restore').split(',');
const BOUND_MS = 2000;
const SEARCH_BODY = JSON.stringify({ latitude: 33.4255, longitude: -111.94 });
const log = (line) => process.stderr.write(`[rollback] ${line}\n`);

// ---------------------------------------------------------------- helpers

/** A clean environment, as the CLI tests use: nothing inherited leaks into a run. */
function envFor(ws) {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir(), NO_COLOR: '1', LANG: 'C.UTF-8', ...ws.env };
}

function cli(ws, args, { allow = [0] } = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: ws.dir, env: envFor(ws), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (!allow.includes(result.status)) throw new Error(`routergpt ${args.join(' ')} exited ${result.status}:\n${result.stdout.slice(-1500)}\n${result.stderr.slice(-1500)}`);
  return { ms, status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function spawnCli(ws, args, options = {}) {
  return spawn(process.execPath, [BIN, ...args], { cwd: ws.dir, env: envFor(ws), stdio: ['ignore', 'ignore', 'pipe'], ...options });
}

async function admin(sql, values) {
  const client = new pg.Client({ connectionString: benchUrl().adminUrl });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows;
  } finally {
    await client.end();
  }
}

function urlOf(name) {
  const url = new URL(benchUrl().adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(name) {
  await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch((error) => log(`could not drop ${name}: ${error.message}`));
}

/** A staging workspace like test/helpers/workspace.ts: temp dir, config file, sign-off file. */
function workspace({ database, port, deployCommand, deployTimeout = '20s', retention = 5 }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'routergpt-bench-rollback-'));
  writeFileSync(
    path.join(dir, 'routergpt.config.yaml'),
    [
      'version: 1',
      'environments:',
      '  staging:',
      '    database: { url_env: DATABASE_URL }',
      `    public_api_base: http://127.0.0.1:${port}`,
      '    allow_test_bookings: false',
      // The poller sends ~50 searches a second: keep it far from the limiter.
      '    rate_limits: { search_per_minute: 1000000, delegate_per_minute: 1000000 }',
      '    deploy:',
      `      timeout: ${deployTimeout}`,
      '      commands:',
      `        - ${JSON.stringify(deployCommand ?? 'echo "deployed $(date +%s)" >> deploy-marker.log')}`,
      '      rollback_commands:',
      '        - echo rolled-back >> deploy-marker.log',
      `    backup: { dir: backups, retention: ${retention} }`,
      '',
    ].join('\n'),
  );
  const signoffFile = path.join(dir, 'signoff.yaml');
  // The deployer is named on the command line (--as BENCH_IDENTITY): the sign-off records it.
  writeFileSync(signoffFile, `signed_by: ${BENCH_IDENTITY}\nitems:\n  custom-gpt-configured: true\nsignoff:\n  deployed_by: ${BENCH_IDENTITY}\n`);
  return { dir, port, database, signoffFile, env: { DATABASE_URL: urlOf(database), ROUTERGPT_ENV: 'staging' } };
}

function journals(ws) {
  const dir = path.join(ws.dir, '.routergpt', 'runs', 'staging');
  let files = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files.flatMap((f) => {
    try {
      return [JSON.parse(readFileSync(path.join(dir, f), 'utf8'))];
    } catch {
      return []; // being written
    }
  });
}

function latestJournal(ws, kind) {
  return journals(ws).filter((r) => r.kind === kind).sort((a, b) => String(a.startedAt).localeCompare(String(b.startedAt))).pop();
}

function itemMs(run, id) {
  const item = run?.items?.find((i) => i.id === id);
  return item?.durationMs;
}

async function startServer(ws) {
  const child = spawnCli(ws, ['serve', '--port', String(ws.port)], { detached: true });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`http://127.0.0.1:${ws.port}/health`);
      if (res.status === 200 || res.status === 503) return child;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  killGroup(child);
  throw new Error(`routergpt serve did not start: ${stderr}`);
}

function killGroup(child, signal = 'SIGKILL') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

async function stopServer(child) {
  if (!child) return;
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child), 10_000);
  await exited(child);
  clearTimeout(timer);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function search(port) {
  return fetch(`http://127.0.0.1:${port}/router/search-by-location`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: SEARCH_BODY, signal: AbortSignal.timeout(5000) })
    .then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    })
    .catch(() => 0);
}

async function waitForStatus(port, ok, timeoutMs = 10_000) {
  const started = performance.now();
  let last;
  while (performance.now() - started < timeoutMs) {
    last = await search(port);
    if (ok(last)) return last;
    await sleep(20);
  }
  throw new Error(`search never answered as expected (last status ${last})`);
}

// ---------------------------------------------------------------- 1. toggle

/** One toggle: spawn the rollback, poll until the first 503, re-enable, wait for the router to answer again. */
async function toggleOnce(ws) {
  const started = performance.now();
  const child = spawnCli(ws, ['rollback', '--tier', 'toggle', '--yes', '--no-verify']);
  const exitAt = new Promise((r) => child.once('exit', () => r(performance.now() - started)));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  let first503 = Infinity;
  while (performance.now() - started < 15_000) {
    if ((await search(ws.port)) === 503) {
      first503 = performance.now() - started;
      break;
    }
    await sleep(20);
  }
  const exitMs = await exitAt;
  if (child.exitCode !== 0) throw new Error(`rollback --tier toggle exited ${child.exitCode}: ${stderr}`);
  cli(ws, ['router', 'enable', '--yes']);
  await waitForStatus(ws.port, (s) => s === 200);
  return { first503, exitMs, stderr };
}

async function runLockHeld(database) {
  const rows = await admin(
    `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND a.datname = $1 AND l.classid = hashtext('routergpt.run')::oid`,
    [database],
  );
  return rows[0].n > 0;
}

async function benchToggle() {
  const database = `rgpt_bench_toggle_${process.pid}`;
  await dropDatabase(database);
  await admin(`CREATE DATABASE "${database}"`);
  const ws = workspace({ database, port: await freePort(), deployCommand: 'sleep 30', deployTimeout: '5m' });
  let server;
  let deploy;
  try {
    cli(ws, ['migrate', 'up']);
    server = await startServer(ws);
    await waitForStatus(ws.port, (s) => s === 200);
    const idle = [];
    const busy = [];
    const status = [];
    let interruptsNoted = 0;
    // (a) nothing else running; the baseline interleaved.
    for (let i = 0; i < TOGGLE_RUNS; i += 1) {
      status.push(cli(ws, ['router', 'status']).ms);
      idle.push(await toggleOnce(ws));
    }
    // (b) a deploy holds the run lock, parked in code.deploy (`sleep 30`).
    const deployStarted = performance.now();
    deploy = spawnCli(ws, ['deploy', '--checklist', LOOPBACK, '--signoff-file', ws.signoffFile, '--as', BENCH_IDENTITY, '--yes'], { detached: true });
    let deployErr = '';
    deploy.stderr.on('data', (d) => (deployErr = (deployErr + d).slice(-4000)));
    let deployRun;
    while (performance.now() - deployStarted < 120_000) {
      deployRun = latestJournal(ws, 'deploy');
      if (deployRun?.items?.find((i) => i.id === 'code.deploy')?.state === 'running') break;
      if (deploy.exitCode !== null) throw new Error(`the deploy exited ${deploy.exitCode} before code.deploy ran: ${deployErr}`);
      await sleep(100);
    }
    if (deployRun?.items?.find((i) => i.id === 'code.deploy')?.state !== 'running') throw new Error(`code.deploy never showed as running: ${deployErr}`);
    const reachedMs = performance.now() - deployStarted;
    const lockHeld = await runLockHeld(database);
    await waitForStatus(ws.port, (s) => s === 200);
    for (let i = 0; i < TOGGLE_RUNS; i += 1) {
      status.push(cli(ws, ['router', 'status']).ms);
      const t = await toggleOnce(ws);
      if (/still running/.test(t.stderr)) interruptsNoted += 1;
      busy.push(t);
      if (deploy.exitCode !== null) throw new Error(`the deploy ended during the toggle runs (exit ${deploy.exitCode}): ${deployErr}`);
    }
    const stillRunning = latestJournal(ws, 'deploy')?.items?.find((i) => i.id === 'code.deploy')?.state === 'running';
    const lockHeldAfter = await runLockHeld(database);
    const rollbacks = journals(ws).filter((r) => r.kind === 'rollback');
    const interrupts = rollbacks.filter((r) => r.interrupts || r.extra?.interrupts).length;
    return { idle, busy, status, reachedMs, lockHeld, lockHeldAfter, stillRunning, interruptsNoted, interrupts };
  } finally {
    killGroup(deploy);
    if (deploy) await exited(deploy);
    await stopServer(server);
    await dropDatabase(database);
    rmSync(ws.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- 2. restore

const RESTORE_CHECKLIST = `name: bench-restore
description: backup, migrate and geocode only (bench/rollback.mjs)
phases:
  - id: database
    title: Database
    items:
      - step: db.backup
      - step: db.migrate
      - step: db.geocode-shops
`;

/** The bench database copied: from the template when nobody is connected, else pg_dump | pg_restore. */
async function copyBenchDb(target) {
  const started = performance.now();
  await dropDatabase(target);
  const connected = await admin('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [BENCH_DB]);
  let how;
  if (connected[0].n === 0) {
    try {
      await admin(`CREATE DATABASE "${target}" TEMPLATE "${BENCH_DB}"`);
      how = 'CREATE DATABASE … TEMPLATE';
    } catch (error) {
      if (!/being accessed by other users/.test(error.message)) throw error;
    }
  }
  if (!how) {
    await admin(`CREATE DATABASE "${target}"`);
    const dump = spawn('pg_dump', ['-Fc', '-d', benchUrl().url], { stdio: ['ignore', 'pipe', 'inherit'] });
    const restore = spawn('pg_restore', ['--no-owner', '--exit-on-error', '-d', urlOf(target)], { stdio: ['pipe', 'inherit', 'inherit'] });
    dump.stdout.pipe(restore.stdin);
    await Promise.all([exited(dump), exited(restore)]);
    if (dump.exitCode !== 0 || restore.exitCode !== 0) throw new Error(`copying ${BENCH_DB} failed (pg_dump ${dump.exitCode}, pg_restore ${restore.exitCode})`);
    how = 'pg_dump | pg_restore (the template had connections)';
  }
  return { ms: performance.now() - started, how };
}

function jobs() {
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

/** The baseline: the same dump, plain pg_restore (same -j as the rollback) into an empty database. */
async function plainRestore(file) {
  const scratch = `rgpt_bench_plain_${process.pid}`;
  await dropDatabase(scratch);
  await admin(`CREATE DATABASE "${scratch}"`);
  try {
    const started = process.hrtime.bigint();
    const result = spawnSync('pg_restore', ['--no-owner', '--exit-on-error', '--no-password', '-j', String(jobs()), '-d', urlOf(scratch), file], { encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`pg_restore exited ${result.status}: ${result.stderr.slice(-1500)}`);
    return ms;
  } finally {
    await dropDatabase(scratch);
  }
}

async function benchRestore() {
  const setupStarted = performance.now();
  await ensureBenchDb({ log });
  const setupMs = performance.now() - setupStarted;
  const database = `rgpt_bench_restore_${process.pid}`;
  const ws = workspace({ database, port: await freePort(), retention: 10 });
  let server;
  try {
    const copy = await copyBenchDb(database);
    log(`copied ${BENCH_DB} → ${database} in ${fmt(copy.ms)} (${copy.how})`);
    const [{ n: shops }] = await admin('SELECT 1').then(async () => {
      const c = new pg.Client({ connectionString: urlOf(database) });
      await c.connect();
      try {
        // Three shops without coordinates, so the deploy's geocoding changes something (the
        // migrations are all applied already, and a deploy that only took a backup is never a
        // rollback target).
        await c.query(
          `INSERT INTO shops (slug, name, category, postal_code, city, state, timezone)
           VALUES ('bench-rollback-1', 'Rollback Shop 1', 'barbershop', '85281', 'Tempe', 'AZ', 'America/Phoenix'),
                  ('bench-rollback-2', 'Rollback Shop 2', 'salon', '10001', 'New York', 'NY', 'America/New_York'),
                  ('bench-rollback-3', 'Rollback Shop 3', 'spa', '60601', 'Chicago', 'IL', 'America/Chicago')`,
        );
        return (await c.query('SELECT count(*)::int AS n FROM shops')).rows;
      } finally {
        await c.end();
      }
    });
    writeFileSync(path.join(ws.dir, 'restore.yaml'), RESTORE_CHECKLIST);
    const deploy = cli(ws, ['deploy', '--checklist', path.join(ws.dir, 'restore.yaml'), '--yes']);
    const deployRun = latestJournal(ws, 'deploy');
    const manifestFile = deployRun.items.find((i) => i.id === 'db.backup')?.outputs?.manifest;
    const geocode = deployRun.items.find((i) => i.id === 'db.geocode-shops');
    if (typeof manifestFile !== 'string') throw new Error('the deploy recorded no backup manifest');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    const dumpFile = path.resolve(path.dirname(manifestFile), manifest.file);
    log(`deploy ${fmt(deploy.ms)}: db.backup ${fmt(itemMs(deployRun, 'db.backup') ?? 0)}, db.migrate ${deployRun.items.find((i) => i.id === 'db.migrate')?.state}, db.geocode-shops ${geocode?.state}`);

    const previews = [];
    const rollbacks = [];
    const plains = [];
    let previewLines = [];
    for (let i = 0; i < RESTORE_RUNS; i += 1) {
      plains.push(await plainRestore(dumpFile));
      log(`plain pg_restore ${fmt(plains.at(-1))}`);
      const preview = cli(ws, ['rollback', '--tier', 'restore', '--dry-run']);
      previews.push(preview.ms);
      previewLines = `${preview.stdout}\n${preview.stderr}`.split('\n').filter((l) => /lose:|nothing is lost|written since|no rows/i.test(l)).map((l) => l.trim());
      const rollback = cli(ws, ['rollback', '--tier', 'restore', '--yes', '--no-verify']);
      const run = latestJournal(ws, 'rollback');
      if (run?.status !== 'succeeded' && run?.status !== 'done') log(`rollback journal status: ${run?.status}`);
      const undo = run?.items?.find((it) => it.id === 'undo.db.backup');
      if (undo?.state !== 'done') throw new Error(`undo.db.backup ended ${undo?.state}: ${undo?.summary}`);
      rollbacks.push({ ms: rollback.ms, safety: itemMs(run, 'db.backup') ?? NaN, restore: undo.durationMs ?? NaN, core: Number(undo.outputs?.durationMs ?? NaN), status: run?.status });
      log(`rollback ${fmt(rollback.ms)} (safety backup ${fmt(rollbacks.at(-1).safety)}, restore ${fmt(rollbacks.at(-1).restore)}); preview ${fmt(preview.ms)}`);
    }
    // Verification: the two checks the rollback's verify.after-rollback runs (the router stays
    // on here: only health and schema), against a real server on the restored database.
    server = await startServer(ws);
    const verifies = [];
    for (let i = 0; i < 3; i += 1) verifies.push(cli(ws, ['verify', '--only', 'api.health,api.schema-matches']).ms);
    const sizeMb = manifest.sizeBytes / 1024 / 1024;
    return { setupMs, copy, shops, deployMs: deploy.ms, deployBackupMs: itemMs(deployRun, 'db.backup'), geocodeState: geocode?.state, sizeMb, previews, rollbacks, plains, verifies, previewLines };
  } finally {
    await stopServer(server);
    await dropDatabase(database);
    rmSync(ws.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- report

export async function run() {
  const lines = [];
  const figures = [];
  let pass = true;
  let runs = 0;
  if (PARTS.includes('toggle')) {
    const t = await benchToggle();
    runs = TOGGLE_RUNS;
    const a = median(t.idle.map((r) => r.first503));
    const b = median(t.busy.map((r) => r.first503));
    const base = median(t.status);
    const aExit = median(t.idle.map((r) => r.exitMs));
    const bExit = median(t.busy.map((r) => r.exitMs));
    pass &&= a <= BOUND_MS && b <= BOUND_MS;
    const baseline = { label: '`router status`', median: base, unit: 'ms' };
    figures.push(
      figure('rollback.toggle-idle', '`rollback --tier toggle` → first 503, no deploy running', t.idle.map((r) => r.first503), { unit: 'ms', target: { op: '<=', value: BOUND_MS }, baseline }),
      figure('rollback.toggle-busy', '`rollback --tier toggle` → first 503, a deploy holding the run lock', t.busy.map((r) => r.first503), { unit: 'ms', target: { op: '<=', value: BOUND_MS }, baseline }),
    );
    const each = (rs) => rs.map((r) => Math.round(r.first503)).join(', ');
    lines.push(
      `toggle (${TOGGLE_RUNS} runs each; polled every ~20 ms; PostgreSQL ${t.lockHeld ? 'advisory run lock held by the deploy' : 'NO run lock seen'}):`,
      `  routergpt router status (baseline)        median ${fmt(base).padStart(10)}   ×1.00`,
      `  (a) no deploy   → first 503              median ${fmt(a).padStart(10)}   ×${(a / base).toFixed(2)}   [${each(t.idle)}]`,
      `  (b) deploy runs → first 503              median ${fmt(b).padStart(10)}   ×${(b / base).toFixed(2)}   [${each(t.busy)}]`,
      `  ratio (b)/(a) ${(b / a).toFixed(2)} (target ≈ 1); both ≤ ${BOUND_MS} ms: ${a <= BOUND_MS && b <= BOUND_MS ? 'yes' : 'NO'}`,
      `  rollback process exit: (a) ${fmt(aExit)}, (b) ${fmt(bExit)} median`,
      `  deploy reached code.deploy (running) after ${fmt(t.reachedMs)}; still running after the toggles: ${t.stillRunning ? 'yes' : 'NO'}, lock still held: ${t.lockHeldAfter ? 'yes' : 'NO'}; ${t.interrupts}/${TOGGLE_RUNS * 2} rollback journals record an interrupted deploy, ${t.interruptsNoted}/${TOGGLE_RUNS} (b) runs printed the note`,
    );
  }
  if (PARTS.includes('restore')) {
    const r = await benchRestore();
    runs = Math.max(runs, RESTORE_RUNS);
    const preview = median(r.previews);
    const wall = median(r.rollbacks.map((x) => x.ms));
    const safety = median(r.rollbacks.map((x) => x.safety));
    const restore = median(r.rollbacks.map((x) => x.restore));
    const core = median(r.rollbacks.map((x) => x.core));
    const rest = median(r.rollbacks.map((x) => x.ms - x.safety - x.restore));
    const statuses = [...new Set(r.rollbacks.map((x) => x.status))].join(', ');
    lines.push(`rollback run status: ${statuses}`);
    const verify = median(r.verifies);
    const plain = median(r.plains);
    const total = wall + verify;
    figures.push(figure('rollback.restore-vs-pg-restore', '`rollback --tier restore` (wall) ÷ a plain `pg_restore` of the same dump (1M shops)', r.rollbacks.map((x, i) => x.ms / r.plains[i]), { baseline: { label: `plain pg_restore -j ${jobs()}`, median: plain, unit: 'ms' } }));
    lines.push(
      `restore (${RESTORE_RUNS} runs, interleaved with the baseline) on a copy of ${BENCH_DB} (${DATASET_NAME}, ${r.shops.toLocaleString('en-US')} shops; copy ${fmt(r.copy.ms)} by ${r.copy.how}; bench db ready in ${fmt(r.setupMs)}):`,
      `  deploy db.backup → db.migrate → db.geocode-shops: ${fmt(r.deployMs)} (backup ${fmt(r.deployBackupMs ?? 0)}, ${r.sizeMb.toFixed(1)} MiB custom dump; geocode ${r.geocodeState})`,
      `  plain pg_restore -j ${jobs()} of the same dump into an empty db (baseline)  median ${fmt(plain).padStart(11)}   ×1.00   [${r.plains.map((x) => Math.round(x)).join(', ')}]`,
      `  rollback --tier restore --dry-run (loss preview)          median ${fmt(preview).padStart(11)}   [${r.previews.map((x) => Math.round(x)).join(', ')}]`,
      `  rollback --tier restore --yes --no-verify (wall)          median ${fmt(wall).padStart(11)}   ×${(wall / plain).toFixed(2)}   [${r.rollbacks.map((x) => Math.round(x.ms)).join(', ')}]`,
      `    safety backup (item db.backup)                          median ${fmt(safety).padStart(11)}`,
      `    restore (item undo.db.backup: reset, pg_restore, checksums) median ${fmt(restore).padStart(9)}   ×${(restore / plain).toFixed(2)}`,
      `      of which restoreBackup() (sha-256 + list, reset schema, pg_restore, checksums) ${fmt(core).padStart(9)}   ×${(core / plain).toFixed(2)}`,
      `    the rest (start-up, plan incl. loss preview, journal)   median ${fmt(rest).padStart(11)}   (per run: wall − both items)`,
      `  verify --only api.health,api.schema-matches (3 runs)      median ${fmt(verify).padStart(11)}`,
      `  restore tier end to end (rollback + verification)         median ${fmt(total).padStart(11)}   ×${(total / plain).toFixed(2)}`,
      ...(r.previewLines.length ? [`  loss preview said: ${r.previewLines.slice(0, 4).join(' | ')}`] : []),
    );
  }
  return {
    name: 'rollback',
    target: `toggle → first 503 within ${BOUND_MS} ms, with and without a deploy holding the run lock (ratio ≈ 1); report the restore tier's split against a plain pg_restore`,
    runs,
    pass,
    figures,
    lines,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(`${r.name}: ${r.target} (${r.runs} runs) → ${r.pass ? 'PASS' : 'MISS'}`);
  for (const line of r.lines) console.log(`  ${line}`);
}
