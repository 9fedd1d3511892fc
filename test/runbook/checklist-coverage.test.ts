import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/registry.js';
import { loadChecklist } from '../../src/runbook/checklist.js';
import { findStep, STEPS } from '../../src/steps/registry.js';
import { REPO_ROOT } from '../helpers/cli.js';

const known = { checks: new Set(CHECKS.map((c) => c.id)), steps: new Set(STEPS.map((s) => s.id)), stepParams: new Map(STEPS.map((s) => [s.id, s.params ?? []])) };

/** Every actionable line of the reference checklist: `- [ ]` items, the deployment steps, the rollback options, the sign-off lines. */
function checklistLines(): Array<{ line: number; text: string }> {
  const src = readFileSync(path.join(REPO_ROOT, 'docs', 'reference', 'production-deployment-checklist.md'), 'utf8').split('\n');
  const re = /^\s*- \[ \] (.*)$|^### ((?:Step|Option) .*)$|^\*\*(Deployment Date|Deployed By|Sign-off)\*\*/;
  return src.flatMap((l, i) => {
    const m = re.exec(l);
    return m ? [{ line: i + 1, text: (m[1] ?? m[2] ?? m[3])!.replace(/\*\*/g, '').trim() }] : [];
  });
}

function coverageRows(): Map<number, { text: string; ids: string[] }> {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'checklist-coverage.md'), 'utf8');
  const rows = new Map<number, { text: string; ids: string[] }>();
  for (const m of doc.matchAll(/^\| (\d+) \| (.*) \| (.*) \|$/gm)) rows.set(Number(m[1]), { text: m[2]!.replace(/\\\|/g, '|'), ids: [...m[3]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!) });
  return rows;
}

describe('the production checklist is covered, line by line', () => {
  const checklist = loadChecklist(path.join(REPO_ROOT, 'checklists', 'production.yaml'), known);
  const items = checklist.phases.flatMap((p) => p.items);
  // A rollback option is a tier: the toggle, or the undo of one of the checklist's steps.
  const tiers = ['toggle', ...items.flatMap((i) => (i.kind === 'step' ? [findStep(i.id)?.undo?.tier ?? []].flat() : []))];
  const itemIds = new Set([...items.flatMap((i) => (i.kind === 'check' ? i.checks : [i.id])), ...tiers.map((t) => `tier:${t}`)]);
  const rows = coverageRows();
  const lines = checklistLines();

  it('finds the checklist\'s lines', () => {
    expect(lines.length).toBeGreaterThan(120);
  });

  it.each(lines)('line $line "$text" is mapped to items of production.yaml', ({ line, text }) => {
    const row = rows.get(line);
    expect(row, `no row for line ${line} in docs/checklist-coverage.md`).toBeDefined();
    expect(row!.text).toBe(text);
    expect(row!.ids.length).toBeGreaterThan(0);
    for (const id of row!.ids) expect(itemIds.has(id), `${id} (line ${line}) is not an item of checklists/production.yaml`).toBe(true);
  });

  it('every manual item of production.yaml is used by some checklist line', () => {
    const used = new Set([...rows.values()].flatMap((r) => r.ids));
    const manual = checklist.phases.flatMap((p) => p.items).filter((i) => i.kind === 'manual').map((i) => i.id);
    expect(manual.filter((id) => !used.has(id))).toEqual([]);
  });

  it('a misspelt step parameter is a checklist error naming it', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const os = await import('node:os');
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cl-')), 'typo.yaml');
    writeFileSync(file, 'name: typo\nphases:\n  - id: db\n    items:\n      - step: db.backup\n        params: { restore_test: true }\n');
    expect(() => loadChecklist(file, known)).toThrow(/step db.backup has no parameter "restore_test" \(it takes: format, jobs, label, retention, restoreTest, restoreTestUrl, protect\) — did you mean "restoreTest"\?/);
  });

  it.each(['production', 'staging', 'local'])('checklists/%s.yaml is valid', (name) => {
    expect(() => loadChecklist(path.join(REPO_ROOT, 'checklists', `${name}.yaml`), known)).not.toThrow();
  });
});
