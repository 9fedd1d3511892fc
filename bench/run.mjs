// npm run bench: every benchmark in bench/, each reporting medians and a ratio against a
// baseline measured in the same run. `npm run bench -- cli-startup` runs one.
//
// The figures a benchmark returns (`figures`, see figure() in lib.mjs) are kept per benchmark in
// bench/results.json — with the date, the commit, Node, the cores and the load average around
// the run — and the summary table at the top of bench/RESULTS.md is regenerated from that file
// after every run, so the table always shows each figure's latest run (BENCH_NO_RECORD=1 skips
// both, for a try-out on a dirty tree that should not be mistaken for a result).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { replaceSummary } from './_summary.mjs';

const dir = import.meta.dirname;
const only = process.argv.slice(2);
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs') && !['run.mjs', 'lib.mjs'].includes(f) && !f.startsWith('_'))
  .map((f) => f.replace(/\.mjs$/, ''));
const names = all.filter((n) => only.length === 0 || only.includes(n));
const unknown = only.filter((n) => !all.includes(n));
if (unknown.length) {
  console.error(`bench: no benchmark named ${unknown.join(', ')} (there are: ${all.join(', ')})`);
  process.exit(2);
}

const RESULTS_JSON = path.join(dir, 'results.json');
const RESULTS_MD = path.join(dir, 'RESULTS.md');
const record = process.env.BENCH_NO_RECORD !== '1';
// Before any benchmark runs (they take minutes): the summary block must be there to regenerate.
if (record) {
  try {
    replaceSummary(readFileSync(RESULTS_MD, 'utf8'), {});
  } catch (error) {
    console.error(`bench: ${error.message}`);
    process.exit(2);
  }
}

function commit() {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.'], { cwd: path.join(dir, '..'), encoding: 'utf8' })
      .split('\n')
      .filter((l) => l && !/\sbench\/(results\.json|RESULTS\.md)$/.test(l)).length > 0;
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return 'unknown';
  }
}

// The tree the benchmarks run from: `npm run bench` built dist/ from it just before this script.
const RUN_COMMIT = commit();

function save(name, result, startedAt, loadBefore) {
  const all = existsSync(RESULTS_JSON) ? JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) : {};
  all[name] = {
    date: startedAt.toISOString(),
    commit: RUN_COMMIT,
    node: process.version,
    cores: os.cpus().length,
    load: { before: loadBefore, after: os.loadavg()[0] },
    runs: result.runs ?? null,
    pass: result.pass,
    figures: result.figures,
  };
  const sorted = Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(RESULTS_JSON, `${JSON.stringify(sorted, null, 2)}\n`);
  writeFileSync(RESULTS_MD, replaceSummary(readFileSync(RESULTS_MD, 'utf8'), sorted));
}

let missed = 0;
// A benchmark awaiting something that can no longer happen would let Node exit silently with 0.
process.on('exit', (code) => {
  if (code === 0 && !finished) {
    console.error('bench: exited before every benchmark finished (a promise never settled)');
    process.exitCode = 1;
  }
});
let finished = false;
for (const name of names) {
  const mod = await import(path.join(dir, `${name}.mjs`));
  if (typeof mod.run !== 'function') continue;
  const startedAt = new Date();
  const loadBefore = os.loadavg()[0];
  const result = await mod.run();
  console.log(`\n${result.name}: ${result.target}${result.runs ? ` (${result.runs} runs)` : ''} → ${result.pass ? 'PASS' : 'MISS'}`);
  for (const line of result.lines) console.log(`  ${line}`);
  if (record && result.figures?.length) save(name, result, startedAt, loadBefore);
  if (!result.pass) missed += 1;
}
finished = true;
console.log(`\n${names.length} benchmark(s), ${missed} missed their target. Machines are shared and noisy: compare ratios, not absolute times.`);
if (record) console.log('Figures recorded in bench/results.json; the summary at the top of bench/RESULTS.md is regenerated from it.');
