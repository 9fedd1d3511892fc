import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { takesStdout, type ReporterOption } from './reporter-options.js';

export interface ReportStreams {
  stdout: Writable;
  stderr: Writable;
  color: boolean;
  /** Relative report files resolve here (default: the process's directory). */
  cwd?: string;
}

/**
 * Temp file + rename in the same directory, so a CI step reading the report never sees half a
 * file, and a failed write leaves the previous report in place.
 */
export function writeFileAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/**
 * Render each reporter and send it where it goes: its file, or stdout. When a machine reporter
 * has stdout, the human one moves to stderr so stdout stays parseable; a human report written to
 * a file is never coloured. Returns the files written (absolute paths).
 */
export async function writeReports<N extends string>(
  specs: ReadonlyArray<ReporterOption<N>>,
  render: (spec: ReporterOption<N>, color: boolean) => string | Promise<string>,
  io: ReportStreams,
): Promise<string[]> {
  const written: string[] = [];
  const machineOnStdout = specs.some(takesStdout);
  for (const spec of specs) {
    const text = await render(spec, io.color && !spec.file);
    if (spec.file) {
      const file = path.resolve(io.cwd ?? '.', spec.file);
      writeFileAtomic(file, text);
      written.push(file);
    } else if (spec.name === 'human' && machineOnStdout) io.stderr.write(text);
    else io.stdout.write(text);
  }
  return written;
}
