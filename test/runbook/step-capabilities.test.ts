/**
 * Steps declare what they change and how they are undone; these tests keep the declarations
 * and the shipped checklists honest (the backup gate is derived from them, never from ids).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { itemsFor } from '../../src/runbook/checklist.js';
import { KNOWN_IDS } from '../../src/runbook/known-ids.js';
import { loadChecklist } from '../../src/runbook/checklist.js';
import { changedSomething, chooseTarget, rollbackItems, undoableItems } from '../../src/runbook/rollback.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import { ROLLBACK_TIERS } from '../../src/steps/define-step.js';
import { findStep, STEPS } from '../../src/steps/registry.js';
import { REPO_ROOT } from '../helpers/cli.js';

const shipped = readdirSync(path.join(REPO_ROOT, 'checklists')).filter((f) => f.endsWith('.yaml'));

describe('step capabilities', () => {
  it.each(STEPS.map((s) => [s.id, s] as const))('%s declares changesData, needs and a valid undo tier', (_id, step) => {
    expect(['user-data', 'derived', false]).toContain(step.changesData);
    for (const need of step.needs) expect(['db', 'api']).toContain(need);
    if (step.undo) expect(ROLLBACK_TIERS.filter((t) => t !== 'toggle')).toContain(step.undo.tier);
  });

  it.each(shipped)('checklists/%s: every step that changes user data comes after a db.backup of the same run', (file) => {
    const checklist = loadChecklist(path.join(REPO_ROOT, 'checklists', file), KNOWN_IDS);
    for (const run of ['deploy', 'maintenance'] as const) {
      const items = itemsFor(checklist, run);
      const backupAt = items.findIndex((i) => i.kind === 'step' && i.id === 'db.backup');
      for (const [index, item] of items.entries()) {
        if (item.kind !== 'step' || findStep(item.id)?.changesData !== 'user-data') continue;
        expect(backupAt, `${file} (${run}): ${item.id} changes user data and has no db.backup before it`).toBeGreaterThanOrEqual(0);
        expect(backupAt, `${file} (${run}): ${item.id} comes before db.backup`).toBeLessThan(index);
      }
    }
  });

  it.each(shipped)('checklists/%s: on a protected environment an approval stands before the first data-changing step', (file) => {
    const checklist = loadChecklist(path.join(REPO_ROOT, 'checklists', file), KNOWN_IDS);
    const env = file === 'production.yaml' ? 'prod' : file.replace(/\.yaml$/, '');
    // prod is protected by default; staging rehearses it (and is protected wherever its config says so); local never is.
    if (env === 'local') return;
    const items = itemsFor(checklist, 'deploy');
    const firstChange = items.findIndex((i) => i.kind === 'step' && findStep(i.id)?.changesData === 'user-data');
    const approvalAt = items.findIndex((i) => i.kind === 'approval');
    expect(firstChange, `${file}: no step changes user data`).toBeGreaterThanOrEqual(0);
    expect(approvalAt, `${file}: no approval item`).toBeGreaterThanOrEqual(0);
    expect(approvalAt, `${file}: the approval comes after ${items[firstChange]!.id}, which changes user data`).toBeLessThan(firstChange);
    // After the read-only gate: every check of the pre-deployment phase runs before anyone is asked to approve.
    const gateChecks = items.filter((i) => i.phase === checklist.phases[0]!.id && i.kind === 'check');
    for (const check of gateChecks) expect(items.indexOf(check), `${file}: ${check.id} comes after the approval`).toBeLessThan(approvalAt);
  });
});

/** A journaled deploy with these step states (what the rollback reads). */
function deployRun(states: Record<string, string>, outputs: Record<string, Record<string, unknown>> = {}): RunRecord {
  return {
    schema: 'routergpt.run/v1', id: '20261201T100000Z-deploy-beef', kind: 'deploy', env: 'prod', checklist: { name: 'production', file: 'x' }, status: 'failed',
    startedAt: '2026-12-01T10:00:00.000Z', startedBy: 'ops@host', host: 'host', pid: 1, resumes: [],
    items: Object.entries(states).map(([id, state]) => ({ id, kind: 'step', phase: 'p', title: id, state: state as RunRecord['items'][number]['state'], attempts: 1, outputs: outputs[id] ?? {} })),
  };
}

describe('rollback from the journal', () => {
  const manifest = { 'db.backup': { manifest: '/b/pre.manifest.json' } };

  it('a deploy that only took a backup (or stopped before it) changed nothing', () => {
    expect(changedSomething(deployRun({ 'db.backup': 'done', 'db.migrate': 'pending' }, manifest))).toBe(false);
    expect(changedSomething(deployRun({ 'db.backup': 'pending' }))).toBe(false);
    expect(changedSomething(deployRun({ 'db.backup': 'done', 'db.migrate': 'failed' }, manifest))).toBe(true);
  });

  it('the target is the newest deploy that changed something: a newer one cancelled at its first prompt is passed over', () => {
    const older = { ...deployRun({ 'db.backup': 'done', 'db.migrate': 'done' }, { ...manifest, 'db.migrate': { before: '005', applied: ['006_x'] } }), id: '20261201T090000Z-deploy-aaaa', startedAt: '2026-12-01T09:00:00.000Z', status: 'succeeded' as const };
    const cancelled = { ...deployRun({ 'manual.unit-tests-pass': 'failed', 'db.backup': 'pending', 'db.migrate': 'pending' }), id: '20261201T110000Z-deploy-bbbb', startedAt: '2026-12-01T11:00:00.000Z', status: 'cancelled' as const };
    cancelled.items[0]!.kind = 'manual';
    expect(chooseTarget([cancelled, older])?.id).toBe(older.id);
  });

  it('undos come in reverse step order, the toggle first, a safety backup before the destructive ones', () => {
    const run = deployRun({ 'db.backup': 'done', 'db.migrate': 'done', 'db.purge-test-data': 'done', 'code.deploy': 'done' }, { ...manifest, 'db.migrate': { before: '005', applied: ['006_x'] }, 'db.purge-test-data': { record: '/r.json', deletedIds: [1] }, 'code.deploy': { runs: [{}] } });
    expect(undoableItems(run).map((u) => u.tier)).toEqual(['code', 'purge', 'migrations', 'restore']);
    const items = rollbackItems({ tiers: ['toggle', 'purge', 'restore'], target: run, rollbackId: 'r', verify: false });
    expect(items.map((i) => i.id)).toEqual(['router.disable', 'db.backup', 'undo.db.purge-test-data', 'undo.db.backup']);
    expect(items[0]!.breakGlass).toBe(true);
    expect(items.slice(1).some((i) => i.breakGlass)).toBe(false);
  });

  it('a tier the deploy has nothing for is refused, naming the tiers it has', () => {
    const run = deployRun({ 'db.backup': 'done', 'db.migrate': 'skipped' }, manifest);
    expect(() => rollbackItems({ tiers: ['migrations'], target: run, rollbackId: 'r', verify: false })).toThrow(/nothing to undo for tier migrations.*/);
  });
});
