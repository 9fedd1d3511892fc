import type { Writable } from 'node:stream';
import type { RunRecord } from '../runbook/journal.js';
import { renderJson } from './json.js';
import type { ReporterOption } from './reporter-options.js';
import { appendGithubStepSummary, renderRunGithub } from './run-github.js';
import { renderRunHuman } from './run-human.js';
import { renderRunJunit } from './run-junit.js';
import { renderRunMarkdown } from './run-markdown.js';
import { toRunReport, type RunReport } from './run-report.js';
import { writeReports } from './write-reports.js';

// The commands that report a run parse their flags with the same parser as verify.
export { parseReporterOptions, type ReporterOption } from './reporter-options.js';

/** What deploy, rollback and maintain accept for --reporter (parseReporterOptions' `allowed`). */
export const RUN_REPORTERS = ['human', 'json', 'junit', 'github', 'markdown', 'html'] as const;
export type RunReporterName = (typeof RUN_REPORTERS)[number];

export interface RunReportIO {
  stdout: Writable;
  stderr: Writable;
  /** Read for GITHUB_STEP_SUMMARY; injected, never process.env. */
  env: Readonly<Record<string, string | undefined>>;
  color: boolean;
  /** The terminal's width for the human table. */
  columns?: number;
  /** Relative report files resolve here (default: the process's directory). */
  cwd?: string;
  /** For the human report of a failed deploy: the commands that undo what ran. */
  rollbackPlan?: readonly string[];
  /**
   * Each item's result was already printed as a plain line on stderr (no terminal): the human
   * report on a stream then leaves the table out, so a CI log shows every result once.
   */
  linesShown?: boolean;
}

export interface RunReportsResult {
  report: RunReport;
  /** Report files written (absolute), the GitHub step summary included. */
  written: string[];
}

/**
 * The run alone as the self-contained HTML page of `routergpt report` (its watch included, when
 * the run journaled one); the analytics and success metrics need the database and a window, so
 * the page says which command adds them.
 */
async function renderRunHtml(record: RunRecord): Promise<string> {
  const { renderHtmlReport } = await import('./html.js');
  const more = `not part of a run's own report: \`routergpt report --html FILE --run ${record.id} --env ${record.env}\` adds it`;
  return renderHtmlReport({ env: record.env, generatedAt: new Date().toISOString(), run: { record, state: record.status }, analytics: { missing: `Analytics are ${more}.` }, metrics: { missing: `The success metrics are ${more}.` } });
}

function render(record: RunRecord, report: RunReport, name: RunReporterName, color: boolean, columns: number | undefined, rollbackPlan: readonly string[] | undefined, table: boolean): string | Promise<string> {
  switch (name) {
    case 'human':
      return renderRunHuman(report, { color, table, ...(columns ? { columns } : {}), ...(rollbackPlan ? { rollbackPlan } : {}) });
    case 'json':
      return renderJson(report);
    case 'junit':
      return renderRunJunit(report);
    case 'github':
      return renderRunGithub(report);
    case 'markdown':
      return renderRunMarkdown(report);
    case 'html':
      return renderRunHtml(record);
  }
}

/**
 * Report a finished (or stopped) run with each reporter: to its file, written atomically, or to
 * stdout (the human report moves to stderr when a machine reporter has stdout). The github
 * reporter also appends the Markdown report to $GITHUB_STEP_SUMMARY when that is set.
 */
export async function writeRunReports(record: RunRecord, reporters: ReadonlyArray<ReporterOption<RunReporterName>>, io: RunReportIO): Promise<RunReportsResult> {
  const report = toRunReport(record);
  const written = await writeReports(reporters, (spec, color) => render(record, report, spec.name, color, io.columns, io.rollbackPlan, !(io.linesShown && !spec.file)), io);
  if (reporters.some((r) => r.name === 'github')) {
    const summary = appendGithubStepSummary(report, io.env);
    if (summary) written.push(summary);
  }
  return { report, written };
}
