import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/registry.js';
import { ConfigError } from '../../src/errors.js';
import { nearest } from '../../src/lib/nearest.js';
import { loadChecklist, type KnownIds } from '../../src/runbook/checklist.js';
import { STEPS } from '../../src/steps/registry.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

const known: KnownIds = {
  checks: new Set(CHECKS.map((c) => c.id)),
  steps: new Set(STEPS.map((s) => s.id)),
  stepParams: new Map(STEPS.map((s) => [s.id, s.params ?? []])),
  checkParams: new Map(CHECKS.map((c) => [c.id, c.params ?? []])),
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'checklist-validation-'));

/** A valid checklist with one phase of items; each fixture changes one line of it. */
function checklist(items: string, { top = '', phase = '' } = {}): string {
  return `name: typo\ndescription: one typo\n${top}phases:\n  - id: pre-deployment\n    title: Pre\n    items:\n      - check: db.reachable\n  - id: database\n    title: Database\n${phase}    items:\n      - step: db.backup\n${items}`;
}

function write(scenario: string, yaml: string): string {
  const file = path.join(dir, `${scenario}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

function loadError(file: string): ConfigError {
  try {
    loadChecklist(file, known);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`${file} loaded without problems`);
}

describe('nearest', () => {
  it('suggests the closest spelling within the edit budget', () => {
    expect(nearest('contineu', ['stop', 'continue'])).toBe('continue');
    expect(nearest('httpPrt', ['httpPort'])).toBe('httpPort');
    expect(nearest('HTTPPORT', ['httpPort'])).toBe('httpPort');
    expect(nearest('rnu', ['id', 'title', 'run', 'items'])).toBe('run');
    expect(nearest('db.migarte', known.steps)).toBe('db.migrate');
  });

  it('suggests nothing when no candidate is close', () => {
    expect(nearest('x', ['id', 'run'])).toBeUndefined();
    expect(nearest('foo', ['id', 'run'])).toBeUndefined();
    expect(nearest('banana', ['stop', 'continue'])).toBeUndefined();
    expect(nearest('anything', [])).toBeUndefined();
  });
});

describe('checklist validation names the file, the item and the nearest spelling', () => {
  const scenarios: Array<{ scenario: string; yaml: string; problem: string }> = [
    {
      scenario: 'top-level-key-misspelt',
      yaml: checklist('      - step: db.migrate\n', { top: 'descripton: extra\n' }),
      problem: 'top level: unknown key "descripton" — did you mean "description"?',
    },
    {
      scenario: 'phase-key-misspelt',
      yaml: checklist('      - step: db.migrate\n', { phase: '    rnu: deploy\n' }),
      problem: 'phases[1] (database): unknown key "rnu" — did you mean "run"?',
    },
    {
      scenario: 'item-key-parms',
      yaml: checklist('      - step: db.migrate\n        parms: {}\n'),
      problem: 'phases[1] (database).items[1] (db.migrate): unknown key "parms" — did you mean "params"?',
    },
    {
      scenario: 'item-key-on-fial',
      yaml: checklist('      - check: db.indexes-valid\n        on_fial: continue\n'),
      problem: 'phases[1] (database).items[1] (db.indexes-valid): unknown key "on_fial" — did you mean "on_fail"?',
    },
    {
      scenario: 'on-fail-contineu',
      yaml: checklist('      - checks: [db.indexes-valid, db.tables-exist]\n        on_fail: contineu\n'),
      problem: 'phases[1] (database).items[1] (checks:db.indexes-valid+db.tables-exist): on_fail must be stop or continue — did you mean "continue"?',
    },
    {
      scenario: 'run-deplyo',
      yaml: checklist('      - step: db.migrate\n', { phase: '    run: deplyo\n' }),
      problem: 'phases[1] (database): run must be deploy or maintenance — did you mean "deploy"?',
    },
    {
      scenario: 'check-param-httpPrt',
      yaml: checklist('      - check: api.https-redirect\n        params: { httpPrt: 8080 }\n'),
      problem: 'phases[1] (database).items[1] (api.https-redirect): check api.https-redirect has no parameter "httpPrt" (it takes: httpPort) — did you mean "httpPort"?',
    },
    {
      scenario: 'step-param-misspelt',
      yaml: checklist('      - step: db.restore\n        params: { job: 4 }\n'),
      problem: 'phases[1] (database).items[1] (db.restore): step db.restore has no parameter "job" (it takes: manifest, jobs) — did you mean "jobs"?',
    },
    {
      scenario: 'step-id-db-migarte',
      yaml: checklist('      - step: db.migarte\n'),
      problem: 'phases[1] (database).items[1] (db.migarte): unknown step id "db.migarte" — did you mean "db.migrate"?',
    },
  ];

  it.each(scenarios)('$scenario', ({ scenario, yaml, problem }) => {
    const file = write(scenario, yaml);
    const error = loadError(file);
    expect(error.problems).toEqual([problem]);
    expect(error.message).toContain(`${scenario}.yaml has 1 problem:`);
    expect(error.message).toContain(problem);
    expect(error.hint).toBe(`Fix ${file}; nothing was run.`);
  });

  it('a parameter of a multi-check item is accepted when any of its checks reads it, and rejected otherwise', () => {
    const ok = write('multi-check-param-ok', checklist('      - checks: [api.search, api.delegate]\n        params: { count: 2, category: barbershop }\n'));
    expect(() => loadChecklist(ok, known)).not.toThrow();
    const bad = loadError(write('multi-check-param-misspelt', checklist('      - checks: [api.search, api.delegate]\n        params: { categroy: barbershop }\n')));
    expect(bad.problems).toEqual(['phases[1] (database).items[1] (checks:api.search+api.delegate): none of the checks api.search, api.delegate has a parameter "categroy" (they take: locations, category, shopSlugs, count) — did you mean "category"?']);
  });

  it('a key of another kind of item says where it belongs', () => {
    const error = loadError(write('on-fail-on-a-step', checklist('      - step: db.migrate\n        on_fail: continue\n      - manual: dns-ready\n        title: DNS ready?\n        params: {}\n')));
    expect(error.problems).toEqual([
      'phases[1] (database).items[1] (db.migrate): on_fail applies only to check items (remove it)',
      'phases[1] (database).items[2] (manual.dns-ready): params applies only to check or step items (remove it)',
    ]);
  });

  it('a key with no near spelling lists the allowed keys; an unknown id with none lists where to look', () => {
    const error = loadError(write('far-from-everything', checklist('      - check: zzz.nothing-like-it\n        colour: blue\n')));
    expect(error.problems).toEqual([
      'phases[1] (database).items[1] (zzz.nothing-like-it): unknown key "colour" (allowed: check, title, on_fail, params)',
      'phases[1] (database).items[1] (zzz.nothing-like-it): unknown check id "zzz.nothing-like-it" (see docs/checks.md)',
    ]);
  });

  it('reports every problem at once, and a non-mapping item is a problem rather than a crash', () => {
    const error = loadError(write('many-typos', checklist('      - step: db.migarte\n        parms: {}\n      - db.migrate\n      - check: db.tables-exist\n        on_fail: contineu\n', { top: 'phase: []\n' })));
    expect(error.problems).toEqual([
      'top level: unknown key "phase" — did you mean "phases"?',
      'phases[1] (database).items[1] (db.migarte): unknown key "parms" — did you mean "params"?',
      'phases[1] (database).items[1] (db.migarte): unknown step id "db.migarte" — did you mean "db.migrate"?',
      'phases[1] (database).items[2]: an item must be a mapping, e.g. `- step: db.migrate`',
      'phases[1] (database).items[3] (db.tables-exist): on_fail must be stop or continue — did you mean "continue"?',
    ]);
    expect(error.message).toContain('many-typos.yaml has 5 problems:');
  });
});

describe('the shipped checklists pass strict validation', () => {
  const shipped = readdirSync(path.join(REPO_ROOT, 'checklists')).filter((f) => f.endsWith('.yaml'));

  it('finds them', () => {
    expect(shipped).toEqual(expect.arrayContaining(['local.yaml', 'production.yaml', 'staging.yaml']));
  });

  it.each(shipped)('checklists/%s has no problems', (name) => {
    let problems: readonly string[] = [];
    try {
      loadChecklist(path.join(REPO_ROOT, 'checklists', name), known);
    } catch (error) {
      problems = error instanceof ConfigError ? error.problems : [String(error)];
    }
    expect(problems).toEqual([]);
  });
});

describe('routergpt deploy --checklist with a typo', () => {
  it('exits 2 with every problem and its suggestion, no stack trace, nothing run', async () => {
    const cwd = tempDir('routergpt-checklist-typo-');
    writeFileSync(path.join(cwd, 'typo.yaml'), checklist('      - check: api.https-redirect\n        params: { httpPrt: 8080 }\n        on_fial: continue\n'));
    const result = await runCli(['deploy', '--env', 'local', '--checklist', 'typo.yaml', '--dry-run'], { cwd });
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toContain('typo.yaml has 2 problems:');
    expect(result.stderr).toContain('phases[1] (database).items[1] (api.https-redirect): unknown key "on_fial" — did you mean "on_fail"?');
    expect(result.stderr).toContain('phases[1] (database).items[1] (api.https-redirect): check api.https-redirect has no parameter "httpPrt" (it takes: httpPort) — did you mean "httpPort"?');
    expect(result.stderr).toContain(`Fix ${path.join(cwd, 'typo.yaml')}; nothing was run.`);
    expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(result.stdout).toBe('');
  });
});
