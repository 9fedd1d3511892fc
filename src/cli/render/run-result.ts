import type { ItemRecord, RunRecord } from '../../runbook/journal.js';
import type { CommandContext } from '../context.js';
import { ChecksFailedError, ExitCode } from '../../errors.js';
import { outputColumns, printJson } from './output.js';

/** `--reporter NAME[=FILE]` (repeatable) on deploy, rollback and maintain — the same convention as verify. */
export function collectReporter(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parse the reporters before the run starts, so a misspelt one changes nothing (exit 2). */
export async function verifyReporters(ctx: CommandContext, reporterFlags: string[] | undefined): Promise<void> {
  if (!reporterFlags?.length) return;
  const { parseReporterOptions, RUN_REPORTERS } = await import('../../report/run-reporters.js');
  parseReporterOptions(reporterFlags, Boolean(ctx.globals.json), RUN_REPORTERS);
}

/**
 * The end of every journaled command (deploy, maintain, rollback): the run's reports, then the
 * exit code — 1 when an item failed, 4 when a held lock stopped it. Without `--reporter` the
 * human report (a table sized to the terminal, the sign-off, the rollback plan of a failed
 * deploy) goes to stdout — without the table when stderr is no terminal, whose plain progress
 * lines already gave each item's result (a CI log shows each once); Markdown only for `--reporter markdown`; `--json` is `--reporter json`.
 */
export async function finishRun(ctx: CommandContext, result: object & { run?: RunRecord; dryRun?: boolean }, what: string, rollbackPlan: string[] = [], reporterFlags?: string[], strict = false): Promise<void> {
  const { run } = result;
  const { parseReporterOptions, RUN_REPORTERS, writeRunReports } = await import('../../report/run-reporters.js');
  const reporters = parseReporterOptions(reporterFlags, Boolean(ctx.globals.json), RUN_REPORTERS);
  if (!run) {
    // A dry run has no record: its plan is the result.
    if (ctx.globals.json) printJson(ctx.io, result);
  } else {
    await writeRunReports(run, reporters, { stdout: ctx.io.stdout, stderr: ctx.io.stderr, env: ctx.io.env, color: ctx.io.color, cwd: ctx.io.cwd, columns: outputColumns(ctx.io), rollbackPlan, linesShown: !ctx.io.stderrIsTTY });
  }
  if (run && run.status !== 'succeeded') {
    throw new ChecksFailedError(`${what} failed`, failureExitCode(run.items));
  }
  // --strict: a warning (a check that warned, a manual item pre-answered in the sign-off file) is exit 3.
  if (run && strict && run.items.some((i) => i.state === 'warn')) {
    ctx.io.stderr.write(`routergpt: ${what} succeeded with warnings (${run.items.filter((i) => i.state === 'warn').map((i) => i.id).join(', ')}); --strict makes that exit 3\n`);
    throw new ChecksFailedError(`${what} has warnings`, ExitCode.strictWarnings);
  }
}

/** 4 when the run stopped because something held a lock; 2 when an approval was refused (self-approval: nothing changed); else 1. */
export function failureExitCode(items: ItemRecord[]): 1 | 2 | 4 {
  if (items.some((i) => i.state === 'failed' && i.errorKind === 'LockHeldError')) return 4;
  return items.some((i) => i.state === 'failed' && i.kind === 'approval' && i.errorKind === 'UsageError') ? 2 : 1;
}
