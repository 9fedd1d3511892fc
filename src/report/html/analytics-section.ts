/**
 * The analytics part of the HTML report: what `routergpt analytics` tabulates (the same report
 * object), with real charts — daily searches and bookings as lines with a point per day, the
 * funnel as one bar per stage, popular shops as bars — and the numbers in tables beside them.
 */
import type { AnalyticsReport } from '../analytics.js';
import { dailySpec, funnelSpec, renderChart, shopsSpec } from './charts.js';
import { html, trustedHtml, type SafeHtml } from './escape.js';
import { percent, prose, table, time } from './format.js';

/** A chart with its caption; Vega's SVG is inserted as markup (it escapes its own text). */
function figure(id: string, caption: string, svg: string): SafeHtml {
  return html`<figure class="chart" id="${id}" aria-label="${caption}">${trustedHtml(svg)}<figcaption>${caption}</figcaption></figure>`;
}

export async function renderAnalyticsSection(input: AnalyticsReport | { missing: string }): Promise<SafeHtml> {
  if ('missing' in input) return html`<section id="analytics"><h2>Analytics</h2><p class="empty">${prose(input.missing)}</p></section>`;
  const r = input;
  const f = r.funnel;
  const traffic = r.daily.some((d) => d.searches > 0 || d.bookings > 0);
  const daily = r.daily.length && traffic ? figure('chart-daily', 'Searches and bookings per day (UTC)', await renderChart(dailySpec(r.daily))) : html`<p class="empty">no searches or bookings in the window</p>`;
  const funnel = figure('chart-funnel', `Funnel per search (each stage within ${f.windowHours} h of the one before)`, await renderChart(funnelSpec(f)));
  const shops = r.shops.length ? figure('chart-shops', 'Popular shops: found in search results, delegated, booked', await renderChart(shopsSpec(r.shops))) : '';
  return html`<section id="analytics">
<h2>Analytics</h2>
<p class="muted">${time(r.since)} → ${time(r.until)} · real traffic only (routergpt's own synthetic checks excluded)</p>
<h3>Daily activity</h3>
${daily}
<details><summary>daily figures (${r.daily.length} days)</summary>
${table(['date', 'searches', 'delegations', 'chat messages', 'bookings', 'errors', 'sessions', 'avg search ms'], r.daily.map((d) => [d.date, d.searches, d.delegations, d.chatMessages, d.bookings, d.errors, d.uniqueSessions, d.avgSearchLatencyMs ?? '—']), 'no days in the window', 'numbers')}
</details>
<h3>Funnel, per search</h3>
${funnel}
${table(['stage', 'searches', 'of all searches', 'of the stage before'], [
    ['searched', f.searches, percent(f.searches, f.searches), '—'],
    ['found a shop', f.searchesWithResults, percent(f.searchesWithResults, f.searches), percent(f.searchesWithResults, f.searches)],
    ['delegated to a shop it found', f.delegated, percent(f.delegated, f.searches), percent(f.delegated, f.searchesWithResults)],
    ['booked in that session', f.booked, percent(f.booked, f.searches), percent(f.booked, f.delegated)],
  ], '', 'numbers funnel')}
<h3>Popular shops</h3>
${shops}
${table(['shop', 'slug', 'found in results', 'delegated', 'bookings'], r.shops.map((s) => [s.name, html`<code>${s.slug}</code>`, s.timesDiscovered, s.timesDelegated, s.bookings]), 'no search found a shop in the window', 'numbers shops')}
<h3>Events in the last hour</h3>
${table(['event', 'real', 'synthetic'], r.lastHour.map((e) => [e.eventType, e.real, e.synthetic]), 'no events in the last hour', 'numbers')}
<h3>Time between events in a session</h3>
${table(['event', 'events after another', 'mean seconds since the previous'], r.timeBetweenEvents.map((g) => [g.eventType, g.events, g.avgSecondsSincePrevious ?? '—']), 'no session had two events in the window', 'numbers')}
</section>`;
}
