/**
 * `routergpt report --html FILE` (and deploy/rollback `--reporter html=FILE`): one self-contained
 * HTML file — inline CSS, charts as inline SVG rendered at build time by Vega, no script, no
 * external resource (a Content-Security-Policy of `default-src 'none'` says so to the browser) —
 * with the deploy run, the watch verdicts, the analytics charts and the Success Metrics.
 *
 * Every text goes through the `html` template, which escapes it; every string of the model is
 * first passed through redactSecrets, so a secret that reached a journal line or a check's
 * summary cannot reach the file either (the database is shown masked).
 */
import { redactSecrets } from '../config/mask.js';
import type { SuccessMetricsReport } from '../db/analytics/metrics.js';
import type { AnalyticsReport } from './analytics.js';
import { renderAnalyticsSection } from './html/analytics-section.js';
import { html } from './html/escape.js';
import { time } from './html/format.js';
import { renderMetricsSection } from './html/metrics-section.js';
import { renderRunSection, type HtmlRunInput } from './html/run-section.js';
import { HTML_STYLE } from './html/style.js';
import { renderWatchSection } from './html/watch-section.js';

/** A part the report could not include, and why (said in its place). */
export interface Missing {
  missing: string;
}

export interface HtmlReportModel {
  env: string;
  /** ISO instant the report was made. */
  generatedAt: string;
  /** Masked (Database.display). */
  database?: string;
  run: HtmlRunInput | Missing;
  analytics: AnalyticsReport | Missing;
  metrics: SuccessMetricsReport | Missing;
}

/** The model with every string redacted (secrets and URL passwords), structure unchanged. */
function redacted<T>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (Array.isArray(value)) return value.map(redacted) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redacted(v)])) as T;
  return value;
}

export async function renderHtmlReport(input: HtmlReportModel): Promise<string> {
  const model = redacted(input);
  const record = 'record' in model.run ? model.run.record : undefined;
  const title = `routergpt report — ${model.env}${record ? ` — ${record.kind} ${record.id}` : ''}`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="routergpt">
<title>${title}</title>
<style>${HTML_STYLE}</style>
</head>
<body>
<header>
<h1>${title}</h1>
<p class="muted">generated ${time(model.generatedAt)}${model.database ? html` · database ${model.database}` : ''}</p>
<nav><a href="#run">Deploy run</a> · <a href="#watch">Watch</a> · <a href="#analytics">Analytics</a> · <a href="#metrics">Success metrics</a></nav>
</header>
<main>
${renderRunSection(model.run)}
${await renderWatchSection(record)}
${await renderAnalyticsSection(model.analytics)}
${renderMetricsSection(model.metrics)}
</main>
</body>
</html>
`;
  return page.value;
}
