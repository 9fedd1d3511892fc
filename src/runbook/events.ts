import type { ItemRecord, RunRecord } from './journal.js';
import type { PlanEntry } from './plan.js';

/**
 * What a journaled run tells its renderers (report/run-lines.ts on a terminal or in CI logs,
 * the reporters at the end). The executor and the lifecycle emit; they never print.
 */
export type RunEvent =
  | { type: 'plan'; record: RunRecord; plan: PlanEntry[]; dryRun: boolean; heading: string }
  | { type: 'run-started'; record: RunRecord; journalFile: string }
  | { type: 'note'; line: string }
  | { type: 'item-started'; item: ItemRecord }
  | { type: 'item-progress'; item: ItemRecord; line: string }
  | { type: 'item-resumed'; item: ItemRecord }
  | { type: 'prompt'; item: ItemRecord; question: string }
  /** The run waits in `waiting-approval` (its note says so to a person; notifications tell the approvers). */
  | { type: 'waiting-approval'; record: RunRecord; item: ItemRecord; missing: number; notBy: string[]; until: string }
  | { type: 'item-finished'; item: ItemRecord }
  | { type: 'run-finished'; record: RunRecord };

export type RunObserver = (event: RunEvent) => void;
