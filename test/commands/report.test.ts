/**
 * `routergpt report --html` (issue 11, part 5) end to end: a real deploy run on a real
 * PostgreSQL (with a real `routergpt serve`), real analytics rows, the real CLI writing the
 * file — then the file opened from disk in a real headless Chromium (Debian's package, driven
 * by playwright-core) with every non-file request aborted: nothing is requested, nothing logs
 * an error, the charts have one mark per datum, the run's items are listed, and a screenshot
 * is written to test-results/ as the artefact. Bad output paths, an unknown run and a bad
 * window exit 2 and write nothing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRIC_IDS } from '../../src/db/analytics/metrics.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import type { WatchReport } from '../../src/runbook/watch/types.js';
import { newestRun, REPO_ROOT, runCli, spawnCli, tempDir } from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/db.js';
import { createWorkspace, LOOPBACK_CHECKLIST, WORKSPACE_DEPLOYER, type Workspace } from '../helpers/workspace.js';

const CHROMIUM = '/usr/bin/chromium';
const EVIL = '<script>window.__pwned = 1</script> Fade & Co';
const DAY = 86_400_000;

let ws: Workspace;
let run: RunRecord;
let browser: Browser;
/** The window the report is asked for: from midnight UTC three days ago, so it covers four UTC dates. */
const sinceDate = new Date(Math.floor(Date.now() / DAY) * DAY - 3 * DAY);
const SINCE = sinceDate.toISOString().slice(0, 10);
const DAYS = Math.floor((Date.now() - sinceDate.getTime()) / DAY) + 1;
/** Shops that appear in a search's results in the window (the chart has three bars for each). */
let shopsFound = 0;

function latestRun(): RunRecord {
  const dir = path.join(ws.dir, '.routergpt', 'runs', 'staging');
  return newestRun(dir)!;
}

beforeAll(async () => {
  ws = await createWorkspace();
  // The loopback checklist with the post-deployment watch (api.watch) before the sign-off: a real
  // watch of the served API, short, journaling its WatchReport on the item. Windows of 2 s, not
  // 1 s: on a loaded machine the server's batched analytics reached a 1 s window too late.
  const checklist = path.join(ws.dir, 'loopback-watch.yaml');
  const loopback = readFileSync(LOOPBACK_CHECKLIST, 'utf8');
  expect(loopback).toContain('      - signoff: final');
  writeFileSync(checklist, loopback.replace('      - signoff: final', '      - step: api.watch\n        params: { for: 6s, interval: 2s, on_fail: stop }\n      - signoff: final'));
  // Live traffic while the watch runs: real (unmarked) searches against the served API, from the
  // moment the journal says api.watch started until the deploy ends.
  const child = spawnCli(['deploy', '--checklist', checklist, '--signoff-file', ws.signoffFile, '--yes', '--as', WORKSPACE_DEPLOYER], { cwd: ws.dir, env: ws.env });
  let deploying = true;
  void child.finally(() => (deploying = false));
  const watching = () => {
    try {
      return latestRun().items.find((i) => i.id === 'api.watch')?.state !== 'pending';
    } catch {
      return false; // no journal yet, or caught mid-rename
    }
  };
  while (deploying) {
    if (!watching()) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    await fetch(`http://127.0.0.1:${ws.port}/router/search-by-location`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latitude: 33.4255, longitude: -111.94 }) }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
  }
  const deployed = await child;
  expect(deployed.exitCode, String(deployed.stderr)).toBe(0);
  run = latestRun();
  // Traffic after the deploy: searches on each of the window's days, a delegation and a booking on some.
  const shops = await ws.query<{ id: string }>(`INSERT INTO shops (slug, name, category) VALUES ('evil-shop', $1, 'barbershop'), ('calm-shop', 'Calm Cuts', 'salon') RETURNING id`, [EVIL]);
  const [evil, calm] = shops.map((s) => Number(s.id)) as [number, number];
  for (let d = 0; d < DAYS; d += 1) {
    const at = (minutes: number) => new Date(sinceDate.getTime() + d * DAY + 60_000 * minutes).toISOString();
    // The last day's events sit before now (the window ends at the report's own now).
    const base = d === DAYS - 1 ? Math.max(0, Math.floor((Date.now() - sinceDate.getTime() - d * DAY) / 60_000) - 30) : 600;
    for (let s = 0; s <= d; s += 1) {
      const search = `00000000-0000-4000-8000-${String(d * 10 + s).padStart(12, '0')}`;
      const session = `10000000-0000-4000-8000-${String(d * 10 + s).padStart(12, '0')}`;
      await ws.query(`INSERT INTO router_analytics (event_type, search_id, latency_ms, payload, created_at) VALUES ('search', $1, 20, $2, $3)`, [search, JSON.stringify({ shop_ids: [evil, calm] }), at(base)]);
      if (s % 2 === 0) {
        await ws.query(`INSERT INTO router_analytics (event_type, session_id, shop_id, search_id, latency_ms, payload, created_at) VALUES ('delegate', $1, $2, $3, 15, '{}', $4)`, [session, evil, search, at(base + 1)]);
        await ws.query(`INSERT INTO router_analytics (event_type, session_id, shop_id, search_id, latency_ms, payload, created_at) VALUES ('booking', $1, $2, $3, 15, '{}', $4)`, [session, evil, search, at(base + 2)]);
      }
    }
  }
  // The oracle for the shops chart: distinct shops in real searches' results in the window (the
  // deploy's demo seed adds its own), at most the 20 the report charts.
  const [found] = await ws.query<{ n: number }>(
    `SELECT count(DISTINCT e.value)::int AS n FROM router_analytics a CROSS JOIN LATERAL jsonb_array_elements_text(a.payload -> 'shop_ids') e(value)
      WHERE a.event_type = 'search' AND NOT a.synthetic AND a.created_at >= $1`,
    [sinceDate.toISOString()],
  );
  shopsFound = Math.min(20, found!.n);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await ws?.stop();
});

describe('routergpt report --html', () => {
  it('one self-contained file that Chromium renders offline: no request, no console error, the charts, the run, the metrics; a screenshot', async () => {
    const out = tempDir('routergpt-report-');
    const file = path.join(out, 'report.html');
    const result = await runCli(['report', '--html', file, '--since', SINCE], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain(`wrote ${file}`);
    // Written by temp file + rename: only the report is left in the directory.
    expect(readdirSync(out)).toEqual(['report.html']);
    const text = readFileSync(file, 'utf8');
    // No secret: the workspace's database URL is shown masked, never with its password.
    expect(text).not.toContain(new URL(ws.env.DATABASE_URL!).password || '\u0000never');

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const blocked: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    const url = pathToFileURL(file).href;
    await page.goto(url, { waitUntil: 'load' });

    expect(blocked).toEqual([]);
    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
    expect(await page.title()).toBe(`routergpt report — staging — deploy ${run.id}`);
    // No script ran and none exists; the shop named <script> is text in its table cell.
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.evaluate('window.__pwned ?? null')).toBeNull();
    expect(await page.locator('table.shops tbody td', { hasText: 'Fade & Co' }).textContent()).toBe(EVIL);

    // The charts: a point per day and series, a line per series, a bar per funnel stage, three bars per shop.
    const marks = (chart: string, role: string) => page.locator(`#${chart} svg [aria-roledescription="${role}"]`).count();
    expect(await marks('chart-daily', 'point')).toBe(DAYS * 2);
    expect(await marks('chart-daily', 'line mark')).toBe(2);
    expect(await marks('chart-funnel', 'bar')).toBe(4);
    expect(await marks('chart-shops', 'bar')).toBe(shopsFound * 3);
    // Visible, not just present: each chart has a size on the page.
    for (const chart of ['chart-daily', 'chart-funnel', 'chart-shops']) {
      const box = await page.locator(`#${chart} svg`).boundingBox();
      expect(box?.width ?? 0, chart).toBeGreaterThan(200);
      expect(box?.height ?? 0, chart).toBeGreaterThan(80);
    }

    // The run: every item of the journal, in order, with its state; who deployed and signed.
    const ids = await page.locator('#run tr.item').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-item')));
    expect(ids).toEqual(run.items.map((i) => i.id));
    const runText = (await page.locator('#run').innerText()).replace(/\s+/g, ' ');
    expect(runText).toContain(run.id);
    expect(runText).toContain(run.signoff!.deployedBy);
    expect(runText).toContain('signed by Test Operator');
    // The watch the run journaled: its verdict, and one row per verdict of its last window.
    const watch = run.items.find((i) => i.id === 'api.watch')!.outputs!.report as WatchReport;
    expect(await page.locator('#watch article.watch').count()).toBe(1);
    const last = watch.windows.at(-1)!;
    const verdicts = last.routes.reduce((n, r) => n + r.verdicts.length, 0) + last.conversion.length;
    expect(verdicts).toBeGreaterThan(0);
    expect(await page.locator('#watch table.verdicts tbody tr').count()).toBe(verdicts);
    expect(await page.locator('#watch dl.facts .badge').first().textContent()).toBe(watch.status);
    // Its chart: a point per window and route that had a p95 — the searches of the live traffic above at least.
    const p95s = watch.windows.flatMap((w) => w.routes.flatMap((r) => r.verdicts.filter((v) => v.metric === 'p95_ms' && v.actual !== null).map(() => r.route)));
    expect(watch.windows.length).toBeGreaterThanOrEqual(2);
    // (the server flushes its analytics in batches, so the first window may not have seen them yet)
    expect(p95s.filter((route) => route === 'search').length).toBeGreaterThan(0);
    expect(await marks('chart-watch-1', 'point')).toBe(p95s.length);
    // The success metrics: one row per metric of the checklist.
    expect(await page.locator('#metrics table.metrics tbody tr').count()).toBe(METRIC_IDS.length);

    const shots = path.join(REPO_ROOT, 'test-results');
    mkdirSync(shots, { recursive: true });
    const shot = path.join(shots, 'report-html.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    await context.close();
  });

  it('--run picks a run, the latest deploy is the default; --reporter html alone prints the page on stdout', async () => {
    // A second deploy (the loopback checklist, no watch) becomes the latest; --run still names the first.
    const second = await ws.deploy();
    expect(second.exitCode, second.stderr).toBe(0);
    const result = await runCli(['report', '--reporter', 'html', '--run', run.id, '--since', '1d'], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^<!doctype html>/);
    expect(result.stdout).toContain(`<code>${run.id}</code>`);
    expect(result.stdout).toContain('data-item="api.watch"');
    // Without --run: the latest deploy, which had no watch.
    const latest = await runCli(['report', '--reporter', 'html', '--since', '1d'], { cwd: ws.dir, env: ws.env });
    expect(latest.exitCode, latest.stderr).toBe(0);
    expect(latest.stdout).toContain(`<code>${latestRun().id}</code>`);
    expect(latestRun().id).not.toBe(run.id);
    expect(latest.stdout).toContain('no watch in this run');
  });

  it('a file system that refuses the write (/proc): exit 2 naming the path, nothing left behind', async () => {
    const result = await runCli(['report', '--html', '/proc/routergpt-report.html'], { cwd: ws.dir, env: ws.env });
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toContain('Cannot write --html /proc/routergpt-report.html: ');
    expect(readdirSync('/proc').filter((f) => f.startsWith('routergpt-report'))).toEqual([]);
  });

  it('a database not migrated yet: the page says so in place of the analytics and metrics (exit 0), no run recorded', async () => {
    const fresh = await createTestDatabase('report-fresh');
    try {
      const result = await runCli(['report', '--reporter', 'html', '--env', 'prod'], { env: { DATABASE_URL: fresh.url } });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain('no deploy run recorded for prod yet');
      expect(result.stdout).toContain('the analytics could not be computed: relation &quot;router_analytics&quot; does not exist');
      expect(result.stdout).toMatch(/the success metrics could not be computed: relation &quot;\w+&quot; does not exist/);
      expect(result.stdout).toContain('<code>routergpt migrate up --env prod</code>');
    } finally {
      await fresh.drop();
    }
  });

  for (const [name, args, message] of [
    ['a directory that does not exist', (dir: string) => ['--html', path.join(dir, 'missing', 'r.html')], 'does not exist'],
    ['a path that is a directory', (dir: string) => ['--html', dir], 'it is a directory'],
    ['an unknown run', (dir: string) => ['--html', path.join(dir, 'r.html'), '--run', '20990101T000000Z-deploy-ffff'], 'Unknown run id'],
    ['--since 7x', (dir: string) => ['--html', path.join(dir, 'r.html'), '--since', '7x'], 'is not a duration or a date'],
    ['no output named', () => [], 'Pass --html FILE'],
  ] as const) {
    it(`bad input, ${name}: exit 2, one message, nothing written`, async () => {
      const dir = tempDir('routergpt-report-bad-');
      const result = await runCli(['report', ...args(dir)], { cwd: ws.dir, env: ws.env });
      expect(result.exitCode, result.stderr).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe('');
      expect(readdirSync(dir)).toEqual([]);
      expect(existsSync(path.join(dir, 'missing'))).toBe(false);
    });
  }
});
