/**
 * The run part of the HTML report: the deploy (or any journaled) run's facts, who signed and
 * approved it and when, and one row per item with its state, timings and summary — the same
 * report object as the other run reporters (toRunReport), plus the approvals each item recorded.
 */
import { approversOfRun, type Approval, type RunRecord } from '../../runbook/journal.js';
import { describeCounts, RUN_SYMBOL, toRunReport, type RunReportItem } from '../run-report.js';
import { html, type SafeHtml } from './escape.js';
import { badge, duration, prose, time } from './format.js';

export interface HtmlRunInput {
  record: RunRecord;
  /** What `routergpt status` says of it ("succeeded, rolled back by …", "interrupted at db.migrate"). */
  state: string;
}

const SOURCE: Record<Approval['source'] | 'local', string> = { prompt: 'at the prompt', 'signoff-file': 'in the sign-off file', approve: 'with routergpt approve', local: 'local environment' };

function approvalsOf(record: RunRecord, id: string): Approval[] {
  return record.items.find((i) => i.id === id)?.approvals ?? [];
}

/** Who answered the item: a manual item's signer, an approval item's approvers. */
function people(record: RunRecord, item: RunReportItem): SafeHtml | string {
  const approvals = approvalsOf(record, item.id);
  if (approvals.length) return html`<ul class="plain">${approvals.map((a) => html`<li>approved by <b>${a.by}</b> ${SOURCE[a.source] ?? a.source}, ${time(a.at)}${a.note ? html` — ${a.note}` : ''}</li>`)}</ul>`;
  if (item.signedBy) return html`signed by <b>${item.signedBy}</b>${item.signedAt ? html`, ${time(item.signedAt)}` : ''}`;
  return '';
}

function details(item: RunReportItem): SafeHtml | string {
  const checks = item.checks ?? [];
  if (item.details.length === 0 && checks.length === 0) return '';
  const lines = item.details.length ? html`<pre>${item.details.join('\n')}</pre>` : '';
  const checkRows = checks.length
    ? html`<ul class="plain checks">${checks.map((c) => html`<li>${badge(c.status)} <code>${c.id}</code> ${c.summary}${c.hint ? html` <span class="hint">→ ${c.hint}</span>` : ''}</li>`)}</ul>`
    : '';
  const count = checks.length ? `${checks.length} checks` : `${item.details.length} lines`;
  return html`<details><summary>${count}</summary>${checkRows}${lines}</details>`;
}

function itemRow(record: RunRecord, item: RunReportItem, index: number): SafeHtml {
  return html`<tr class="item ${item.state}" data-item="${item.id}">
<td class="num">${index + 1}</td>
<td>${item.phase}</td>
<td><code>${item.id}</code><div class="title">${item.title}</div></td>
<td>${badge(item.state, RUN_SYMBOL[item.state])}${item.attempts > 1 ? html`<div class="muted">${item.attempts} attempts</div>` : ''}</td>
<td>${time(item.startedAt, 'clock')}</td>
<td class="num">${duration(item.durationMs)}</td>
<td>${people(record, item)}</td>
<td>${item.summary ?? (item.state === 'pending' ? 'not run' : '')}${item.errorKind ? html` <span class="muted">(${item.errorKind})</span>` : ''}${details(item)}</td>
</tr>`;
}

export function renderRunSection(input: HtmlRunInput | { missing: string }): SafeHtml {
  if ('missing' in input) return html`<section id="run"><h2>Deploy run</h2><p class="empty">${prose(input.missing)}</p></section>`;
  const { record } = input;
  const report = toRunReport(record);
  const approvers = approversOfRun(record);
  const signoff = record.signoff;
  const facts: Array<[string, SafeHtml | string]> = [
    ['status', html`${badge(report.status)} ${input.state === report.status ? '' : input.state}`],
    ['environment', record.env],
    ['release', record.release ? html`<code>${record.release}</code>${record.releaseCommit && record.releaseCommit !== record.release ? html` (<code>${record.releaseCommit.slice(0, 12)}</code>)` : ''}` : '—'],
    ['checklist', html`${record.checklist.name} <span class="muted">${record.checklist.file}</span>`],
    ['started', html`${time(record.startedAt)} by <b>${record.startedBy}</b>${record.identitySource ? html` <span class="muted">(identity from ${record.identitySource})</span>` : ''} on ${record.host}`],
    ['finished', html`${time(record.finishedAt)}${report.durationMs !== null ? ` · ${duration(report.durationMs)}` : ''}`],
    ['items', describeCounts(report.counts)],
    ['deployed by', signoff ? html`<b>${signoff.deployedBy}</b>, signed ${SOURCE[signoff.source] ?? signoff.source} ${time(signoff.date)}` : 'not signed off'],
    ['approved by', approvers.length ? html`${approvers.map((a, i) => html`${i ? ', ' : ''}<b>${a}</b>`)}` : 'no approval recorded'],
  ];
  if (record.target) facts.push(['undoes', html`<code>${record.target}</code>${record.tiers?.length ? ` (tiers: ${record.tiers.join(', ')})` : ''}`]);
  if (record.resumes.length) facts.push(['resumes', record.resumes.join(', ')]);
  if (record.error) facts.push(['error', html`<span class="bad-text">${record.error}</span>`]);
  return html`<section id="run">
<h2>${record.kind === 'deploy' ? 'Deploy' : record.kind} run <code>${record.id}</code></h2>
<dl class="facts">${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
<table class="items"><thead><tr><th scope="col">#</th><th scope="col">phase</th><th scope="col">item</th><th scope="col">state</th><th scope="col">started (UTC)</th><th scope="col">time</th><th scope="col">signed / approved</th><th scope="col">result</th></tr></thead>
<tbody>${report.items.map((item, i) => itemRow(record, item, i))}</tbody></table>
</section>`;
}
