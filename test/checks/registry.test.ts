/** The registry and docs/checks.md stay in step (STYLE.md §5). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/registry.js';
import { REPO_ROOT } from '../helpers/cli.js';

const docs = readFileSync(path.join(REPO_ROOT, 'docs', 'checks.md'), 'utf8');
const anchors = [...docs.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]!);

describe('check registry', () => {
  it('ids are unique', () => {
    const ids = CHECKS.map((c) => c.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('ids are area.kebab-name', () => {
    for (const c of CHECKS) expect(c.id, c.id).toMatch(/^[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it("each check lives in src/checks/<area>/<name>.ts and that file's default export is the check", async () => {
    for (const c of CHECKS) {
      const [area, name] = c.id.split('.') as [string, string];
      const file = path.join(REPO_ROOT, 'src', 'checks', area, `${name}.ts`);
      expect(existsSync(file), `${c.id} → ${file}`).toBe(true);
      const mod = (await import(file)) as { default: { id: string } };
      expect(mod.default.id, file).toBe(c.id);
    }
  });

  it('every id has an anchor in docs/checks.md, and no anchor lacks a check', () => {
    const ids = CHECKS.map((c) => c.id);
    expect(ids.filter((id) => !anchors.includes(id)), 'checks without a docs section').toEqual([]);
    expect(anchors.filter((a) => !ids.includes(a)), 'docs sections without a check').toEqual([]);
    expect(anchors.filter((a, i) => anchors.indexOf(a) !== i), 'duplicate anchors').toEqual([]);
  });

  it('off-by-default and stage metadata are sane', () => {
    // A check of no stage is a maintenance finding: tagged so, chosen by the maintenance phases or --only.
    for (const c of CHECKS) expect(c.stages.length > 0 || c.tags?.includes('maintenance'), c.id).toBe(true);
    expect(CHECKS.find((c) => c.id === 'api.rate-limit')?.defaultOffIn).toContain('prod');
    expect(CHECKS.at(-1)?.id, 'the budget-spending check runs last').toBe('api.rate-limit');
  });
});
