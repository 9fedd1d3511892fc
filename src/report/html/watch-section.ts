/**
 * The watch part of the HTML report: the verdicts `routergpt watch` (or the checklist's
 * `api.watch` step) journaled — a WatchReport under the item's `outputs.report` — with the
 * numbers that decided each one; "no watch in this run" when the run has none.
 */
import type { ItemRecord, RunRecord } from '../../runbook/journal.js';
import type { WatchReport, WatchUnit, WatchVerdict, WatchWindow } from '../../runbook/watch/types.js';
import { renderChart, watchLatencySpec, type WatchLatencyPoint } from './charts.js';
import { html, trustedHtml, type SafeHtml } from './escape.js';
import { badge, duration, table, time } from './format.js';

export interface JournaledWatch {
  item: Pick<ItemRecord, 'id' | 'title' | 'state'>;
  report: WatchReport;
}

function isWatchReport(value: unknown): value is WatchReport {
  const r = value as Partial<WatchReport> | null;
  return typeof r === 'object' && r !== null && Array.isArray(r.windows) && typeof r.status === 'string' && typeof r.baseline === 'object';
}

/** Every item of the run that journaled a watch (api.watch, or a watch run's own item), in run order. */
export function watchesOf(record: RunRecord | undefined): JournaledWatch[] {
  if (!record) return [];
  return record.items.flatMap((item) => (isWatchReport(item.outputs?.report) ? [{ item: { id: item.id, title: item.title, state: item.state }, report: item.outputs.report }] : []));
}

function value(v: number | null | undefined, unit: WatchUnit): string {
  if (v === null || v === undefined) return '—';
  switch (unit) {
    case 'ratio':
      return `${(100 * v).toFixed(2)} %`;
    case 'ms':
      return `${Math.round(v)} ms`;
    case 'count':
      return String(Math.round(v));
  }
}

const METRIC_NAMES: Record<string, string> = {
  requests: 'requests',
  error_rate: 'error rate',
  p50_ms: 'p50 latency',
  p95_ms: 'p95 latency',
  rate_429: '429 rate',
  search_to_delegate: 'search → delegate',
  delegate_to_booking: 'delegate → booking',
  search_to_booking: 'search → booking',
};

function verdictRow(where: SafeHtml | string, v: WatchVerdict): Array<SafeHtml | string | number> {
  return [where, METRIC_NAMES[v.metric] ?? v.metric, badge(v.status), value(v.actual, v.unit), v.baseline === undefined ? 'no baseline' : value(v.baseline, v.unit), v.limit === undefined ? '—' : value(v.limit, v.unit), v.samples, v.reason];
}

function verdictTable(w: WatchWindow): SafeHtml {
  const rows = [
    ...w.routes.flatMap((r) => r.verdicts.map((v) => verdictRow(html`<code>${r.path}</code>`, v))),
    ...w.conversion.map((v) => verdictRow('conversion', v)),
  ];
  return table(['route', 'metric', 'verdict', 'actual', 'baseline', 'limit', 'samples', 'why'], rows, 'no verdicts in this window', 'verdicts');
}

/** Every window's p95 per route (routes with no timed request in a window have no point there). */
export function latencyPoints(r: WatchReport): WatchLatencyPoint[] {
  return r.windows.flatMap((w) => w.routes.flatMap((route) => route.verdicts.filter((v) => v.metric === 'p95_ms' && v.actual !== null).map((v) => ({ to: w.to, route: route.route, p95: v.actual! }))));
}

async function latencyChart(r: WatchReport, id: string): Promise<SafeHtml | string> {
  const points = latencyPoints(r);
  if (r.windows.length < 2 || points.length === 0) return '';
  const caption = 'p95 latency per route, window by window (each window from the start of the watch)';
  return html`<figure class="chart" id="${id}" aria-label="${caption}">${trustedHtml(await renderChart(watchLatencySpec(points)))}<figcaption>${caption}</figcaption></figure>`;
}

async function renderOne({ item, report: r }: JournaledWatch, index: number): Promise<SafeHtml> {
  const last = r.windows[r.windows.length - 1];
  const b = r.baseline;
  const limits = [
    ...Object.entries(r.limits.p95_ms).map(([route, ms]) => `${route} p95 < ${ms} ms`),
    `error rate < ${(100 * r.limits.error_rate).toFixed(2)} %`,
    `429 rate < ${(100 * r.limits.rate_429).toFixed(2)} %`,
  ].join(' · ');
  const facts: Array<[string, SafeHtml | string]> = [
    ['verdict', html`${badge(r.status)} ${r.completed ? 'ran its full length' : 'ended early'}`],
    ['release', r.release ? html`<code>${r.release}</code>` : 'unknown'],
    ['watched', html`${time(r.startedAt)} → ${time(r.endedAt)} · for ${duration(r.forMs)}, every ${duration(r.intervalMs)} · ${r.apiBase}`],
    ['baseline', b.kind === 'none' ? b.reason : html`${b.kind === 'previous-release' ? `release ${b.release ?? '?'}` : b.kind === 'concurrent' ? `release ${b.release ?? '?'} on the rest of the fleet, same window` : 'a week earlier'}, ${time(b.from)} → ${time(b.to)}, ${b.requests} requests — ${b.reason}`],
    ['limits', `${limits} · verdicts need ${r.minRequests} requests${r.strict ? ' · --strict' : ''}`],
  ];
  if (r.action) facts.push(['on fail', html`${r.action.onFail}: ${r.action.taken} — ${r.action.reason}${r.action.rollbackRunId ? html` (rollback run <code>${r.action.rollbackRunId}</code>)` : ''}`]);
  if (last) facts.push(['health', html`${badge(last.health.status)} ${last.health.httpStatus ?? 'unreachable'}${last.health.version ? html` · version <code>${last.health.version}</code>` : ''} — ${last.health.reason}`]);
  return html`<article class="watch" data-item="${item.id}">
<h3><code>${item.id}</code> ${item.title}</h3>
<dl class="facts">${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
${await latencyChart(r, `chart-watch-${index + 1}`)}
${last ? html`<h4>Verdicts of the last window (${time(last.from)} → ${time(last.to)})</h4>${verdictTable(last)}` : html`<p class="empty">the watch ended before its first window</p>`}
${r.windows.length > 1 ? html`<details><summary>every window (${r.windows.length})</summary>${table(['window', 'from', 'to', 'verdict', 'health'], r.windows.map((w) => [w.index, time(w.from), time(w.to), badge(w.status), badge(w.health.status)]), '')}</details>` : ''}
</article>`;
}

export async function renderWatchSection(record: RunRecord | undefined): Promise<SafeHtml> {
  const watches = watchesOf(record);
  const rendered = await Promise.all(watches.map(renderOne));
  return html`<section id="watch"><h2>Watch</h2>${rendered.length ? rendered : html`<p class="empty">no watch in this run</p>`}</section>`;
}
