/**
 * The Success Metrics part of the HTML report: the checklist's table as `routergpt metrics`
 * computes it (successMetrics → SuccessMetricsReport) — target, actual, sample and verdict per
 * metric, with the sentence that decided each verdict.
 */
import type { MetricUnit, SuccessMetric, SuccessMetricsReport } from '../../db/analytics/metrics.js';
import { html, type SafeHtml } from './escape.js';
import { badge, prose, table, time } from './format.js';

function value(v: number | null, unit: MetricUnit): string {
  if (v === null) return '—';
  switch (unit) {
    case '%':
      return `${v.toFixed(1)} %`;
    case 'ms':
      return `${Math.round(v)} ms`;
    case '/5':
      return `${v.toFixed(2)} / 5`;
  }
}

const target = (m: SuccessMetric) => `${m.comparison === 'above' ? '>' : '<'} ${value(m.target, m.unit)}`;

export function renderMetricsSection(input: SuccessMetricsReport | { missing: string }): SafeHtml {
  if ('missing' in input) return html`<section id="metrics"><h2>Success metrics</h2><p class="empty">${prose(input.missing)}</p></section>`;
  const r = input;
  return html`<section id="metrics">
<h2>Success metrics ${badge(r.verdict)}</h2>
<p class="muted">${time(r.since)} → ${time(r.until)} · ${r.counts.pass} pass, ${r.counts.fail} fail, ${r.counts.inconclusive} inconclusive · real traffic only</p>
${table(
  ['metric', 'target', 'actual', 'sample', 'verdict', 'why'],
  r.metrics.map((m) => [
    html`${m.name}<div class="muted"><code>${m.id}</code></div>`,
    html`${target(m)}<div class="muted">${m.targetOrigin}</div>`,
    value(m.actual, m.unit),
    html`${m.sample} ${m.sampleOf}<div class="muted">at least ${m.minSample}</div>`,
    badge(m.verdict),
    m.reason,
  ]),
  'no metric was asked for',
  'metrics',
)}
</section>`;
}
