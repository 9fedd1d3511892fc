// bench/deploy-local: `routergpt deploy --yes` on the embedded default from a fresh state —
// median wall time and where it goes (per item, median across runs). Baseline in the same run:
// `routergpt migrate up` on a fresh state (the same embedded start-up and migrations, nothing
// else). Also `rollback --tier toggle`: time from launching it to the first 503 from a running
// server, against `routergpt router status` (CLI start + joining the database) as the baseline.
// Targets (issue 16): deploy ÷ migrate up ≤ ×1.2 and migrate up ÷ `node -e 0` ≤ ×15, both on a
// fresh state with the PGlite templates cached (src/db/embedded-template.ts: the empty cluster the
// deploy copies, and src/db/embedded-premigrated.ts: the one with the migrations applied that a
// fresh migrate up copies; the bench keeps its own XDG_CACHE_HOME, made by the warm-up); the first
// use, which makes both templates, is reported.
import os from 'node:os';
import { BIN, cli, exited, freePort, freshDir, latestRun, startServe, stopServe } from './_local.mjs';
import { figure, fmt, median, timeCommand } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function timeToFirst503(port) {
  const dir = freshDir();
  const server = await startServe(dir, port);
  try {
    const search = () => fetch(`http://127.0.0.1:${port}/router/search-by-location`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"latitude":33.4255,"longitude":-111.94}' }).then((r) => r.status);
    const baseline = cli(['router', 'status'], dir).ms;
    const { spawn } = await import('node:child_process');
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, 'rollback', '--tier', 'toggle', '--yes'], { cwd: dir, stdio: 'ignore' });
    let first503 = Infinity;
    while (performance.now() - started < 30_000) {
      if ((await search()) === 503) {
        first503 = performance.now() - started;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await exited(child);
    return { first503, baseline };
  } finally {
    await stopServe(server);
  }
}

const spread = (xs) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;

export async function run() {
  const deploys = [];
  const baselines = [];
  const nodes = [];
  const firstUse = [];
  const perItem = new Map();
  const cache = { XDG_CACHE_HOME: freshDir('routergpt-bench-cache-') };
  cli(['migrate', 'up'], freshDir(), cache); // warm-up: makes the template
  for (let i = 0; i < RUNS; i += 1) {
    nodes.push(timeCommand(process.execPath, ['-e', '0']));
    baselines.push(cli(['migrate', 'up'], freshDir(), cache).ms);
    firstUse.push(cli(['migrate', 'up'], freshDir(), { XDG_CACHE_HOME: freshDir('routergpt-bench-nocache-') }).ms);
    const dir = freshDir();
    const result = cli(['deploy', '--yes'], dir, cache);
    if (result.status !== 0) throw new Error(`deploy failed: ${result.stderr.slice(-1500)}`);
    deploys.push(result.ms);
    for (const item of latestRun(dir).items) perItem.set(item.id, [...(perItem.get(item.id) ?? []), item.durationMs ?? 0]);
  }
  const toggles = [];
  for (let i = 0; i < RUNS; i += 1) toggles.push(await timeToFirst503(await freePort()));
  const deploy = median(deploys);
  const base = median(baselines);
  const node = median(nodes);
  const first = median(firstUse);
  const t503 = median(toggles.map((t) => t.first503));
  const tBase = median(toggles.map((t) => t.baseline));
  const items = [...perItem].map(([id, ms]) => [id, median(ms)]).sort((a, b) => b[1] - a[1]);
  const itemsTotal = items.reduce((s, [, ms]) => s + ms, 0);
  // Per run: each ÷ the baseline interleaved with it.
  const figures = [
    figure('deploy.vs-migrate', '`deploy --yes` fresh ÷ `migrate up` fresh', deploys.map((ms, i) => ms / baselines[i]), { target: { op: '<=', value: 1.2 }, baseline: { label: '`migrate up`, fresh', median: base, unit: 'ms' } }),
    figure('deploy.migrate-vs-node', '`migrate up` fresh ÷ `node -e 0`', baselines.map((ms, i) => ms / nodes[i]), { target: { op: '<=', value: 15 }, baseline: { label: '`node -e 0`', median: node, unit: 'ms' } }),
    figure('deploy.toggle-503', '`rollback --tier toggle` → first 503', toggles.map((t) => t.first503), { unit: 'ms', target: { op: '<', value: 5000 } }),
  ];
  return {
    name: 'deploy-local',
    target: 'deploy --yes ÷ migrate up ≤ ×1.2, migrate up ÷ node -e 0 ≤ ×15 (fresh states); toggle rollback reaches a 503 within 5 s',
    runs: RUNS,
    pass: t503 < 5000 && deploy / base <= 1.2 && base / node <= 15,
    figures,
    lines: [
      `node -e 0 (baseline)                            median ${fmt(node).padStart(10)} (${spread(nodes)})   ×1.00`,
      `routergpt migrate up, fresh (pre-migrated template cached)   median ${fmt(base).padStart(10)} (${spread(baselines)})   ×${(base / node).toFixed(2)} of node -e 0 (target ≤ ×15)`,
      `routergpt migrate up, fresh, first use (initdb, both templates made)   median ${fmt(first).padStart(10)} (${spread(firstUse)})   ×${(first / base).toFixed(2)} of the cached`,
      `routergpt deploy --yes, fresh (template cached) median ${fmt(deploy).padStart(10)} (${spread(deploys)})   ×${(deploy / base).toFixed(2)} of migrate up (target ≤ ×1.2)`,
      `  items (median ms; ${fmt(itemsTotal)} in items, the rest is start-up, planning and shutdown):`,
      ...items.slice(0, 12).map(([id, ms]) => `    ${String(id).slice(0, 60).padEnd(60)} ${fmt(ms).padStart(10)}`),
      `routergpt router status (baseline) median ${fmt(tBase).padStart(10)}   ×1.00`,
      `rollback --tier toggle → first 503 median ${fmt(t503).padStart(10)}   ×${(t503 / tBase).toFixed(2)}`,
      `load average (1 min) ${os.loadavg()[0].toFixed(1)} at the end, on ${os.cpus().length} cores`,
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(`${r.name}: ${r.target} (${r.runs} runs) → ${r.pass ? 'PASS' : 'MISS'}`);
  for (const line of r.lines) console.log(`  ${line}`);
}
