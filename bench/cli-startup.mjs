// bench/cli-startup: `routergpt --version` and `--help` against `node -e 0`, and what calling it
// through `npx` costs (npx resolves the package with npm before starting it).
// Target: each direct call ≤ 2.5× the bare Node start-up, medians of ≥ 10 interleaved runs; the
// npx row is reported, not targeted (it measures npm), so the README can say which way is fastest.
import path from 'node:path';
import { fmt, median, timeCommand } from './lib.mjs';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'routergpt.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 20);

export async function run() {
  const samples = { base: [], version: [], help: [], npx: [] };
  const repo = path.resolve(import.meta.dirname, '..');
  for (let i = 0; i < 3; i += 1) timeCommand(process.execPath, [BIN, '--version']); // warm the page cache
  for (let i = 0; i < RUNS; i += 1) {
    samples.base.push(timeCommand(process.execPath, ['-e', '0']));
    samples.version.push(timeCommand(process.execPath, [BIN, '--version']));
    samples.help.push(timeCommand(process.execPath, [BIN, '--help']));
    samples.npx.push(timeCommand('npx', ['--no-install', 'routergpt', '--version'], { cwd: repo }));
  }
  const base = median(samples.base);
  const rows = [
    { name: 'node -e 0 (baseline)', median: base, ratio: 1 },
    { name: 'routergpt --version', median: median(samples.version), ratio: median(samples.version) / base },
    { name: 'routergpt --help', median: median(samples.help), ratio: median(samples.help) / base },
    { name: 'npx routergpt --version', median: median(samples.npx), ratio: median(samples.npx) / base, reported: true },
  ];
  const pass = rows.filter((r) => !r.reported).every((r) => r.ratio <= 2.5);
  return {
    name: 'cli-startup',
    target: 'routergpt --version/--help ≤ 2.5× node -e 0',
    runs: RUNS,
    pass,
    lines: rows.map((r) => `${r.name.padEnd(24)} median ${fmt(r.median).padStart(10)}   ×${r.ratio.toFixed(2)}`),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run();
  console.log(`${result.name}: ${result.target} (${result.runs} runs) → ${result.pass ? 'PASS' : 'MISS'}`);
  for (const line of result.lines) console.log(`  ${line}`);
}
