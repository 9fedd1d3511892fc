import { checkCase, renderJunitDocument, type JunitCase, type JunitSuite } from './junit.js';
import { AS_CHECK_STATUS, type RunReport, type RunReportItem } from './run-report.js';

const NOT_RUN: Partial<Record<RunReportItem['state'], string>> = { pending: 'not run', running: 'did not finish' };

function itemCase(item: RunReportItem): JunitCase {
  const message = item.summary ?? NOT_RUN[item.state] ?? item.state;
  const signed = item.signedBy ? [`signed by ${item.signedBy}${item.signedAt ? ` at ${item.signedAt}` : ''}`] : [];
  const body = [item.title, message, ...item.details, ...signed, ...(item.note ? [`note: ${item.note}`] : [])].join('\n');
  return { name: item.id, classname: item.phase, status: AS_CHECK_STATUS[item.state], message, body, durationMs: item.durationMs ?? 0 };
}

/**
 * A check item is its checks, one testcase each. When it failed without a failing check (it
 * threw, or was cancelled), the item itself is added as the failed case, so a failed item is
 * never a green suite.
 */
function itemCases(item: RunReportItem): JunitCase[] {
  const checks = item.checks ?? [];
  if (checks.length === 0) return [itemCase(item)];
  const cases = checks.map((o) => checkCase(o, item.phase));
  const failedByCheck = checks.some((o) => o.status === 'fail' || o.status === 'error');
  return item.state === 'failed' && !failedByCheck ? [...cases, itemCase(item)] : cases;
}

/**
 * A run as JUnit XML: one testsuite per phase, one testcase per item (per check for check items),
 * classname = phase. failed → <failure>, skipped/pending → <skipped/>, warn → passes with a
 * <system-out> note.
 */
export function renderRunJunit(report: RunReport): string {
  const phases = new Map<string, RunReportItem[]>();
  for (const item of report.items) phases.set(item.phase, [...(phases.get(item.phase) ?? []), item]);
  const suites: JunitSuite[] = [...phases].map(([phase, items]) => ({
    name: phase,
    package: `routergpt.${report.env}`,
    hostname: report.host,
    timestamp: (items.find((i) => i.startedAt)?.startedAt ?? report.startedAt).slice(0, 19),
    cases: items.flatMap(itemCases),
  }));
  return renderJunitDocument(`routergpt ${report.kind} ${report.env} ${report.id}`, report.durationMs ?? 0, suites);
}
