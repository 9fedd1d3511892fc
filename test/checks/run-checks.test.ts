/**
 * runChecks: bounded concurrency, results in the order given, and the `slow` checks started first
 * (a run ends when its longest check does: started last, it would be the whole tail).
 */
import { describe, expect, it } from 'vitest';
import { defineCheck, pass, type Check } from '../../src/checks/define-check.js';
import { runChecks } from '../../src/checks/run-checks.js';
import type { EnvironmentConfig } from '../../src/config/types.js';

function check(id: string, ms: number, started: string[], slow = false): Check {
  return defineCheck({ id, title: id, needs: [], stages: ['post'], ...(slow ? { slow: true } : {}), async run() {
    started.push(id);
    await new Promise((r) => setTimeout(r, ms));
    return pass(`${id} done`);
  } });
}

describe('runChecks', () => {
  it('starts the slow checks first and returns every result in the order given', async () => {
    const started: string[] = [];
    const checks = [check('a.one', 5, started), check('a.two', 5, started), check('a.long', 60, started, true), check('a.three', 5, started), check('a.longer', 80, started, true)];
    const outcomes = await runChecks({ checks, deps: { config: {} as EnvironmentConfig, fetch, now: () => new Date() }, concurrency: 2 });
    expect(started.slice(0, 2)).toEqual(['a.long', 'a.longer']);
    expect(started.slice(2)).toEqual(['a.one', 'a.two', 'a.three']);
    expect(outcomes.map((o) => [o.id, o.status, o.summary])).toEqual(checks.map((c) => [c.id, 'pass', `${c.id} done`]));
  });
});
