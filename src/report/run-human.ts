import type { CheckStatus } from '../checks/define-check.js';
import type { RunStatus } from '../runbook/journal.js';
import { painter, problemLines } from './human.js';
import { wrapToWidth } from './wrap.js';
import { AS_CHECK_STATUS, describeCounts, formatSeconds, RUN_SYMBOL, runHeadline, type RunReport } from './run-report.js';


const RUN_TONE: Record<RunStatus, CheckStatus> = { succeeded: 'pass', failed: 'fail', cancelled: 'warn', running: 'skip', 'waiting-approval': 'skip' };

export interface RunHumanOptions {
  color: boolean;
  /** The terminal's width; the table fits in it (default 100). */
  columns?: number;
  /** The commands that undo what ran (a failed deploy), printed under the table. */
  rollbackPlan?: readonly string[];
  /**
   * false: no table — the results were printed as lines already (no terminal). What needs a
   * look, the sign-off and the outcome stay. Default true.
   */
  table?: boolean;
}

/** Column widths (padding included) that fit `width` with the table's six borders. */
function widths(width: number, phases: readonly string[]): [number, number, number, number, number] {
  const state = 11;
  const time = 9;
  const free = Math.max(width, 60) - 6 - state - time;
  const phase = Math.min(Math.max(...phases.map((p) => p.length), 5) + 2, Math.round(free * 0.2));
  const item = Math.min(44, Math.max(14, Math.round((free - phase) * 0.4)));
  return [state, phase, item, Math.max(10, free - phase - item), time];
}

/**
 * The final report of a run on a terminal: a compact table (one line per item, in phase order,
 * long text cut to fit), what needs a look under it, then the outcome in one line.
 */
export async function renderRunHuman(report: RunReport, options: RunHumanOptions): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const p = painter(options);
  const table = new Table({
    head: ['', 'phase', 'item', 'result', 'time'],
    colWidths: widths(options.columns ?? 100, report.items.map((i) => i.phase)),
    wordWrap: false,
    // No rule between rows: one line per item; the phase is named on its first item only.
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: options.color ? ['cyan'] : [], border: options.color ? ['grey'] : [] },
  });
  report.items.forEach((item, i) => {
    const phase = item.phase === report.items[i - 1]?.phase ? '' : item.phase;
    const summary = (item.summary ?? (item.state === 'pending' ? 'not run' : '')).replace(/\s*\n\s*/g, ' ');
    table.push([p.status(AS_CHECK_STATUS[item.state], `${RUN_SYMBOL[item.state]} ${item.state}`), phase, item.id, summary, formatSeconds(item.durationMs)]);
  });
  const lines: string[] = [];
  for (const item of report.items.filter((i) => i.state === 'failed' || i.state === 'warn')) {
    lines.push(...problemLines(options, AS_CHECK_STATUS[item.state], `${RUN_SYMBOL[item.state]} ${item.id}: ${item.summary ?? item.state}`, item.details));
  }
  if (report.signoff) {
    const s = report.signoff;
    lines.push('', `Signed off: deployed by ${s.deployedBy} on ${s.date.slice(0, 10)} (${s.source === 'signoff-file' ? 'sign-off file' : s.source})${report.approvedBy.length ? `; approved before the change by ${report.approvedBy.join(', ')}` : ''}`);
  } else if (report.approvedBy.length) {
    lines.push('', `Approved before the change by ${report.approvedBy.join(', ')}`);
  }
  const pre = report.items.filter((i) => i.state === 'warn' && i.kind === 'manual' && i.summary?.startsWith('pre-answered'));
  if (pre.length) lines.push('', p.status('warn', `Pre-answered in the sign-off file before they ran — confirm them now: ${pre.map((i) => i.id).join(', ')}`));
  if (options.rollbackPlan?.length) {
    lines.push('', 'Rollback plan for what has run (fastest first):', ...options.rollbackPlan.map((c) => `  ${c}`), '', `Resume after a fix: routergpt ${report.kind === 'deploy' ? 'deploy' : report.kind} --env ${report.env} --resume ${report.id}`);
  }
  const took = report.durationMs === null ? '' : ` in ${formatSeconds(report.durationMs)}`;
  // The outcome last: what a person at 3 a.m. reads first, then the id to act on.
  lines.push('', p.bold(`${p.status(RUN_TONE[report.status], runHeadline(report))} — ${describeCounts(report.counts)}${took}`), `run ${report.id}`);
  const width = Math.max(60, options.columns ?? 100);
  const body = lines.flatMap((l) => wrapToWidth(l, width));
  if (options.table === false) return `${body.join('\n').replace(/^\n+/, '')}\n`;
  return `${[table.toString(), ...body].join('\n')}\n`;
}
