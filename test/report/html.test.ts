/**
 * The HTML report's renderer on fixtures (issue 11, part 5): every text is escaped — a shop
 * named `<script>` stays text, in the tables and in the charts' SVG —, no secret reaches the
 * file, the page loads nothing from anywhere, and the charts have one mark per datum. The page
 * in a real browser is test/commands/report.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeRunReports } from '../../src/report/run-reporters.js';
import { parseReporterOptions } from '../../src/report/reporter-options.js';
import { RUN_REPORTERS } from '../../src/report/run-reporters.js';
import { tempDir } from '../helpers/cli.js';
import { escapeHtml, html, trustedHtml } from '../../src/report/html/escape.js';
import { prose } from '../../src/report/html/format.js';
import { renderHtmlReport, type HtmlReportModel } from '../../src/report/html.js';
import type { AnalyticsReport } from '../../src/report/analytics.js';
import type { SuccessMetricsReport } from '../../src/db/analytics/metrics.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import type { WatchReport, WatchVerdict } from '../../src/runbook/watch/types.js';
import { allPassedDeploy, failedAtMigrateDeploy } from './run-fixtures.js';

const EVIL = `<script>alert("x")</script> & 'Bob's' <img src=x onerror=alert(1)>`;

const analytics = (shopName = EVIL): AnalyticsReport => ({
  schema: 'routergpt.analytics/v1',
  env: 'staging',
  database: 'postgres://app:*****@db.internal:5432/app',
  since: '2026-11-23T00:00:00.000Z',
  until: '2026-11-26T00:00:00.000Z',
  daily: ['2026-11-23', '2026-11-24', '2026-11-25'].map((date, i) => ({ date, searches: 4 + i, delegations: 2, chatMessages: 3, bookings: i, errors: 0, uniqueSessions: 2, avgSearchLatencyMs: 12.5 })),
  funnel: { windowHours: 24, searches: 15, searchesWithResults: 12, delegated: 6, booked: 3 },
  shops: [
    { slug: 'evil-shop', name: shopName, timesDiscovered: 9, timesDelegated: 4, bookings: 2 },
    { slug: 'shop-b', name: 'Shop B', timesDiscovered: 3, timesDelegated: 2, bookings: 1 },
  ],
  lastHour: [{ eventType: 'search', real: 2, synthetic: 1 }],
  timeBetweenEvents: [{ eventType: 'booking', events: 3, avgSecondsSincePrevious: 300 }],
});

const metrics: SuccessMetricsReport = {
  since: '2026-11-23T00:00:00.000Z',
  until: '2026-11-26T00:00:00.000Z',
  funnelWindowHours: 24,
  verdict: 'fail',
  counts: { pass: 1, fail: 1, inconclusive: 0 },
  metrics: [
    { id: 'error-rate', name: 'Error rate', unit: '%', comparison: 'below', target: 1, targetOrigin: 'the checklist (Success Metrics)', actual: 2.5, sample: 400, minSample: 100, minSampleOrigin: 'built-in minimum', sampleOf: 'requests', parts: { errors: 10, requests: 400 }, verdict: 'fail', reason: '10 errors in 400 requests: 2.5 % ≥ 1 %' },
    { id: 'response-time', name: 'Average response time', unit: 'ms', comparison: 'below', target: 500, targetOrigin: 'the checklist (Success Metrics)', actual: 120.4, sample: 300, minSample: 30, minSampleOrigin: 'built-in minimum', sampleOf: 'timed requests', parts: {}, verdict: 'pass', reason: '120 ms < 500 ms' },
  ],
};

const verdict = (partial: Partial<WatchVerdict> & Pick<WatchVerdict, 'metric' | 'status'>): WatchVerdict => ({ unit: 'ratio', actual: 0, samples: 120, reason: 'within limits', ...partial });

const watch: WatchReport = {
  env: 'staging',
  apiBase: 'http://127.0.0.1:8080',
  release: 'v1.4.0',
  startedAt: '2026-11-25T18:01:00.000Z',
  endedAt: '2026-11-25T18:16:00.000Z',
  forMs: 900_000,
  intervalMs: 60_000,
  minRequests: 20,
  strict: false,
  limits: { p95_ms: { search: 500, delegate: 200, chat: 5000 }, error_rate: 0.01, rate_429: 0.05 },
  baseline: { kind: 'previous-release', release: 'v1.3.2', from: '2026-11-20T10:00:00.000Z', to: '2026-11-20T10:15:00.000Z', requests: 340, reason: 'the first 15 min of v1.3.2' },
  windows: [1, 2].map((index) => ({
    index,
    from: '2026-11-25T18:01:00.000Z',
    to: `2026-11-25T18:0${index + 1}:00.000Z`,
    status: index === 2 ? 'fail' : 'pass',
    health: { status: 'pass', httpStatus: 200, version: 'v1.4.0', reason: '/health 200' },
    routes: [{ route: 'search', path: '/router/search-by-location', status: index === 2 ? 'fail' : 'pass', verdicts: [verdict({ metric: 'p95_ms', unit: 'ms', status: index === 2 ? 'fail' : 'pass', actual: 612, baseline: 180, limit: 500, reason: 'p95 612 ms > limit 500 ms' }), verdict({ metric: 'error_rate', status: 'pass', actual: 0.004, baseline: 0.002, limit: 0.01 })] }],
    conversion: [verdict({ metric: 'search_to_booking', status: 'inconclusive', actual: null, baseline: undefined, samples: 3, reason: '3 searches < 20' })],
  })),
  status: 'fail',
  completed: false,
  action: { onFail: 'toggle', taken: 'toggled', rollbackRunId: '20261125T181600Z-rollback-0001', deployRunId: allPassedDeploy.id, reason: 'search p95 over its limit' },
};

const withWatch: RunRecord = {
  ...allPassedDeploy,
  items: [
    ...allPassedDeploy.items,
    { id: 'api.watch', kind: 'step', phase: 'post-deployment', title: 'Watch the release for 15 minutes', state: 'failed', attempts: 1, startedAt: watch.startedAt, finishedAt: watch.endedAt!, summary: 'fail: search p95', outputs: { report: watch } },
  ],
};

const model = (overrides: Partial<HtmlReportModel> = {}): HtmlReportModel => ({
  env: 'staging',
  generatedAt: '2026-11-26T09:00:00.000Z',
  database: 'postgres://app:*****@db.internal:5432/app',
  run: { record: withWatch, state: 'failed at api.watch' },
  analytics: analytics(),
  metrics,
  ...overrides,
});

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;

describe('escaping', () => {
  it('escapeHtml turns the five markup characters into entities', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('the html template escapes every value, joins lists, and inserts only markup it made or was told to trust', () => {
    const cell = html`<td title="${EVIL}">${EVIL}</td>`;
    expect(cell.value).not.toMatch(/<script|<img/i);
    expect(cell.value).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Bob&#39;s&#39;');
    expect(html`<ul>${['<a>', html`<li>${'<b>'}</li>`]}</ul>`.value).toBe('<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>');
    expect(html`${null}${undefined}${false}${0}`.value).toBe('0');
    expect(html`${trustedHtml('<svg></svg>')}`.value).toBe('<svg></svg>');
  });

  it('prose: backticked commands become <code>, every part still escaped', () => {
    expect(prose('run `routergpt x --a "<b>"` & <i>').value).toBe('run <code>routergpt x --a &quot;&lt;b&gt;&quot;</code> &amp; &lt;i&gt;');
  });
});

describe('renderHtmlReport', () => {
  it('a shop named <script> stays text in the table and in the chart; the page has no script, no element from elsewhere', async () => {
    const page = await renderHtmlReport(model());
    // No element but the page's own: no script, no image, no handler attribute on any tag.
    expect(page).not.toMatch(/<script|<img|<iframe|<object|javascript:/i);
    // (attribute values blanked first: an escaped `onerror=` inside an aria-label is text)
    expect(page.replace(/"[^"]*"/g, '""')).not.toMatch(/<[a-z][^>]*\son[a-z]+=/i);
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    const svg = page.slice(page.indexOf('id="chart-shops"'));
    expect(svg.slice(0, svg.indexOf('</figure>'))).toContain('&lt;script&gt;');
    // Nothing to fetch: no src/href other than in-page anchors, no url(), and a CSP forbidding it all.
    expect(page.match(/\b(src|href|xlink:href)="[^"#][^"]*"/g) ?? []).toEqual([]);
    expect(page).not.toMatch(/url\(|@import/);
    expect(page).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('the charts have a mark per datum: a point per day and series, a bar per funnel stage, three bars per shop, a point per watch window and route', async () => {
    const page = await renderHtmlReport(model());
    const chart = (id: string) => page.slice(page.indexOf(`id="${id}"`), page.indexOf('</figure>', page.indexOf(`id="${id}"`)));
    expect(count(chart('chart-daily'), /aria-roledescription="point"/g)).toBe(3 * 2);
    expect(count(chart('chart-daily'), /aria-roledescription="line mark"/g)).toBe(2);
    expect(count(chart('chart-funnel'), /aria-roledescription="bar"/g)).toBe(4);
    expect(count(chart('chart-shops'), /aria-roledescription="bar"/g)).toBe(2 * 3);
    // The watch: the search route's p95 in each of its two windows.
    expect(count(chart('chart-watch-1'), /aria-roledescription="point"/g)).toBe(2);
  });

  it('the run: every item, who signed and approved and when; the watch verdicts with their numbers; the success metrics', async () => {
    const page = await renderHtmlReport(model());
    for (const item of withWatch.items) expect(page).toContain(`data-item="${escapeHtml(item.id)}"`);
    expect(page).toContain('signed by <b>ana</b>, <time datetime="2026-11-25T18:00:40.000Z">2026-11-25 18:00:40 UTC</time>');
    expect(page).toMatch(/approved by<\/dt><dd><b>ben<\/b>/);
    expect(page).toContain('p95 612 ms &gt; limit 500 ms');
    expect(page).toContain('release v1.3.2');
    expect(page).toContain('toggle: toggled');
    expect(page).toContain('20261125T181600Z-rollback-0001');
    expect(page).toContain('every window (2)');
    expect(page).toContain('10 errors in 400 requests: 2.5 % ≥ 1 %');
    expect(page).toContain('&lt; 1.0 %');
  });

  it('says what is missing: no watch in the run, no run, metrics that could not be computed', async () => {
    const noWatch = await renderHtmlReport(model({ run: { record: failedAtMigrateDeploy, state: 'failed at db.migrate' } }));
    expect(noWatch).toContain('no watch in this run');
    expect(noWatch).toContain('data-item="db.migrate"');
    const none = await renderHtmlReport(model({ run: { missing: 'no deploy run recorded for staging yet' }, metrics: { missing: 'the success metrics could not be computed: relation "router_feedback" does not exist' } }));
    expect(none).toContain('no deploy run recorded for staging yet');
    expect(none).toContain('no watch in this run');
    expect(none).toContain('relation &quot;router_feedback&quot; does not exist');
  });

  it('no secret reaches the file: URL passwords in journal lines are masked', async () => {
    const leaky: RunRecord = { ...allPassedDeploy, items: allPassedDeploy.items.map((i) => (i.id === 'db.migrate' ? { ...i, details: ['connected to postgres://app:hunter2-secret@db.internal:5432/app'] } : i)) }; // routergpt:allow-secret (a test fixture, not a credential)
    const page = await renderHtmlReport(model({ run: { record: leaky, state: 'succeeded' } }));
    expect(page).not.toContain('hunter2-secret');
    expect(page).toContain('postgres://app:*****@db.internal:5432/app');
  });
});

describe('deploy/rollback --reporter html', () => {
  it('writes the run (and its watch) as the same self-contained page, saying which command adds the analytics and metrics', async () => {
    const cwd = tempDir();
    const out = new PassThrough();
    const reporters = parseReporterOptions(['human', 'html=run.html'], false, RUN_REPORTERS);
    const { written } = await writeRunReports(withWatch, reporters, { stdout: out, stderr: new PassThrough(), env: {}, color: false, columns: 100, cwd });
    expect(written).toEqual([path.join(cwd, 'run.html')]);
    const page = readFileSync(written[0]!, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    for (const item of withWatch.items) expect(page).toContain(`data-item="${escapeHtml(item.id)}"`);
    expect(page).toContain('p95 612 ms &gt; limit 500 ms');
    expect(page).toContain(`<code>routergpt report --html FILE --run ${withWatch.id} --env staging</code>`);
    expect(page).not.toMatch(/<script/i);
  });
});
