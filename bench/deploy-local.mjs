// bench/deploy-local: `routergpt deploy --yes` on the embedded default from a fresh state —
// median wall time and where it goes (per item, median across runs). Baseline in the same run:
// `routergpt migrate up` on a fresh state (the same embedded start-up and migrations, nothing
// else). Also `rollback --tier toggle`: time from launching it to the first 503 from a running
// server, against `routergpt router status` (CLI start + joining the database) as the baseline.
import { BIN, cli, exited, freePort, freshDir, latestRun, startServe, stopServe } from './_local.mjs';
import { fmt, median } from './lib.mjs';

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

export async function run() {
  const deploys = [];
  const baselines = [];
  const perItem = new Map();
  for (let i = 0; i < RUNS; i += 1) {
    baselines.push(cli(['migrate', 'up'], freshDir()).ms);
    const dir = freshDir();
    const result = cli(['deploy', '--yes'], dir);
    if (result.status !== 0) throw new Error(`deploy failed: ${result.stderr.slice(-1500)}`);
    deploys.push(result.ms);
    for (const item of latestRun(dir).items) perItem.set(item.id, [...(perItem.get(item.id) ?? []), item.durationMs ?? 0]);
  }
  const toggles = [];
  for (let i = 0; i < RUNS; i += 1) toggles.push(await timeToFirst503(await freePort()));
  const deploy = median(deploys);
  const base = median(baselines);
  const t503 = median(toggles.map((t) => t.first503));
  const tBase = median(toggles.map((t) => t.baseline));
  const items = [...perItem].map(([id, ms]) => [id, median(ms)]).sort((a, b) => b[1] - a[1]);
  const itemsTotal = items.reduce((s, [, ms]) => s + ms, 0);
  return {
    name: 'deploy-local',
    target: 'report: deploy wall time and its breakdown; toggle rollback reaches a 503 within 5 s',
    runs: RUNS,
    pass: t503 < 5000,
    lines: [
      `routergpt migrate up (baseline)   median ${fmt(base).padStart(10)}   ×1.00`,
      `routergpt deploy --yes            median ${fmt(deploy).padStart(10)}   ×${(deploy / base).toFixed(2)}`,
      `  items (median ms; ${fmt(itemsTotal)} in items, the rest is start-up, planning and shutdown):`,
      ...items.slice(0, 12).map(([id, ms]) => `    ${String(id).slice(0, 60).padEnd(60)} ${fmt(ms).padStart(10)}`),
      `routergpt router status (baseline) median ${fmt(tBase).padStart(10)}   ×1.00`,
      `rollback --tier toggle → first 503 median ${fmt(t503).padStart(10)}   ×${(t503 / tBase).toFixed(2)}`,
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  console.log(`${r.name}: ${r.target} (${r.runs} runs) → ${r.pass ? 'PASS' : 'MISS'}`);
  for (const line of r.lines) console.log(`  ${line}`);
}
