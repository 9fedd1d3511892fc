/**
 * `routergpt metrics` rendered: `human` (the checklist's Success Metrics table, filled in),
 * `json` (`routergpt.metrics/v1`, the report object; docs/schemas/routergpt.metrics-v1.schema.json),
 * `markdown` (the same table for a PR comment or a review note) and `junit` (one testcase per
 * metric: a missed target is a failure, an inconclusive one is skipped with the reason).
 */
import { formatMetricValue, type SuccessMetric, type SuccessMetricsReport } from '../db/analytics/metrics.js';
import { plural } from '../lib/plural.js';
import { renderJunitDocument, type JunitCase } from './junit.js';
import type { ReporterOption } from './reporter-options.js';

export const METRICS_REPORT_SCHEMA = 'routergpt.metrics/v1';
export const METRICS_REPORTERS = ['human', 'json', 'markdown', 'junit'] as const;
export type MetricsReporterName = (typeof METRICS_REPORTERS)[number];
export type MetricsReporterSpec = ReporterOption<MetricsReporterName>;

export interface MetricsReport extends SuccessMetricsReport {
  schema: typeof METRICS_REPORT_SCHEMA;
  env: string;
  /** Masked. */
  database: string;
}

export interface MetricsRenderOptions {
  color: boolean;
  columns?: number;
}

const targetText = (m: SuccessMetric) => `${m.comparison === 'above' ? '>' : '<'} ${formatMetricValue(m.target, m.unit)}`;
const actualText = (m: SuccessMetric) => (m.actual === null ? '—' : formatMetricValue(m.actual, m.unit));
const sampleText = (m: SuccessMetric) => `${m.sample} ${m.sample === 1 ? m.sampleOf.replace(/s$/, '') : m.sampleOf}`;
const MARK = { pass: '✔ pass', fail: '✖ fail', inconclusive: '? inconclusive' } as const;

/** The one-line outcome, last in the human and Markdown reports. */
export function describeMetricsOutcome(r: SuccessMetricsReport): string {
  const n = r.metrics.length;
  if (n === 0) return 'no metric asked';
  const parts = [
    r.counts.fail > 0 ? `${plural(r.counts.fail, 'target')} missed` : undefined,
    r.counts.pass > 0 ? `${r.counts.pass} met` : undefined,
    r.counts.inconclusive > 0 ? `${r.counts.inconclusive} inconclusive (too little data to judge)` : undefined,
  ].filter(Boolean);
  return `${parts.join(', ')} — of ${plural(n, 'metric')}`;
}

/** Where non-checklist targets came from (a config override is said, so a pass is never a surprise). */
function overrides(r: SuccessMetricsReport): string[] {
  return r.metrics.flatMap((m) => [
    ...(m.targetOrigin.includes('metrics.targets') ? [`${m.name}: target ${targetText(m)} from ${m.targetOrigin}`] : []),
    ...(m.minSampleOrigin.includes('metrics.min_sample') ? [`${m.name}: minimum sample ${m.minSample} from ${m.minSampleOrigin}`] : []),
  ]);
}

const HEAD = ['metric', 'target', 'actual', 'sample', 'verdict'];
const row = (m: SuccessMetric) => [m.name, targetText(m), actualText(m), sampleText(m), MARK[m.verdict]];

async function renderHuman(r: MetricsReport, options: MetricsRenderOptions): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const paint = { pass: c.green, fail: c.red, inconclusive: c.yellow } as const;
  const table = new Table({ head: HEAD, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' }, style: { head: options.color ? ['cyan'] : [], border: options.color ? ['grey'] : [] } });
  for (const m of r.metrics) {
    const cells = row(m);
    cells[4] = paint[m.verdict](cells[4]!);
    table.push(cells);
  }
  const out = [`routergpt metrics — ${r.env} (${r.database}) · ${r.since} → ${r.until} · real traffic only`, '', table.toString(), ''];
  for (const m of r.metrics) out.push(`${paint[m.verdict](MARK[m.verdict].split(' ')[0]!)} ${m.name}: ${m.reason}`);
  const from = overrides(r);
  if (from.length > 0) out.push('', 'Targets from the configuration:', ...from.map((l) => `  ${l}`));
  out.push('', describeMetricsOutcome(r), '');
  return out.join('\n');
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

function renderMarkdown(r: MetricsReport): string {
  const out = [
    `## routergpt metrics — ${r.env}`,
    '',
    `${r.since} → ${r.until} · real traffic only (routergpt's synthetic checks excluded) · definitions: docs/metrics.md`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
    ...r.metrics.map((m) => `| ${row(m).map(cell).join(' | ')} |`),
    '',
    ...r.metrics.map((m) => `- **${cell(m.name)}**: ${cell(m.reason)}`),
  ];
  const from = overrides(r);
  if (from.length > 0) out.push('', 'Targets from the configuration:', '', ...from.map((l) => `- ${cell(l)}`));
  out.push('', `**${describeMetricsOutcome(r)}**`, '');
  return out.join('\n');
}

function junitCase(m: SuccessMetric): JunitCase {
  const body = [
    `${m.name}: ${m.reason}`,
    `target ${targetText(m)} (${m.targetOrigin}); actual ${actualText(m)}; sample ${sampleText(m)} (a verdict needs ${m.minSample})`,
    `counts: ${Object.entries(m.parts).map(([k, v]) => `${k}=${v}`).join(', ')}`,
  ].join('\n');
  const status = m.verdict === 'fail' ? 'fail' : m.verdict === 'inconclusive' ? 'skip' : 'pass';
  return { name: m.id, classname: 'routergpt.metrics', status, message: `${m.name}: ${m.reason}`, body, durationMs: 0 };
}

function renderJunit(r: MetricsReport): string {
  return renderJunitDocument(`routergpt metrics ${r.env}`, 0, [
    { name: 'metrics', package: `routergpt.${r.env}`, hostname: 'localhost', timestamp: r.until.slice(0, 19), cases: r.metrics.map(junitCase) },
  ]);
}

export function renderMetrics(r: MetricsReport, name: MetricsReporterName, options: MetricsRenderOptions): string | Promise<string> {
  switch (name) {
    case 'human':
      return renderHuman(r, options);
    case 'json':
      return `${JSON.stringify(r, null, 2)}\n`;
    case 'markdown':
      return renderMarkdown(r);
    case 'junit':
      return renderJunit(r);
  }
}
