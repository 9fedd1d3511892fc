import { annotation, appendStepSummary } from './github.js';
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

/** The run's Markdown report appended to $GITHUB_STEP_SUMMARY, when that is set. */
export function appendGithubStepSummary(report: RunReport, env: Readonly<Record<string, string | undefined>>): string | undefined {
  return appendStepSummary(renderRunMarkdown(report), env);
}
