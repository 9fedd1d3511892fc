/**
 * `routergpt migrate lint --reporter NAME[=FILE]`: the reporting convention of every reporting
 * command (reporter-options.ts), for squawk's findings on the migration files.
 *
 * - `human`: a line per file, a line per finding.
 * - `json`: the result object (`routergpt.migrate-lint/v1`).
 * - `github`: workflow commands pointing at the file and line, so the finding shows on the diff.
 * - `gitlab`: GitLab's code-quality report (a JSON array; `artifacts:reports:codequality`).
 * - `junit`: a testsuite per file, a testcase per finding (none: one passing case per file).
 */
import { plural } from '../lib/plural.js';
import { createHash } from 'node:crypto';
import { annotation } from './github.js';
import { renderJunitDocument, type JunitCase } from './junit.js';
import type { ReporterOption } from './reporter-options.js';

export const LINT_REPORTERS = ['human', 'json', 'github', 'gitlab', 'junit'] as const;
export type LintReporterName = (typeof LINT_REPORTERS)[number];
export type LintReporterSpec = ReporterOption<LintReporterName>;

export const LINT_REPORT_SCHEMA = 'routergpt.migrate-lint/v1';

/** What the lint reports are rendered from (src/commands/migrate/run-lint.ts produces it). */
export interface LintReportInput {
  /** The migrations folder as the repository names it (`migrations`): annotation paths start here. */
  dir: string;
  status: 'pass' | 'warn' | 'fail';
  files: Array<{
    file: string;
    status: 'pass' | 'warn' | 'fail';
    findings: Array<{ line: number; level: 'warning' | 'error'; rule: string; message: string; help: string | null }>;
  }>;
}

const MARK = { pass: '✔ pass', warn: '⚠ warn', fail: '✖ fail' } as const;
const pathOf = (r: LintReportInput, file: string) => (r.dir && r.dir !== '.' ? `${r.dir.replace(/\/+$/, '')}/${file}` : file);
const text = (f: LintReportInput['files'][number]['findings'][number]) => `${f.rule}: ${f.message}${f.help ? ` — ${f.help}` : ''}`;

function renderHuman(r: LintReportInput): string {
  const lines: string[] = [];
  for (const file of r.files) {
    lines.push(`${MARK[file.status]}  ${file.file}`);
    for (const f of file.findings) lines.push(`        line ${f.line} ${f.level} ${text(f)}`);
  }
  const findings = r.files.flatMap((f) => f.findings);
  lines.push(`migrate lint: ${r.status.toUpperCase()} — ${plural(r.files.length, 'file')}, ${plural(findings.filter((f) => f.level === 'error').length, 'error')}, ${plural(findings.filter((f) => f.level === 'warning').length, 'warning')}`);
  return `${lines.join('\n')}\n`;
}

function renderGithub(r: LintReportInput): string {
  const out = r.files.flatMap((file) =>
    file.findings.map((f) => annotation(f.level === 'error' ? 'error' : 'warning', `squawk ${f.rule}`, text(f), { file: pathOf(r, file.file), line: f.line })),
  );
  out.push(annotation('notice', 'routergpt migrate lint', `${r.status}: ${r.files.length} files, ${out.length} findings`));
  return `${out.join('\n')}\n`;
}

/**
 * GitLab code quality (https://docs.gitlab.com/ci/testing/code_quality/): description,
 * check_name, fingerprint (stable across runs: file, rule, message and its occurrence — not the
 * line, so an unrelated edit above does not make it "new"), severity, location.path/lines.begin.
 */
function renderGitlab(r: LintReportInput): string {
  const seen = new Map<string, number>();
  const issues = r.files.flatMap((file) =>
    file.findings.map((f) => {
      const key = `${pathOf(r, file.file)}\0${f.rule}\0${f.message}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      return {
        description: text(f),
        check_name: f.rule,
        fingerprint: createHash('sha256').update(`${key}\0${n}`).digest('hex'),
        severity: f.level === 'error' ? 'major' : 'minor',
        location: { path: pathOf(r, file.file), lines: { begin: f.line } },
      };
    }),
  );
  return `${JSON.stringify(issues, null, 2)}\n`;
}

function renderLintJunit(r: LintReportInput): string {
  const suites = r.files.map((file) => {
    const cases: JunitCase[] =
      file.findings.length === 0
        ? [{ name: file.file, classname: 'routergpt.migrate-lint', status: 'pass', message: 'no findings', body: '', durationMs: 0 }]
        : file.findings.map((f) => ({ name: `${file.file}:${f.line} ${f.rule}`, classname: 'routergpt.migrate-lint', status: f.level === 'error' ? 'fail' : 'warn', message: f.message, body: text(f), durationMs: 0 }));
    return { name: file.file, package: 'routergpt.migrate-lint', hostname: 'localhost', timestamp: new Date().toISOString().slice(0, 19), cases };
  });
  return renderJunitDocument('routergpt migrate lint', 0, suites);
}

export function renderLint(r: LintReportInput, name: LintReporterName): string {
  switch (name) {
    case 'human':
      return renderHuman(r);
    case 'json':
      return `${JSON.stringify({ schema: LINT_REPORT_SCHEMA, ...r }, null, 2)}\n`;
    case 'github':
      return renderGithub(r);
    case 'gitlab':
      return renderGitlab(r);
    case 'junit':
      return renderLintJunit(r);
  }
}
