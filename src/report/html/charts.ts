/**
 * The report's charts: Vega-Lite specifications compiled to Vega and rendered to SVG strings in
 * Node (`renderer: 'none'` + `toSVG()`: no canvas, no browser, no network), so the HTML file
 * carries them inline and they read without JavaScript. Vega escapes the text it writes into
 * the SVG (labels, aria-labels), which is what lets the page insert the SVG as markup.
 *
 * Every chart is described by an `aria-label` on the figure (the page says the same in a table
 * beside it), and its marks carry Vega's `aria-roledescription` ("point", "bar"), which the
 * Chromium test counts.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { DailyRow, FunnelResult, ShopRow } from '../../db/analytics/queries.js';

const WIDTH = 640;
/** One colour per series, the same in every chart (Vega's default palette, first three). */
const COLORS = { searches: '#4c78a8', bookings: '#54a24b', delegated: '#f58518' } as const;
const CONFIG = { font: 'system-ui, -apple-system, "Segoe UI", sans-serif', view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 11 }, legend: { labelFontSize: 11 } } as const;

/** Render one Vega-Lite spec to an SVG string (vega and vega-lite load on first use). */
export async function renderChart(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  // Warnings go nowhere (a report is not the place to debug a spec); errors still throw.
  const logger = vega.logger(vega.Error);
  const compiled = vl.compile({ config: CONFIG, ...spec } as TopLevelSpec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Daily searches and bookings: one line per series, one point per day and series. */
export function dailySpec(daily: readonly DailyRow[]): TopLevelSpec {
  const values = daily.flatMap((d) => [
    { date: d.date, series: 'searches', count: d.searches },
    { date: d.date, series: 'bookings', count: d.bookings },
  ]);
  return {
    description: `Daily searches and bookings, ${daily[0]?.date ?? ''} to ${daily[daily.length - 1]?.date ?? ''}`,
    width: WIDTH,
    height: 220,
    data: { values },
    mark: { type: 'line', point: { filled: true, size: 40 }, strokeWidth: 2 },
    encoding: {
      x: { field: 'date', type: 'temporal', timeUnit: 'utcyearmonthdate', title: null, axis: { format: '%b %d', labelAngle: 0, labelOverlap: true, tickCount: { interval: 'day', step: Math.max(1, Math.ceil(daily.length / 12)) } } },
      y: { field: 'count', type: 'quantitative', title: 'events per day', axis: { tickMinStep: 1, format: 'd' } },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: ['searches', 'bookings'], range: [COLORS.searches, COLORS.bookings] }, legend: { orient: 'top' } },
    },
  };
}

export const FUNNEL_STAGES = ['searched', 'found a shop', 'delegated', 'booked'] as const;

/** The ordered funnel: one bar per stage, with its count beside it. */
export function funnelSpec(f: FunnelResult): TopLevelSpec {
  const counts = [f.searches, f.searchesWithResults, f.delegated, f.booked];
  return {
    description: `Funnel per search: ${FUNNEL_STAGES.map((s, i) => `${s} ${counts[i]}`).join(', ')}`,
    width: WIDTH - 140,
    height: { step: 28 },
    data: { values: FUNNEL_STAGES.map((stage, i) => ({ stage, searches: counts[i] })) },
    encoding: {
      y: { field: 'stage', type: 'nominal', sort: [...FUNNEL_STAGES], title: null },
      x: { field: 'searches', type: 'quantitative', title: 'searches', axis: { tickMinStep: 1, format: 'd' } },
    },
    layer: [{ mark: { type: 'bar', color: COLORS.searches } }, { mark: { type: 'text', align: 'left', dx: 4 }, encoding: { text: { field: 'searches', type: 'quantitative' } } }],
  };
}

export const SHOP_MEASURES = ['discovered', 'delegated', 'booked'] as const;

/** Popular shops: per shop, three bars side by side (in a search's results, delegated, booked). */
export function shopsSpec(shops: readonly ShopRow[]): TopLevelSpec {
  // Labelled by name; two shops of one name get their slugs, so their bars never merge.
  const names = new Map<string, number>();
  for (const s of shops) names.set(s.name, (names.get(s.name) ?? 0) + 1);
  const label = (s: ShopRow) => ((names.get(s.name) ?? 0) > 1 ? `${s.name} (${s.slug})` : s.name);
  const values = shops.flatMap((s) => [
    { shop: label(s), measure: 'discovered', count: s.timesDiscovered },
    { shop: label(s), measure: 'delegated', count: s.timesDelegated },
    { shop: label(s), measure: 'booked', count: s.bookings },
  ]);
  return {
    description: `Popular shops: ${shops.length} shops by times found in search results`,
    width: WIDTH - 200,
    // Three thin bars per shop, so twenty shops stay one screen tall.
    height: { step: 9, for: 'offset' },
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'shop', type: 'nominal', sort: shops.map(label), title: null, axis: { labelLimit: 200 } },
      yOffset: { field: 'measure', type: 'nominal', sort: [...SHOP_MEASURES] },
      x: { field: 'count', type: 'quantitative', title: 'times', axis: { tickMinStep: 1, format: 'd' } },
      color: { field: 'measure', type: 'nominal', title: null, scale: { domain: [...SHOP_MEASURES], range: [COLORS.searches, COLORS.delegated, COLORS.bookings] }, legend: { orient: 'top' } },
    },
  };
}

/** One point of the watch chart: a route's p95 latency over the watch so far, at a window's end. */
export interface WatchLatencyPoint {
  to: string;
  route: string;
  p95: number;
}

/** The watch's p95 latency per route, window by window (each window runs from the watch's start): a line per route, a point per window. */
export function watchLatencySpec(points: readonly WatchLatencyPoint[]): TopLevelSpec {
  return {
    description: `p95 latency per route over ${new Set(points.map((p) => p.to)).size} watch windows`,
    width: WIDTH,
    height: 200,
    data: { values: [...points] },
    mark: { type: 'line', point: { filled: true, size: 40 }, strokeWidth: 2 },
    encoding: {
      x: { field: 'to', type: 'temporal', scale: { type: 'utc' }, title: 'window end (UTC)', axis: { format: '%H:%M:%S', labelOverlap: true } },
      y: { field: 'p95', type: 'quantitative', title: 'p95 latency (ms)' },
      color: { field: 'route', type: 'nominal', title: null, legend: { orient: 'top' } },
    },
  };
}
