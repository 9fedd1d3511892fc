import { UsageError } from '../errors.js';
import type { IO } from '../cli/io.js';
import { appendStepSummary, renderGithub } from './github.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { parseReporterOptions, takesStdout, type ReporterOption } from './reporter-options.js';
import { REPORTERS, type ReporterName, type VerifyReport } from './types.js';
import { writeReports } from './write-reports.js';

export type ReporterSpec = ReporterOption<ReporterName>;

/**
 * `--reporter human --reporter junit --output report.xml`: each reporter may be `name=FILE`
 * (parseReporterOptions); `--output` goes to the one machine reporter without a file.
 */
export function parseReporters(values: string[] | undefined, output: string | undefined, json: boolean): ReporterSpec[] {
  // With --output, --json only picks the default: it must not add a second taker for the file.
  const specs = parseReporterOptions(values, json && (!output || !values?.length), REPORTERS);
  if (output) {
    const takers = specs.filter(takesStdout);
    if (takers.length === 0 && specs.length === 1 && specs[0]!.name === 'human') specs[0]!.file = output;
    else if (takers.length !== 1) throw new UsageError('--output needs exactly one reporter to write to it.', 'Use --reporter NAME=FILE for each reporter that should write a file.');
    else takers[0]!.file = output;
  }
  return specs;
}

/**
 * Each reporter to its file or stdout (writeReports); the github reporter also appends the
 * Markdown report to $GITHUB_STEP_SUMMARY when that is set, as a run's does.
 */
export async function emitReports(io: IO, report: VerifyReport, specs: ReporterSpec[]): Promise<string[]> {
  // The human renderer (chalk, wrap-ansi and its emoji tables: ≈ 30 ms to load) only when asked for: CI's json/junit runs skip it.
  const human = specs.some((s) => s.name === 'human') ? await import('./human.js') : undefined;
  const written = await writeReports(
    specs,
    (spec, color) =>
      spec.name === 'human' ? human!.renderHumanSummary({ color }, report, io.stdoutIsTTY && process.stdout.columns ? process.stdout.columns : 100)
      : spec.name === 'json' ? renderJson(report)
      : spec.name === 'junit' ? renderJunit(report)
      : spec.name === 'github' ? renderGithub(report)
      : renderMarkdown(report),
    io,
  );
  const summary = specs.some((s) => s.name === 'github') ? appendStepSummary(renderMarkdown(report), io.env) : undefined;
  return summary ? [...written, summary] : written;
}
