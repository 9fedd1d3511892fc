import type { CheckStatus } from '../checks/define-check.js';
import type { VerifyReport } from './types.js';
import { describeCheckCounts } from './types.js';

export const STATUS_EMOJI: Record<CheckStatus, string> = { pass: '✅', warn: '⚠️', fail: '❌', error: '💥', skip: '⏭' };

/** Text safe inside a Markdown table cell: pipes escaped, line breaks as <br>. */
export const markdownCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, '<br>');

/** The checklist as Markdown, one row per check, for a PR comment or a run record. */
export function renderMarkdown(report: VerifyReport): string {
  const c = report.counts;
  const lines = [
    `## routergpt ${report.command} — ${report.env} (${report.stage})`,
    '',
    `${STATUS_EMOJI[report.status === 'pass' ? 'pass' : report.status]} **${report.status.toUpperCase()}** — ${describeCheckCounts(c)} · ${(report.durationMs / 1000).toFixed(1)} s · ${report.startedAt}`,
    '',
    '| | check | result |',
    '|---|---|---|',
  ];
  for (const x of report.checks) {
    const extra = [...(x.details ?? []).slice(0, 10), ...(x.hint && (x.status === 'fail' || x.status === 'error' || x.status === 'warn') ? [`→ ${x.hint}`] : [])];
    lines.push(`| ${STATUS_EMOJI[x.status]} | \`${x.id}\` ${markdownCell(x.title)} | ${markdownCell([x.summary, ...extra].join('\n'))} |`);
  }
  return `${lines.join('\n')}\n`;
}
