/**
 * `watch:` in routergpt.config.yaml (every key over its default, each problem reported at once),
 * and the live view's redraw: the second frame moves the cursor back over the first.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/errors.js';
import { liveView } from '../../src/report/watch.js';
import type { WatchReport, WatchWindow } from '../../src/runbook/watch/types.js';
import { tempDir } from '../helpers/cli.js';

function load(watch: string) {
  const cwd = tempDir();
  writeFileSync(path.join(cwd, 'routergpt.config.yaml'), `version: 1\nenvironments:\n  prod:\n    database: { url_env: DATABASE_URL }\n${watch}`);
  return loadConfig({ flags: { env: 'prod' }, cwd, env: { DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' } });
}

describe('config watch:', () => {
  it('defaults: 15m every 1m, 20 requests, the checklist\'s budgets', () => {
    const { config } = load('');
    expect(config.watch).toMatchObject({ source: 'default', value: { forMs: 900_000, intervalMs: 60_000, minRequests: 20, limits: { p95_ms: { search: 500, delegate: 200, chat: 5000 }, error_rate: 0.01, rate_429: 0.05 } } });
  });

  it('each key overrides its default; the rest stay', () => {
    const { config } = load('    watch:\n      for: 30m\n      min_requests: 50\n      limits: { p95: { search: 400ms }, error_rate_percent: 0.5 }\n');
    expect(config.watch.source).toBe('file');
    expect(config.watch.origin).toContain('environments.prod.watch (watch.for, watch.min_requests, watch.limits');
    expect(config.watch.value).toEqual({ forMs: 1_800_000, intervalMs: 60_000, minRequests: 50, limits: { p95_ms: { search: 400, delegate: 200, chat: 5000 }, error_rate: 0.005, rate_429: 0.05 } });
  });

  it('a bad duration, a bad number and an unknown key are all reported at once (exit 2)', () => {
    const error = problemOf('    watch:\n      for: 7x\n      min_requests: 0\n      limits: { p99: {} }\n');
    expect(error.exitCode).toBe(2);
    const text = [error.message, ...error.problems].join('\n');
    expect(text).toContain('environments.prod.watch.for "7x" is not a duration');
    expect(text).toMatch(/watch\.min_requests/);
    expect(text).toMatch(/watch\.limits.*p99/);
  });

  it('an interval longer than the watch names both and the fix', () => {
    expect(problemOf('    watch:\n      for: 1m\n      interval: 2m\n').message).toContain('environments.prod.watch.interval (2m) is longer than watch.for (1m): make the interval at most as long as the watch.');
  });
});

function problemOf(watch: string): ConfigError {
  try {
    load(watch);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no ConfigError');
}

describe('the live view', () => {
  it('redraws in place: the next frame starts by moving up over the last one and clearing', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const window = (index: number): WatchWindow => ({
      index, from: '2030-03-04T17:00:00.000Z', to: `2030-03-04T17:0${index}:00.000Z`, status: 'pass', health: { status: 'pass', httpStatus: 200, version: 'v2', reason: '/health 200, version v2' },
      routes: [{ route: 'search', path: '/router/search-by-location', status: 'pass', verdicts: [
        { metric: 'requests', status: 'pass', unit: 'count', actual: 40, samples: 40, reason: '40 requests' },
        { metric: 'error_rate', status: 'pass', unit: 'ratio', actual: 0, limit: 0.01, samples: 40, reason: 'ok' },
        { metric: 'p50_ms', status: 'pass', unit: 'ms', actual: 20, samples: 40, reason: 'ok' },
        { metric: 'p95_ms', status: 'pass', unit: 'ms', actual: 80, limit: 500, samples: 40, reason: 'ok' },
        { metric: 'rate_429', status: 'pass', unit: 'ratio', actual: 0, limit: 0.05, samples: 40, reason: 'ok' },
      ] }],
      conversion: [],
    });
    const report = { env: 'prod', apiBase: 'http://x', release: 'v2', startedAt: '2030-03-04T17:00:00.000Z', forMs: 120_000, intervalMs: 60_000, minRequests: 20, strict: false, limits: { p95_ms: {}, error_rate: 0.01, rate_429: 0.05 }, baseline: { kind: 'none', requests: 0, reason: 'no baseline' }, windows: [], status: 'pass', completed: false } as WatchReport;
    const draw = liveView(out, { color: false, columns: 120 });
    await draw(window(1), report);
    const first = text;
    expect(first).not.toContain('\x1b[');
    expect(first).toContain('/router/search-by-location');
    await draw(window(2), report);
    const lines = first.split('\n').length - 1;
    expect(text.slice(first.length).startsWith(`\x1b[${lines}A\x1b[0J`)).toBe(true);
    expect(text).toContain('window 2 (120 s of 120 s)');
  });
});
