// The generated summary of bench/RESULTS.md: figure() judges the median against the target, and
// replaceSummary rewrites only the block between its markers, in the issue table's order.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM helpers of the benchmarks, without types
import { figure } from '../../bench/lib.mjs';
// @ts-expect-error: as above
import { replaceSummary, SUMMARY_BEGIN, SUMMARY_END } from '../../bench/_summary.mjs';

const run = (figures: unknown[]) => ({ date: '2026-12-02T10:00:00.000Z', commit: 'abc1234', node: 'v20.20.2', cores: 2, load: { before: 1.5, after: 2.25 }, runs: 3, pass: true, figures });

describe('bench summary', () => {
  it('takes the median of the runs and judges it against the target, either way', () => {
    const lower = figure('a', 'A', [1.3, 1.1, 1.2], { target: { op: '<=', value: 1.15 } });
    expect(lower).toMatchObject({ median: 1.2, min: 1.1, max: 1.3, pass: false });
    const higher = figure('b', 'B', [6, 2, 5, Number.NaN], { target: { op: '>=', value: 5 } });
    expect(higher).toMatchObject({ median: 5, samples: [6, 2, 5], pass: true });
    expect(figure('c', 'C', [2], {}).pass).toBeNull(); // reported, not judged
    expect(figure('e', 'E', [1], { target: { op: '<', value: 1 } }).pass).toBe(false); // strictly below
    // A run that timed out (Infinity) weighs on the median instead of being dropped.
    expect(figure('g', 'G', [Infinity, Infinity, 300], { unit: 'ms', target: { op: '<=', value: 2000 } })).toMatchObject({ median: Infinity, pass: false });
    expect(figure('f', 'F', [0.99], { target: { op: '<', value: 1 } }).pass).toBe(true);
    expect(figure('d', 'D', [], { target: { op: '<=', value: 1 }, note: 'skipped: no PostGIS' })).toMatchObject({ pass: null, note: 'skipped: no PostGIS' });
  });

  it('rewrites only the block between the markers, ordered as the issue table', () => {
    const md = `# Results\n\n${SUMMARY_BEGIN}\nold table\n${SUMMARY_END}\n\n## Notes\nhand-written\n`;
    const out: string = replaceSummary(md, {
      'cli-startup': run([figure('cli.version', 'CLI --version ÷ node', [1.1, 1.2, 1.15], { target: { op: '<=', value: 1.4 }, baseline: { label: 'node -e 0', median: 61.2, unit: 'ms' } })]),
      'search-db': run([figure('search-db.p99-vs-postgis', 'search ÷ PostGIS', [], { note: 'skipped: the postgis extension is not installed' })]),
      'verify-pg': run([figure('verify-pg.faster', 'verify ÷ by hand', [2.0, 2.4, 2.2], { target: { op: '>=', value: 5 } })]),
    });
    expect(out).not.toContain('old table');
    expect(out.endsWith(`${SUMMARY_END}\n\n## Notes\nhand-written\n`)).toBe(true);
    const rows = out.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| figure'));
    expect(rows.map((r) => r.split(' | ')[0])).toEqual(['| search ÷ PostGIS', '| verify ÷ by hand', '| CLI --version ÷ node']);
    expect(rows[0]).toContain('skipped: the postgis extension is not installed');
    expect(rows[1]).toContain('**×2.20**');
    expect(rows[1]).toContain('×2.00–×2.40 (3)');
    expect(rows[1]).toContain('≥ ×5.00 ✗');
    expect(rows[2]).toContain('node -e 0: 61.2 ms');
    expect(rows[2]).toContain('≤ ×1.40 ✔');
    expect(rows[2]).toContain('load 1.5→2.3');
    expect(rows[2]).toContain('`cli-startup` PASS');
  });

  it('shows a run that timed out as such, after the JSON round trip', () => {
    const saved = JSON.parse(JSON.stringify({ 'deploy-local': run([figure('t', 'toggle → first 503', [Infinity, Infinity, 300], { unit: 'ms', target: { op: '<', value: 5000 } })]) }));
    const row = (replaceSummary(`${SUMMARY_BEGIN}\n${SUMMARY_END}\n`, saved) as string).split('\n').find((l) => l.startsWith('| toggle'));
    expect(row).toContain('**timed out**');
  });

  it('refuses a file whose markers are gone, naming the fix', () => {
    expect(() => replaceSummary('# Results\n', {})).toThrow(/put the two lines back/);
  });
});
