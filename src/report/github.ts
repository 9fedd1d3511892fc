import type { VerifyReport } from './types.js';

// Workflow-command escaping: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
export const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
export const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** One workflow command: `::error title=…::message`, escaped per GitHub's spec. */
export function annotation(level: 'error' | 'warning' | 'notice', title: string, message: string): string {
  return `::${level} title=${escapeProperty(title)}::${escapeData(message)}`;
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
  out.push(annotation('notice', `routergpt ${report.command} ${report.env}`, `${c.pass} passed, ${c.warn} warnings, ${c.fail} failed, ${c.error} crashed, ${c.skip} skipped`));
  return `${out.join('\n')}\n`;
}
