/**
 * `routergpt analytics` rendered: `human` (tables, a chart of daily searches and bookings drawn
 * by asciichart, the funnel as bars), `json` (`routergpt.analytics/v1`, the report object) and
 * `markdown` (the same tables, the chart in a code block) for a PR comment or a review note.
 */
import asciichart from 'asciichart';
import type { DailyRow, EventCount, FunnelResult, GapRow, ShopRow } from '../db/analytics/queries.js';
import type { ReporterOption } from './reporter-options.js';

export const ANALYTICS_REPORT_SCHEMA = 'routergpt.analytics/v1';
export const ANALYTICS_REPORTERS = ['human', 'json', 'markdown'] as const;
export type AnalyticsReporterName = (typeof ANALYTICS_REPORTERS)[number];
export type AnalyticsReporterSpec = ReporterOption<AnalyticsReporterName>;

export interface AnalyticsReport {
  schema: typeof ANALYTICS_REPORT_SCHEMA;
  env: string;
  /** Masked. */
  database: string;
  since: string;
  until: string;
  daily: DailyRow[];
  funnel: FunnelResult;
  shops: ShopRow[];
  lastHour: EventCount[];
  timeBetweenEvents: GapRow[];
}

export interface AnalyticsRenderOptions {
  color: boolean;
  columns?: number;
}

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : '—');

interface Section {
  title: string;
  head: string[];
  rows: string[][];
  /** Said instead of an empty table. */
  empty: string;
}

function sections(r: AnalyticsReport): Section[] {
  const f = r.funnel;
  return [
    {
      title: 'Daily activity (router_usage_summary, router_conversion_funnel)',
      head: ['date', 'searches', 'delegations', 'chat messages', 'bookings', 'errors', 'sessions', 'avg search ms'],
      rows: r.daily.map((d) => [d.date, d.searches, d.delegations, d.chatMessages, d.bookings, d.errors, d.uniqueSessions, d.avgSearchLatencyMs ?? '—'].map(String)),
      empty: 'no days in the window',
    },
    {
      title: `Funnel, per search (a stage counts within ${f.windowHours} h of the one before)`,
      head: ['stage', 'searches', 'of all searches', 'of the stage before'],
      rows: [
        ['searched', String(f.searches), pct(f.searches, f.searches), '—'],
        ['found a shop', String(f.searchesWithResults), pct(f.searchesWithResults, f.searches), pct(f.searchesWithResults, f.searches)],
        ['delegated to a shop it found', String(f.delegated), pct(f.delegated, f.searches), pct(f.delegated, f.searchesWithResults)],
        ['booked in that session', String(f.booked), pct(f.booked, f.searches), pct(f.booked, f.delegated)],
      ],
      empty: '',
    },
    {
      title: 'Popular shops (router_shop_discovery)',
      head: ['shop', 'discovered', 'delegated', 'bookings'],
      rows: r.shops.map((s) => [s.slug, s.timesDiscovered, s.timesDelegated, s.bookings].map(String)),
      empty: 'no search found a shop in the window',
    },
    {
      title: 'Events in the last hour (synthetic: routergpt\'s own checks, never in the figures above)',
      head: ['event', 'real', 'synthetic'],
      rows: r.lastHour.map((e) => [e.eventType, String(e.real), String(e.synthetic)]),
      empty: 'no events in the last hour',
    },
    {
      title: 'Time between events in a session',
      head: ['event', 'events after another', 'mean seconds since the previous'],
      rows: r.timeBetweenEvents.map((g) => [g.eventType, String(g.events), g.avgSecondsSincePrevious === null ? '—' : String(g.avgSecondsSincePrevious)]),
      empty: 'no session had two events in the window',
    },
  ];
}

/** Daily searches and bookings as one asciichart plot, fitted to the width; undefined with < 2 days or no traffic. */
function chart(r: AnalyticsReport, options: AnalyticsRenderOptions): string | undefined {
  const days = r.daily;
  if (days.length < 2 || days.every((d) => d.searches === 0 && d.bookings === 0)) return undefined;
  // The chart is one column per point plus its axis: sample evenly when the window is wider.
  const width = Math.max(20, (options.columns ?? 100) - 14);
  const step = Math.max(1, Math.ceil(days.length / width));
  const sampled = days.filter((_, i) => i % step === 0 || i === days.length - 1);
  const series = [sampled.map((d) => d.searches), sampled.map((d) => d.bookings)];
  const plot = asciichart.plot(series, {
    height: 8,
    format: (x: number) => String(Math.round(x)).padStart(7),
    ...(options.color ? { colors: [asciichart.cyan, asciichart.green] } : {}),
  });
  const legend = `searches ${options.color ? `${asciichart.cyan}━${asciichart.reset}` : '(upper line)'}  bookings ${options.color ? `${asciichart.green}━${asciichart.reset}` : '(lower line)'}  · ${sampled[0]!.date} → ${sampled[sampled.length - 1]!.date}${step > 1 ? ` (every ${step} days)` : ''}`;
  return `${plot}\n${legend}`;
}

/** The funnel as bars scaled to the number of searches. */
function funnelBars(f: FunnelResult, columns: number): string[] {
  const width = Math.max(10, Math.min(50, columns - 40));
  const stages: Array<[string, number]> = [['searched', f.searches], ['found a shop', f.searchesWithResults], ['delegated', f.delegated], ['booked', f.booked]];
  return stages.map(([name, n]) => `${name.padEnd(13)} ${'█'.repeat(f.searches > 0 ? Math.round((width * n) / f.searches) : 0).padEnd(width)} ${n}`);
}

async function renderHuman(r: AnalyticsReport, options: AnalyticsRenderOptions): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const out = [`routergpt analytics — ${r.env} (${r.database}) · ${r.since} → ${r.until} · real traffic only`, ''];
  const drawn = chart(r, options);
  for (const [i, s] of sections(r).entries()) {
    out.push(s.title);
    if (s.rows.length === 0) out.push(`  ${s.empty}`);
    else {
      // One line per row, no rule between rows, as the run report.
      const table = new Table({ head: s.head, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' }, style: { head: options.color ? ['cyan'] : [], border: options.color ? ['grey'] : [] } });
      for (const row of s.rows) table.push(row);
      out.push(table.toString());
    }
    if (i === 0 && drawn) out.push('', drawn);
    if (i === 1) out.push('', ...funnelBars(r.funnel, options.columns ?? 100));
    out.push('');
  }
  return `${out.join('\n')}`;
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

function renderMarkdown(r: AnalyticsReport): string {
  const out = [`## routergpt analytics — ${r.env}`, '', `${r.since} → ${r.until} · real traffic only (routergpt's synthetic checks excluded)`, ''];
  const drawn = chart(r, { color: false, columns: 100 });
  for (const [i, s] of sections(r).entries()) {
    out.push(`### ${s.title}`, '');
    if (s.rows.length === 0) out.push(`_${s.empty}_`);
    else out.push(`| ${s.head.map(cell).join(' | ')} |`, `|${s.head.map(() => '---').join('|')}|`, ...s.rows.map((row) => `| ${row.map(cell).join(' | ')} |`));
    if (i === 0 && drawn) out.push('', '```', drawn, '```');
    out.push('');
  }
  return out.join('\n');
}

export function renderAnalytics(r: AnalyticsReport, name: AnalyticsReporterName, options: AnalyticsRenderOptions): string | Promise<string> {
  switch (name) {
    case 'human':
      return renderHuman(r, options);
    case 'json':
      return `${JSON.stringify(r, null, 2)}\n`;
    case 'markdown':
      return renderMarkdown(r);
  }
}
