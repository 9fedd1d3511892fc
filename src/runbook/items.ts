import { CHECKS } from '../checks/registry.js';
import type { RollbackTier } from '../steps/define-step.js';
import { findStep } from '../steps/registry.js';
import type { ChecklistItem } from './checklist.js';

/** A rollback item: the undo of one journaled deploy step, with what that step recorded. */
export interface UndoItem {
  kind: 'undo';
  /** `undo.<step id>` */
  id: string;
  step: string;
  tier: Exclude<RollbackTier, 'toggle'>;
  title: string;
  phase: string;
  /** The deploy run, the item's final state there, and its outputs. */
  source: { runId: string; state: string; outputs: Record<string, unknown> };
  params: Record<string, unknown>;
}

/** What the executor runs: checklist items, and undo items a rollback builds from a journal. */
export type RunItem = (ChecklistItem | UndoItem) & {
  /** Runs before the run lock is taken (the break-glass toggle): never blocked by another run. */
  breakGlass?: boolean;
  /**
   * A step that changes user data runs without a backup in this run, and why (`routergpt geocode
   * --no-backup`, refused on protected environments): the reason is journaled as the item's note.
   */
  backupWaived?: string;
};

export function titleOf(item: RunItem): string {
  if (item.title) return item.title;
  if (item.kind === 'step') return findStep(item.id)?.title ?? item.id;
  if (item.kind === 'check') return item.checks.length === 1 ? (CHECKS.find((c) => c.id === item.checks[0])?.title ?? item.id) : `${item.checks.length} checks`;
  return item.id;
}
