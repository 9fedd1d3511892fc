import type { Writable } from 'node:stream';
import chalk, { Chalk } from 'chalk';
import type { Check } from '../checks/define-check.js';
import type { CheckOutcome } from '../checks/run-checks.js';
import type { IO } from '../cli/io.js';
import type { VerifyReport } from './types.js';
import { describeCheckCounts } from './types.js';
import { wrapToWidth } from './wrap.js';

const SYMBOL = { pass: '✔', warn: '⚠', fail: '✖', error: '✖', skip: '↓' } as const;

export interface Progress {
  onStart(check: Check): void;
  onFinish(outcome: CheckOutcome): void;
  /** Wait for the live display to settle. */
  finish(): Promise<void>;
}

/** Colours for a status (none when `color` is false): shared by every human report. */
export function painter(io: { color: boolean }) {
  const c = new Chalk({ level: io.color ? chalk.level || 1 : 0 });
  return {
    status: (s: CheckOutcome['status'], text: string) =>
      s === 'pass' ? c.green(text) : s === 'warn' ? c.yellow(text) : s === 'skip' ? c.gray(text) : c.red(text),
    dim: (t: string) => c.gray(t),
    bold: (t: string) => c.bold(t),
  };
}

/** A problem under a summary table: its headline in its colour, up to 15 details, the hint. */
export function problemLines(io: { color: boolean }, status: CheckOutcome['status'], headline: string, details: readonly string[], hint?: string): string[] {
  const p = painter(io);
  const lines = ['', p.status(status, headline), ...details.slice(0, 15).map((d) => `    ${d}`)];
  if (details.length > 15) lines.push(p.dim(`    … ${details.length - 15} more (see --reporter json)`));
  if (hint) lines.push(`    → ${hint}`);
  return lines;
}

/** Plain lines as checks finish — for CI logs and pipes (no cursor movement). */
function lineProgress(io: IO): Progress {
  const p = painter(io);
  return {
    onStart() {},
    onFinish(o) {
      io.stderr.write(`${p.status(o.status, `${SYMBOL[o.status]} ${o.status.padEnd(5)}`)} ${o.id} ${p.dim('—')} ${o.summary}\n`);
    },
    finish: async () => {},
  };
}

type ListrModule = typeof import('listr2');

/** How every live list renders: never stop at a failure, show every skip and error, draw on `out` (stderr: stdout carries the report). */
export function listrOptions(out: Writable, Logger: ListrModule['ListrLogger'], Output: ListrModule['ProcessOutput']) {
  return {
    exitOnError: false,
    collectErrors: false as const,
    rendererOptions: { collapseErrors: false, collapseSkips: false, showErrorMessage: true, logger: new Logger({ processOutput: new Output(out as NodeJS.WriteStream, out as NodeJS.WriteStream) }) },
  };
}

/** listr2's live task list on a terminal. listr2 renders; it is not the data model (no "warn"). */
async function liveProgress(io: IO, checks: readonly Check[]): Promise<Progress> {
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const waiting = new Map<string, (o: CheckOutcome) => void>();
  const done = new Map<string, CheckOutcome>();
  const list = new Listr(
    checks.map((check) => ({
      title: `${check.id} ${check.title}`,
      task: async (_ctx: unknown, task: { title: string; skip: (m: string) => void; output: string }) => {
        const outcome = done.get(check.id) ?? (await new Promise<CheckOutcome>((resolve) => waiting.set(check.id, resolve)));
        task.title = `${check.id} — ${outcome.summary}`;
        if (outcome.status === 'skip') task.skip(`${check.id} — skipped: ${outcome.summary}`);
        else if (outcome.status === 'fail' || outcome.status === 'error') throw new Error(`${check.id} — ${outcome.summary}`);
        else if (outcome.status === 'warn') task.title = `⚠ ${check.id} — ${outcome.summary}`;
      },
    })),
    {
      concurrent: true,
      ...listrOptions(io.stderr, ListrLogger, ProcessOutput),
    },
  );
  const running = list.run().then(
    () => {},
    () => {},
  );
  return {
    onStart() {},
    onFinish(o) {
      done.set(o.id, o);
      waiting.get(o.id)?.(o);
    },
    finish: () => running,
  };
}

export async function createHumanProgress(io: IO, checks: readonly Check[], live: boolean): Promise<Progress> {
  return live && io.stderrIsTTY ? liveProgress(io, checks) : lineProgress(io);
}

/**
 * The summary table (cli-table3) and the hints under failures, fitted to `columns` (the
 * terminal's width; 100 without one): one line per check where it fits, results wrapped, every
 * line under the table wrapped too.
 */
export async function renderHumanSummary(io: Pick<IO, 'color'>, report: VerifyReport, columns = 100): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const p = painter(io);
  const width = Math.max(60, columns);
  const idWidth = Math.min(36, Math.max(7, ...report.checks.map((o) => o.id.length)) + 2);
  const table = new Table({
    head: ['', 'check', 'result'],
    style: { head: io.color ? ['cyan'] : [], border: io.color ? ['grey'] : [] },
    wordWrap: true,
    colWidths: [9, idWidth, width - 9 - idWidth - 4],
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const o of report.checks) table.push([p.status(o.status, `${SYMBOL[o.status]} ${o.status}`), o.id, o.summary]);
  const lines = [table.toString()];
  const problems = report.checks.filter((o) => o.status === 'fail' || o.status === 'error' || o.status === 'warn');
  for (const o of problems) lines.push(...problemLines(io, o.status, `${SYMBOL[o.status]} ${o.id}: ${o.summary}`, o.details ?? [], o.hint));
  const c = report.counts;
  lines.push('', p.bold(`${report.command} ${report.env}: ${p.status(report.status === 'pass' ? 'pass' : report.status, report.status.toUpperCase())} — ${describeCheckCounts(c)} in ${(report.durationMs / 1000).toFixed(1)} s`));
  return `${[lines[0]!, ...lines.slice(1).flatMap((l) => wrapToWidth(l, width))].join('\n')}\n`;
}
