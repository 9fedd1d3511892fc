/**
 * `routergpt checklist show` fits in 100 columns (issue 10, part 3): one line per item where it
 * fits, titles wrapped, ids never cut — for every shipped checklist — and fitColumns' rules.
 */
import { describe, expect, it } from 'vitest';
import { fitColumns } from '../../src/cli/render/output.js';
import { runCli, tempDir } from '../helpers/cli.js';

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex

describe('routergpt checklist show', () => {
  for (const env of ['local', 'staging', 'prod']) {
    it(`${env}: every line within 100 columns, every item id whole`, async () => {
      const result = await runCli(['checklist', 'show', '--env', env], { cwd: tempDir() });
      expect(result.exitCode, result.stderr).toBe(0);
      const lines = strip(result.stdout).trimEnd().split('\n');
      expect(Math.max(...lines.map((l) => [...l].length))).toBeLessThanOrEqual(100);
      expect(result.stdout).not.toContain('…');
      const json = JSON.parse((await runCli(['checklist', 'show', '--env', env, '--json'], { cwd: tempDir() })).stdout) as { phases: Array<{ items: Array<{ id: string }> }> };
      for (const id of json.phases.flatMap((p) => p.items.map((i) => i.id))) {
        for (const part of id.replace(/^checks:/, '').split('+')) expect(result.stdout).toContain(part);
      }
    });
  }
});

describe('fitColumns', () => {
  const head = ['id', 'title'];
  it('keeps natural widths when they fit', () => {
    expect(fitColumns(head, [['a.b', 'short']], 40)).toEqual([5, 7]);
  });
  it('shrinks only the wrapping columns, never below their longest word', () => {
    const rows = [['db.indexes-valid', 'a long title that will have to wrap over several lines here']];
    const widths = fitColumns(head, rows, 50, { wrap: [1] });
    expect(widths[0]).toBe(18);
    expect(widths.reduce((a, b) => a + b, 0) + 3).toBe(50);
    expect(widths[1]!).toBeGreaterThanOrEqual('several'.length + 2);
  });
});
