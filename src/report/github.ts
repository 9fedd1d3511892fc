import type { VerifyReport } from './types.js';

// Workflow-command escaping: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
const data = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const prop = (s: string) => data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** GitHub Actions annotations: ::error for fail/crash, ::warning for warn, one ::notice summary. */
export function renderGithub(report: VerifyReport): string {
  const out: string[] = [];
  for (const x of report.checks) {
    const body = [x.summary, ...(x.details ?? []).slice(0, 20), ...(x.hint ? [`→ ${x.hint}`] : [])].join('\n');
    if (x.status === 'fail' || x.status === 'error') out.push(`::error title=${prop(`${x.id}${x.status === 'error' ? ' (crashed)' : ''}`)}::${data(body)}`);
    else if (x.status === 'warn') out.push(`::warning title=${prop(x.id)}::${data(body)}`);
  }
  const c = report.counts;
  out.push(`::notice title=${prop(`routergpt ${report.command} ${report.env}`)}::${data(`${c.pass} passed, ${c.warn} warnings, ${c.fail} failed, ${c.error} crashed, ${c.skip} skipped`)}`);
  return `${out.join('\n')}\n`;
}
