import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { IO } from '../cli/io.js';
import { renderGithub } from './github.js';
import { renderHumanSummary } from './human.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { REPORTERS, type ReporterName, type VerifyReport } from './types.js';

export interface ReporterSpec {
  name: ReporterName;
  /** Write here; undefined means stdout. */
  file?: string;
}

/**
 * `--reporter human --reporter junit --output report.xml`: each reporter may be `name=FILE`;
 * `--output` goes to the one machine reporter without a file. At most one reporter takes stdout
 * besides `human`, and when one does, the human summary moves to stderr.
 */
export function parseReporters(values: string[] | undefined, output: string | undefined, json: boolean): ReporterSpec[] {
  const raw = values && values.length > 0 ? values : [json ? 'json' : 'human'];
  const specs: ReporterSpec[] = raw.flatMap((v) => v.split(',')).map((v) => {
    const [name, file] = v.split('=', 2) as [string, string | undefined];
    if (!REPORTERS.includes(name as ReporterName)) throw new UsageError(`Unknown reporter "${name}".`, `Use one of ${REPORTERS.join(', ')} (repeat --reporter for several).`);
    return { name: name as ReporterName, file: file || undefined };
  });
  if (output) {
    const takers = specs.filter((s) => !s.file && s.name !== 'human');
    if (takers.length === 0 && specs.length === 1 && specs[0]!.name === 'human') specs[0]!.file = output;
    else if (takers.length !== 1) throw new UsageError('--output needs exactly one reporter to write to it.', 'Use --reporter NAME=FILE for each reporter that should write a file.');
    else takers[0]!.file = output;
  }
  const onStdout = specs.filter((s) => !s.file && s.name !== 'human');
  if (onStdout.length > 1) throw new UsageError(`${onStdout.map((s) => s.name).join(' and ')} would both write to stdout.`, 'Give all but one a file: --reporter junit=report.xml.');
  return specs;
}

export async function emitReports(io: IO, report: VerifyReport, specs: ReporterSpec[]): Promise<string[]> {
  const written: string[] = [];
  const machineOnStdout = specs.some((s) => !s.file && s.name !== 'human');
  for (const spec of specs) {
    const text =
      spec.name === 'human' ? await renderHumanSummary(spec.file ? { ...io, color: false } : io, report)
      : spec.name === 'json' ? renderJson(report)
      : spec.name === 'junit' ? renderJunit(report)
      : spec.name === 'github' ? renderGithub(report)
      : renderMarkdown(report);
    if (spec.file) {
      const file = path.resolve(io.cwd, spec.file);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      written.push(file);
    } else if (spec.name === 'human' && machineOnStdout) io.stderr.write(text);
    else io.stdout.write(text);
  }
  return written;
}
