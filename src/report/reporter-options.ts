import { UsageError } from '../errors.js';
import { didYouMean } from '../lib/nearest.js';

/** One `--reporter NAME[=FILE]`: where a reporter writes (no file: stdout). */
export interface ReporterOption<N extends string = string> {
  name: N;
  /** Write here; undefined means stdout. */
  file?: string;
}

/** The human reporter is the only one that may share stdout: it moves to stderr then. */
export const takesStdout = (spec: ReporterOption) => !spec.file && spec.name !== 'human';

/**
 * The reporting convention of every command that reports (DESIGN.md "Runbook"): `--reporter
 * NAME[=FILE]`, repeatable or comma-separated, and `--json`. Without `--reporter` the default is
 * `human`, or `json` under `--json`; with `--reporter`, `--json` adds JSON on stdout unless a
 * json reporter is already given. At most one machine reporter may write to stdout.
 */
export function parseReporterOptions<N extends string>(values: string[] | undefined, json: boolean, allowed: readonly N[]): Array<ReporterOption<N>> {
  const raw = values?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean) ?? [];
  const specs = raw.map((value): ReporterOption<N> => {
    const [name = '', file] = value.split('=', 2) as [string, string | undefined];
    if (!isAllowed(name, allowed)) {
      throw new UsageError(`Unknown reporter "${name}"${didYouMean(name, allowed) || '.'}`, `Use one of ${allowed.join(', ')} (repeat --reporter for several, NAME=FILE to write a file).`);
    }
    return file ? { name, file } : { name };
  });
  if (specs.length === 0) specs.push({ name: (json && isAllowed('json', allowed) ? 'json' : 'human') as N });
  else if (json && !specs.some((s) => s.name === 'json') && isAllowed('json', allowed)) specs.push({ name: 'json' as N });
  const onStdout = specs.filter(takesStdout);
  if (onStdout.length > 1) {
    throw new UsageError(`${onStdout.map((s) => s.name).join(' and ')} cannot share stdout.`, 'Give all but one a file, e.g. --reporter junit=report.xml.');
  }
  return specs;
}

function isAllowed<N extends string>(name: string, allowed: readonly N[]): name is N {
  return (allowed as readonly string[]).includes(name);
}
