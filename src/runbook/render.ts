import { approversOfRun, type ItemRecord, type RunRecord } from './journal.js';

const MARK: Record<ItemRecord['state'], string> = { done: '✅', warn: '⚠️', skipped: '⏭', failed: '❌', running: '⏳', pending: '⬜' };

/** The run as a Markdown report: every item with its outcome, the sign-off, and the rollback plan. */
export function renderRunSummary(run: RunRecord, rollbackPlan: string[]): string {
  const lines = [`## routergpt ${run.kind} — ${run.env}: ${run.status.toUpperCase()}`, '', `run \`${run.id}\` · started ${run.startedAt} by ${run.startedBy}${run.finishedAt ? ` · finished ${run.finishedAt}` : ''}${run.resumes.length ? ` · resumed ${run.resumes.length}×` : ''}`, ''];
  lines.push('| | item | result | time |', '|---|---|---|---|');
  for (const item of run.items) {
    const summary = (item.summary ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
    lines.push(`| ${MARK[item.state]} | \`${item.id}\` ${item.title.replace(/\|/g, '\\|')} | ${summary} | ${item.durationMs !== undefined ? `${(item.durationMs / 1000).toFixed(1)} s` : ''} |`);
  }
  const approvers = approversOfRun(run);
  if (run.signoff) lines.push('', `**Sign-off:** deployed by ${run.signoff.deployedBy}, ${run.signoff.date} (${run.signoff.source})${approvers.length ? ` · **approved before the change by** ${approvers.join(', ')}` : ''}`);
  const pre = run.items.filter((i) => i.state === 'warn' && i.kind === 'manual' && i.summary?.startsWith('pre-answered'));
  if (pre.length) lines.push('', `**Pre-answered** (a sign-off file answered before the deploy ran them; confirm them now): ${pre.map((i) => `\`${i.id}\``).join(', ')}`);
  if (rollbackPlan.length) lines.push('', '**Rollback plan** for what has run (fastest first):', '', '```sh', ...rollbackPlan, '```', '', `Resume after a fix: \`routergpt deploy --env ${run.env} --resume ${run.id}\``);
  return `${lines.join('\n')}\n`;
}
