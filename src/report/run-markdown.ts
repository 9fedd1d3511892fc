import { markdownCell, STATUS_EMOJI } from './markdown.js';
import { describeCounts, formatSeconds, runHeadline, type RunItemState, type RunReport, type RunReportItem } from './run-report.js';

/** verify's emoji where the meaning is the same; pending and running get their own. */
export const RUN_EMOJI: Record<RunItemState, string> = { done: STATUS_EMOJI.pass, warn: STATUS_EMOJI.warn, failed: STATUS_EMOJI.fail, skipped: STATUS_EMOJI.skip, pending: '⬜', running: '⏳' };

/** What the result cell says: the summary, then what needs a look (up to ten lines). */
function result(item: RunReportItem): string {
  const lines = [item.summary ?? (item.state === 'pending' ? 'not run' : item.state)];
  if (item.state !== 'done') lines.push(...item.details.slice(0, 10));
  if (item.signedBy) lines.push(`signed by ${item.signedBy}`);
  return lines.join('\n');
}

/** The run as Markdown, one row per item: a PR comment, a GitHub step summary, a run record. */
export function renderRunMarkdown(report: RunReport): string {
  const facts = [
    `run \`${report.id}\``,
    `started ${report.startedAt} by ${report.startedBy}`,
    ...(report.durationMs !== null ? [formatSeconds(report.durationMs)] : []),
    ...(report.target ? [`undoes \`${report.target}\``] : []),
    ...(report.tiers.length ? [`tiers: ${report.tiers.join(', ')}`] : []),
  ];
  const lines = [
    `## routergpt ${runHeadline(report)}`,
    '',
    `**${describeCounts(report.counts)}** · ${facts.join(' · ')}`,
    ...(report.error ? ['', `> ${markdownCell(report.error)}`] : []),
    '',
    '| | item | phase | result | time |',
    '|---|---|---|---|---|',
  ];
  for (const item of report.items) {
    lines.push(`| ${RUN_EMOJI[item.state]} | \`${item.id}\` ${markdownCell(item.title)} | ${markdownCell(item.phase)} | ${markdownCell(result(item))} | ${formatSeconds(item.durationMs)} |`);
  }
  return `${lines.join('\n')}\n`;
}
