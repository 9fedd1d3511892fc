import type { ItemRecord, RunRecord } from '../../runbook/journal.js';
import type { CommandContext } from '../context.js';
import { ChecksFailedError } from '../../errors.js';
import { printJson } from './output.js';

/**
 * The end of every journaled command (deploy, maintain, rollback): the result as JSON or the
 * run's Markdown report, then the exit code — 1 when an item failed, 4 when a held lock stopped it.
 */
export async function finishRun(ctx: CommandContext, result: object & { run?: RunRecord }, what: string, rollbackPlan: string[] = []): Promise<void> {
  const { run } = result;
  if (ctx.globals.json) printJson(ctx.io, result);
  else if (run) {
    const { renderRunSummary } = await import('../../runbook/render.js');
    ctx.io.stdout.write(renderRunSummary(run, rollbackPlan));
  }
  if (run && run.status !== 'succeeded') {
    throw new ChecksFailedError(`${what} failed`, failureExitCode(run.items));
  }
}

/** 4 when the run stopped because something held a lock, else 1. */
export function failureExitCode(items: ItemRecord[]): 1 | 4 {
  return items.some((i) => i.state === 'failed' && i.errorKind === 'LockHeldError') ? 4 : 1;
}
