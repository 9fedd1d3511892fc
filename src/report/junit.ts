import type { VerifyReport } from './types.js';

function esc(text: string): string {
  // XML 1.0 forbids most control characters even when escaped.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/**
 * JUnit XML as CI systems read it (Jenkins/GitLab/GitHub test reporters): one testsuite per
 * area, fail → <failure>, crashed → <error>, skip → <skipped>, warn passes with the warning
 * in <system-out> (JUnit has no "warning").
 */
export function renderJunit(report: VerifyReport): string {
  const areas = new Map<string, VerifyReport['checks']>();
  for (const check of report.checks) {
    const area = check.id.split('.')[0]!;
    areas.set(area, [...(areas.get(area) ?? []), check]);
  }
  const c = report.counts;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="routergpt ${report.command} ${esc(report.env)}" tests="${report.checks.length}" failures="${c.fail}" errors="${c.error}" time="${seconds(report.durationMs)}">`,
  ];
  let id = 0;
  for (const [area, checks] of areas) {
    const count = (s: string) => checks.filter((x) => x.status === s).length;
    const time = checks.reduce((t, x) => t + x.durationMs, 0);
    lines.push(
      `  <testsuite name="${esc(area)}" id="${id++}" package="routergpt.${esc(report.env)}" hostname="${esc(report.target.apiBase ?? 'localhost')}" tests="${checks.length}" failures="${count('fail')}" errors="${count('error')}" skipped="${count('skip')}" time="${seconds(time)}" timestamp="${report.startedAt.slice(0, 19)}">`,
    );
    for (const x of checks) {
      const body = [x.summary, ...(x.details ?? []), ...(x.hint ? [`hint: ${x.hint}`] : [])].join('\n');
      const open = `    <testcase name="${esc(x.id)}" classname="routergpt.${esc(area)}" time="${seconds(x.durationMs)}"`;
      if (x.status === 'fail') lines.push(`${open}>`, `      <failure message="${esc(x.summary)}" type="fail">${esc(body)}</failure>`, '    </testcase>');
      else if (x.status === 'error') lines.push(`${open}>`, `      <error message="${esc(x.summary)}" type="error">${esc(body)}</error>`, '    </testcase>');
      else if (x.status === 'skip') lines.push(`${open}>`, `      <skipped message="${esc(x.summary)}"/>`, '    </testcase>');
      else lines.push(`${open}>`, `      <system-out>${esc(`${x.status.toUpperCase()}: ${body}`)}</system-out>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
