// bench/cli-startup: `routergpt --version` and `--help` against `node -e 0`, and what calling it
// through `npx` costs (npx resolves the package with npm before starting it).
// Targets (issue 16): `--version` ≤ ×1.4 of the bare Node start-up, `--help` (which loads every
// command's registration) ≤ ×2.5; medians of ≥ 10 interleaved runs, with the spread. The npx row
// is reported, not targeted (it measures npm), so the README can say which way is fastest.
import os from 'node:os';
import path from 'node:path';
import { figure, fmt, median, timeCommand } from './lib.mjs';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'routergpt.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 20);

export async function run() {
  const samples = { base: [], version: [], help: [], npx: [] };
  const repo = path.resolve(import.meta.dirname, '..');
  let npxError;
  for (let i = 0; i < 3; i += 1) timeCommand(process.execPath, [BIN, '--version']); // warm the page cache
  for (let i = 0; i < RUNS; i += 1) {
    samples.base.push(timeCommand(process.execPath, ['-e', '0']));
    samples.version.push(timeCommand(process.execPath, [BIN, '--version']));
    samples.help.push(timeCommand(process.execPath, [BIN, '--help']));
    if (npxError) continue;
    try {
      samples.npx.push(timeCommand('npx', ['--no-install', 'routergpt', '--version'], { cwd: repo }));
    } catch (error) {
      npxError = error.message; // npm's own state (its cache), not ours: reported, not fatal
    }
  }
  const base = median(samples.base);
  const row = (name, xs, target) => ({ name, median: median(xs), ratio: median(xs) / base, spread: `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`, target });
  const rows = [row('node -e 0 (baseline)', samples.base), row('routergpt --version', samples.version, 1.4), row('routergpt --help', samples.help, 2.5)];
  const pass = rows.every((r) => r.target === undefined || r.ratio <= r.target);
  // Per run, each command ÷ the `node -e 0` interleaved with it.
  const perRun = (xs) => xs.map((ms, i) => ms / samples.base[i]);
  const baseline = { label: '`node -e 0`', median: base, unit: 'ms' };
  const figures = [
    figure('cli.version', 'CLI `--version` ÷ `node -e 0`', perRun(samples.version), { target: { op: '<=', value: 1.4 }, baseline }),
    figure('cli.help', 'CLI `--help` ÷ `node -e 0`', perRun(samples.help), { target: { op: '<=', value: 2.5 }, baseline }),
  ];
  return {
    name: 'cli-startup',
    target: 'routergpt --version ≤ ×1.4 and --help ≤ ×2.5 of node -e 0',
    runs: RUNS,
    pass,
    figures,
    lines: [
      ...rows.map((r) => `${r.name.padEnd(24)} median ${fmt(r.median).padStart(10)} (${r.spread})   ×${r.ratio.toFixed(2)}${r.target ? ` (target ≤ ×${r.target})` : ''}`),
      samples.npx.length && !npxError ? `${'npx routergpt --version'.padEnd(24)} median ${fmt(median(samples.npx)).padStart(10)}   ×${(median(samples.npx) / base).toFixed(2)} (reported)` : `npx routergpt --version: not measured (${npxError ?? 'no samples'})`,
      `load average (1 min) ${os.loadavg()[0].toFixed(1)} at the end, on ${os.cpus().length} cores`,
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run();
  console.log(`${result.name}: ${result.target} (${result.runs} runs) → ${result.pass ? 'PASS' : 'MISS'}`);
  for (const line of result.lines) console.log(`  ${line}`);
}
