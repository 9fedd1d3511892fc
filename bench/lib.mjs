// Shared helpers for the benchmarks: medians and ratios against a baseline measured in the same run.
import { spawnSync } from 'node:child_process';

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Wall time of a command, in ms, `runs` times; interleave baselines with candidates to share the noise. */
export function timeCommand(cmd, args, options = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(cmd, args, { stdio: 'ignore', ...options });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

export function fmt(ms) {
  return `${ms.toFixed(1)} ms`;
}

/**
 * One row of a benchmark's target table, for `npm run bench` to collect into bench/results.json
 * and the generated summary of bench/RESULTS.md: the figure in each run (a ratio against a
 * baseline measured in that same run, or an absolute), its median and spread, and whether the
 * median meets the target. `target` is `{ op: '<=' | '<' | '>=' | '>', value }`; without one the row is
 * reported, not judged. `baseline` names what a ratio divides by, with its median.
 */
export function figure(id, label, samples, { unit = '×', target, baseline, note } = {}) {
  // NaN is "not measured"; Infinity stays: it is a run that timed out (no 503 within the bound),
  // and must weigh on the median (it is saved as null in results.json and shown as timed out).
  const values = samples.filter((v) => typeof v === 'number' && !Number.isNaN(v));
  const mid = values.length ? median(values) : NaN;
  const meets = { '<=': (v) => v <= target.value, '<': (v) => v < target.value, '>=': (v) => v >= target.value, '>': (v) => v > target.value };
  const pass = !target || !values.length ? null : meets[target.op](mid);
  return { id, label, unit, samples: values, median: mid, min: values.length ? Math.min(...values) : NaN, max: values.length ? Math.max(...values) : NaN, ...(target ? { target } : {}), ...(baseline ? { baseline } : {}), ...(note ? { note } : {}), pass };
}
