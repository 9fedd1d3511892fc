import { SMOKE_CHECK_IDS } from '../checks/sets.js';
import { OperationError, UsageError } from '../errors.js';
import { ROLLBACK_TIERS, undoApplies, type RollbackTier } from '../steps/define-step.js';
import { findStep } from '../steps/registry.js';
import type { RunItem, UndoItem } from './items.js';
import type { ItemRecord, RunRecord } from './journal.js';

export type Tier = RollbackTier;
export const TIERS = ROLLBACK_TIERS;

/** `--tier a,b --tier c` → tiers, in the order given's union; unknown names are usage errors. */
export function parseTiers(values: string[] | undefined): Tier[] {
  const raw = (values && values.length ? values : ['toggle']).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const bad = raw.filter((t) => !TIERS.includes(t as Tier));
  if (bad.length) throw new UsageError(`Unknown rollback tier "${bad.join(', ')}".`, `Use --tier ${TIERS.join('|')} (fastest first: toggle).`);
  return TIERS.filter((t) => raw.includes(t));
}

function sourceOf(run: RunRecord, item: ItemRecord) {
  return { runId: run.id, state: item.state, outputs: item.outputs ?? {}, ...(item.checkpoint ? { checkpoint: item.checkpoint } : {}) };
}

/** The deploy's journaled steps that left something to undo, in reverse step order. */
export function undoableItems(run: RunRecord): Array<{ item: ItemRecord; tier: Exclude<Tier, 'toggle'> }> {
  const found: Array<{ item: ItemRecord; tier: Exclude<Tier, 'toggle'> }> = [];
  for (const item of [...run.items].reverse()) {
    if (item.kind !== 'step') continue;
    const step = findStep(item.id);
    if (step?.undo && undoApplies(step, sourceOf(run, item))) found.push({ item, tier: step.undo.tier });
  }
  return found;
}

/**
 * Whether a deploy changed anything: a step that changes user data got past `pending`, or any
 * step left an undo other than the restore of its own backup (a backup alone changes nothing).
 */
export function changedSomething(run: RunRecord): boolean {
  if (run.kind !== 'deploy') return false;
  const touched = run.items.some((i) => i.kind === 'step' && i.state !== 'pending' && i.state !== 'skipped' && findStep(i.id)?.changesData === 'user-data');
  return touched || undoableItems(run).some((u) => u.tier !== 'restore');
}

/** The rollback target without `--run`: the newest deploy that changed something. */
export function chooseTarget(runs: RunRecord[]): RunRecord | undefined {
  return runs.filter((r) => r.kind === 'deploy' && changedSomething(r)).sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
}

export interface RollbackItemsOptions {
  tiers: Tier[];
  target: RunRecord | undefined;
  rollbackId: string;
  /** Check the API after the rollback (health, schema, smoke when the router stays on). */
  verify: boolean;
  /** Re-apply the bookings and chat rows written since the backup (tier restore only). */
  keepWrites?: boolean;
  /** The release to roll the code back to (tier code: `ROUTERGPT_ROLLBACK_RELEASE` of its commands). */
  rollbackRelease?: string;
  /** `--backup FILE` (its manifest, checked by the command): tier restore restores it instead of the deploy's own backup. */
  backup?: string;
}

/**
 * The items of a rollback: the break-glass toggle first, then — for the other tiers — the
 * undo of each of the target's steps in reverse step order, a safety backup before any
 * destructive undo, and the verification of what runs now.
 */
export function rollbackItems({ tiers, target, rollbackId, verify, keepWrites, rollbackRelease, backup }: RollbackItemsOptions): RunItem[] {
  if (keepWrites && !tiers.includes('restore')) throw new UsageError('--keep-writes re-applies writes after a restore, and no restore tier was asked for.', 'Add --tier restore, or drop --keep-writes; nothing was changed.');
  if (backup && !tiers.includes('restore')) throw new UsageError('--backup names the backup to restore, and no restore tier was asked for.', 'Add --tier restore, or drop --backup; nothing was changed.');
  const items: RunItem[] = [];
  if (tiers.includes('toggle')) items.push({ kind: 'step', id: 'router.disable', params: {}, phase: 'rollback (toggle)', title: 'Turn the router off at runtime (tier toggle)', breakGlass: true });
  const wanted = tiers.filter((t) => t !== 'toggle');
  if (wanted.length === 0) return withVerification(items, tiers, verify);
  // With --backup, tier restore needs no deploy: it restores that backup.
  const fromTarget = wanted.filter((t) => !(t === 'restore' && backup));
  if (!target && fromTarget.length) throw new UsageError(`Tier ${fromTarget.join(', ')} needs a deploy run to undo, and none that changed anything is recorded.`, `Pass --run RUN (see \`routergpt status\`)${wanted.includes('restore') ? ', or --tier restore --backup FILE (see `routergpt backup --list`)' : ''}, or use --tier toggle.`);
  const undos = target ? undoableItems(target).filter((u) => fromTarget.includes(u.tier)) : [];
  const missing = fromTarget.filter((t) => !undos.some((u) => u.tier === t));
  if (target && missing.length) {
    const has = [...new Set(undoableItems(target).map((u) => u.tier))];
    throw new OperationError(`Deploy ${target.id} has nothing to undo for tier ${missing.join(', ')}; nothing was changed.`, has.length ? `Its steps can be undone by: --tier ${['toggle', ...has].join(',')}.` : 'It changed nothing that routergpt can undo; --tier toggle still turns the router off.');
  }
  const undoItems: UndoItem[] = undos.map(({ item, tier }) => {
    const undo = findStep(item.id)!.undo!;
    const params = tier === 'restore' && keepWrites ? { keepWrites: true } : tier === 'code' && rollbackRelease ? { rollbackRelease } : {};
    return { kind: 'undo', id: `undo.${item.id}`, step: item.id, tier, title: `${undo.title} (tier ${tier})`, phase: `rollback (${tier})`, source: sourceOf(target!, item), params };
  });
  if (backup) {
    // The db.backup step's own undo, given the chosen backup's manifest: the same restore, loss preview and --keep-writes.
    undoItems.push({ kind: 'undo', id: 'undo.db.backup', step: 'db.backup', tier: 'restore', title: `Restore the backup ${backup.replace(/\.manifest\.json$/, '').split(/[/\\]/).at(-1)} (--backup; replaces all data in schema public) (tier restore)`, phase: 'rollback (restore)', source: { runId: target?.id ?? '(--backup)', state: 'done', outputs: { manifest: backup } }, params: keepWrites ? { keepWrites: true } : {} });
  }
  if (undoItems.some((u) => findStep(u.step)!.undo!.destructive)) {
    // Retention after the safety backup never deletes the backup about to be restored.
    const protect = undoItems.filter((u) => u.tier === 'restore').map((u) => u.source.outputs.manifest).filter((m): m is string => typeof m === 'string');
    items.push({ kind: 'step', id: 'db.backup', params: { label: `safety-${rollbackId}`, ...(protect.length ? { protect } : {}) }, phase: 'rollback (safety backup)', title: 'Safety backup of the current state, before anything is replaced' });
  }
  items.push(...undoItems);
  return withVerification(items, tiers, verify);
}

function withVerification(items: RunItem[], tiers: Tier[], verify: boolean): RunItem[] {
  if (!verify) return items;
  // With the router off, its routes answer 503 by design: smoke only when it stays on.
  const checks = ['api.health', 'api.schema-matches', ...(tiers.includes('toggle') ? [] : SMOKE_CHECK_IDS.filter((id) => id !== 'api.health'))];
  return [...items, { kind: 'check', id: 'verify.after-rollback', checks, title: 'Verify what runs now: health, schema matches the code, smoke', onFail: 'stop', params: {}, phase: 'verification' }];
}

/** The `routergpt rollback` commands for what a deploy can undo — printed after a failed deploy. */
export function rollbackCommandsFor(run: RunRecord): string[] {
  const cmd = (tier: string) => `routergpt rollback --env ${run.env} --run ${run.id} --tier ${tier}`;
  const lines = [`${cmd('toggle')}   # seconds: the router answers 503, no restart`];
  for (const { item, tier } of undoableItems(run)) lines.push(`${cmd(tier)}   # ${findStep(item.id)!.undo!.title}`);
  return lines;
}
