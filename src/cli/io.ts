import type { Writable } from 'node:stream';
import { isatty } from 'node:tty';

/**
 * Everything the CLI writes goes through an IO (STYLE.md §10): stdout carries data (tables,
 * JSON), stderr carries progress and errors. Tests pass their own streams.
 */
export interface IO {
  stdout: Writable;
  stderr: Writable;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  color: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on the first Ctrl-C: long runs stop at the next safe point (between runbook items). */
  signal?: AbortSignal;
  /**
   * Aborted on the second Ctrl-C, as the running item's child processes are stopped: the item
   * that fails because of it is recorded as cancelled (it runs again on --resume).
   */
  forceSignal?: AbortSignal;
}

export function processIO(colorFlag: boolean | undefined, signal?: AbortSignal): IO {
  const env = process.env;
  const color = colorFlag ?? (!('NO_COLOR' in env && env.NO_COLOR !== '') && Boolean(process.stderr.isTTY));
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // Not process.stdin.isTTY: touching process.stdin builds its stream (and loads net/fs stream
    // code) on every start-up, for the few commands that read it.
    stdinIsTTY: isatty(0),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    color,
    env,
    cwd: process.cwd(),
    signal,
  };
}

export function writeLine(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}
