import type { CheckStatus } from '../checks/define-check.js';
import type { CheckOutcome } from '../checks/run-checks.js';
import type { VerifyReport } from './types.js';

export function esc(text: string): string {
  // XML 1.0 forbids most control characters even when escaped.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** One <testcase>: a check outcome, or anything else reported as one (a runbook item). */
export interface JunitCase {
  name: string;
  classname: string;
  status: CheckStatus;
  /** One line: the failure/skip message attribute. */
  message: string;
  /** Everything: summary, details, hint. */
  body: string;
  durationMs: number;
}

export interface JunitSuite {
  name: string;
  package: string;
  hostname: string;
  /** ISO 8601 without zone suffix, as the schema's consumers expect. */
  timestamp: string;
  cases: JunitCase[];
}

/** A check outcome as a testcase: the same text in verify's and a run's JUnit. */
export function checkCase(x: CheckOutcome, classname: string): JunitCase {
  const body = [x.summary, ...(x.details ?? []), ...(x.hint ? [`hint: ${x.hint}`] : [])].join('\n');
  return { name: x.id, classname, status: x.status, message: x.summary, body, durationMs: x.durationMs };
}

function testcase(x: JunitCase): string[] {
  const open = `    <testcase name="${esc(x.name)}" classname="${esc(x.classname)}" time="${seconds(x.durationMs)}">`;
  const inner =
    x.status === 'fail' ? `<failure message="${esc(x.message)}" type="fail">${esc(x.body)}</failure>`
    : x.status === 'error' ? `<error message="${esc(x.message)}" type="error">${esc(x.body)}</error>`
    : x.status === 'skip' ? `<skipped message="${esc(x.message)}"/>`
    : `<system-out>${esc(`${x.status.toUpperCase()}: ${x.body}`)}</system-out>`;
  return [open, `      ${inner}`, '    </testcase>'];
}

/**
 * JUnit XML as CI systems read it (Jenkins/GitLab/GitHub test reporters; test/fixtures/junit.xsd):
 * fail → <failure>, crashed → <error>, skip → <skipped>, warn passes with the warning in
 * <system-out> (JUnit has no "warning"). Totals are counted from the cases, so they always agree.
 */
export function renderJunitDocument(name: string, durationMs: number, suites: readonly JunitSuite[]): string {
  const count = (cases: readonly JunitCase[], s: CheckStatus) => cases.filter((x) => x.status === s).length;
  const all = suites.flatMap((s) => s.cases);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${esc(name)}" tests="${all.length}" failures="${count(all, 'fail')}" errors="${count(all, 'error')}" time="${seconds(durationMs)}">`,
  ];
  suites.forEach((suite, id) => {
    const { cases } = suite;
    const time = cases.reduce((t, x) => t + x.durationMs, 0);
    lines.push(
      `  <testsuite name="${esc(suite.name)}" id="${id}" package="${esc(suite.package)}" hostname="${esc(suite.hostname)}" tests="${cases.length}" failures="${count(cases, 'fail')}" errors="${count(cases, 'error')}" skipped="${count(cases, 'skip')}" time="${seconds(time)}" timestamp="${esc(suite.timestamp)}">`,
      ...cases.flatMap(testcase),
      '  </testsuite>',
    );
  });
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

/** verify/smoke as JUnit: one testsuite per area (the id's prefix), one testcase per check. */
export function renderJunit(report: VerifyReport): string {
  const areas = new Map<string, JunitCase[]>();
  for (const check of report.checks) {
    const area = check.id.split('.')[0]!;
    areas.set(area, [...(areas.get(area) ?? []), checkCase(check, `routergpt.${area}`)]);
  }
  const suites = [...areas].map(([area, cases]) => ({
    name: area,
    package: `routergpt.${report.env}`,
    hostname: report.target.apiBase ?? 'localhost',
    timestamp: report.startedAt.slice(0, 19),
    cases,
  }));
  return renderJunitDocument(`routergpt ${report.command} ${report.env}`, report.durationMs, suites);
}
