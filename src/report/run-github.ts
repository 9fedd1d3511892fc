import { appendFileSync } from 'node:fs';
import { annotation } from './github.js';
import { describeCounts, runHeadline, type RunReport, type RunReportItem } from './run-report.js';
import { renderRunMarkdown } from './run-markdown.js';

const title = (report: RunReport, item: RunReportItem) => `routergpt ${report.kind}: ${item.id} (${item.phase})`;
const body = (item: RunReportItem) => [item.summary ?? item.state, ...item.details.slice(0, 20)].join('\n');

/** GitHub Actions workflow commands: ::error per failed item, ::warning per warned one, one ::notice. */
export function renderRunGithub(report: RunReport): string {
  const out: string[] = [];
  for (const item of report.items) {
    if (item.state === 'failed') out.push(annotation('error', title(report, item), body(item)));
    else if (item.state === 'warn') out.push(annotation('warning', title(report, item), body(item)));
  }
  out.push(annotation('notice', `routergpt ${runHeadline(report)}`, `run ${report.id}: ${describeCounts(report.counts)}`));
  return `${out.join('\n')}\n`;
}

/**
 * Append the Markdown report to the job's step summary when running in GitHub Actions
 * (GITHUB_STEP_SUMMARY names the file; several steps append to it). Returns the file, if any.
 */
export function appendGithubStepSummary(report: RunReport, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return undefined;
  appendFileSync(file, `${renderRunMarkdown(report)}\n`);
  return file;
}
