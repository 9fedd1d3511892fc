import { appendFileSync } from 'node:fs';
import type { VerifyReport } from './types.js';
import { describeCheckCounts } from './types.js';

// Workflow-command escaping: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
export const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
export const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** Where an annotation points: a file of the repository, and a line in it. */
export interface AnnotationPlace {
  file: string;
  line?: number;
}

/** One workflow command: `::error file=…,line=…,title=…::message`, escaped per GitHub's spec. */
export function annotation(level: 'error' | 'warning' | 'notice', title: string, message: string, place?: AnnotationPlace): string {
  const props = [...(place ? [`file=${escapeProperty(place.file)}`, ...(place.line ? [`line=${place.line}`] : [])] : []), `title=${escapeProperty(title)}`];
  return `::${level} ${props.join(',')}::${escapeData(message)}`;
}

/**
 * Append Markdown to the job's step summary when running in GitHub Actions (GITHUB_STEP_SUMMARY
 * names the file; several steps append to it). Returns the file, if any.
 */
export function appendStepSummary(markdown: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return undefined;
  appendFileSync(file, `${markdown}\n`);
  return file;
}

/** GitHub Actions annotations: ::error for fail/crash, ::warning for warn, one ::notice summary. */
export function renderGithub(report: VerifyReport): string {
  const out: string[] = [];
  for (const x of report.checks) {
    const body = [x.summary, ...(x.details ?? []).slice(0, 20), ...(x.hint ? [`→ ${x.hint}`] : [])].join('\n');
    if (x.status === 'fail' || x.status === 'error') out.push(annotation('error', `${x.id}${x.status === 'error' ? ' (crashed)' : ''}`, body));
    else if (x.status === 'warn') out.push(annotation('warning', x.id, body));
  }
  const c = report.counts;
  out.push(annotation('notice', `routergpt ${report.command} ${report.env}`, describeCheckCounts(c)));
  return `${out.join('\n')}\n`;
}
