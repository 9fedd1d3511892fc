/**
 * Every reporter's output is valid against its published format (issue 10, part 2): our JSON
 * reports against the JSON Schemas in docs/schemas/, GitLab's code-quality report against its
 * documented format (test/fixtures/gitlab-codequality.schema.json), JUnit against Jenkins' XSD,
 * and GitHub workflow commands against their grammar. Produced by the real CLI where it can be.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { toRunReport } from '../../src/report/run-report.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import * as fixtures from './run-fixtures.js';

const SCHEMAS = path.join(REPO_ROOT, 'docs', 'schemas');
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as object;

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)));
  for (const name of ['routergpt.verify-v1.schema.json', 'routergpt.run-report-v1.schema.json', 'routergpt.migrate-lint-v1.schema.json', 'routergpt.metrics-v1.schema.json']) ajv.addSchema(readJson(path.join(SCHEMAS, name)), name);
  ajv.addSchema(readJson(path.join(REPO_ROOT, 'test', 'fixtures', 'gitlab-codequality.schema.json')), 'gitlab');
  return (schema: string, value: unknown) => {
    const validate = ajv.getSchema(schema)!;
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

async function junitProblems(xml: string): Promise<string[]> {
  const xsd = readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'junit.xsd'), 'utf8');
  const result = await validateXML({ xml: [{ fileName: 'report.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
  return result.errors.map((e) => e.rawMessage);
}

/** `::error file=…,line=…,title=…::message` — GitHub's workflow-command grammar, escapes included. */
const WORKFLOW_COMMAND = /^::(error|warning|notice)( (file=[^,:\n]+,line=\d+,)?title=[^,:\n]*)?::[^\r\n]*$/;

const validate = validator();

describe('JSON reports match docs/schemas', () => {
  it('verify --reporter json (the real CLI), and a GitHub step summary when GITHUB_STEP_SUMMARY is set', async () => {
    const dir = tempDir();
    const summary = path.join(dir, 'summary.md');
    const result = await runCli(['verify', '--only', 'openapi.valid,config.env-vars', '--reporter', 'json', '--reporter', `github=${path.join(dir, 'gh.txt')}`], { cwd: REPO_ROOT, env: { GITHUB_STEP_SUMMARY: summary } });
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(validate('routergpt.verify-v1.schema.json', report)).toEqual([]);
    expect(report.checks.map((c: { id: string }) => c.id).sort()).toEqual(['config.env-vars', 'openapi.valid']);
    const lines = readFileSync(path.join(dir, 'gh.txt'), 'utf8').trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(WORKFLOW_COMMAND);
    expect(readFileSync(summary, 'utf8')).toMatch(/^## routergpt verify — local \(all\)\n/);
  });

  it('a broken report is caught (the schema can fail)', () => {
    expect(validate('routergpt.verify-v1.schema.json', { schema: 'routergpt.verify/v1', command: 'verify' })).not.toEqual([]);
  });

  for (const [name, record] of Object.entries(fixtures).filter(([, v]) => typeof v === 'object' && v !== null && 'items' in v)) {
    it(`run report "${name}" matches routergpt.run-report/v1`, () => {
      expect(validate('routergpt.run-report-v1.schema.json', JSON.parse(JSON.stringify(toRunReport(record as RunRecord))))).toEqual([]);
    });
  }
});

describe('migrate lint reporters', () => {
  const dir = tempDir();
  cpSync(path.join(REPO_ROOT, 'migrations'), path.join(dir, 'migrations'), { recursive: true });
  // The next free number: the migrations folder refuses a gap.
  const next = String(Math.max(...readdirSync(path.join(dir, 'migrations')).filter((f) => /^\d{3}_/.test(f)).map((f) => Number(f.slice(0, 3)))) + 1).padStart(3, '0');
  writeFileSync(path.join(dir, 'migrations', `${next}_risky.sql`), 'ALTER TABLE shops ADD COLUMN owner_id bigint NOT NULL;\nCREATE INDEX idx_shops_owner ON shops (owner_id);\n');
  writeFileSync(path.join(dir, 'migrations', `${next}_risky.down.sql`), 'DROP INDEX IF EXISTS idx_shops_owner;\nALTER TABLE shops DROP COLUMN IF EXISTS owner_id;\n');
  const env = { ROUTERGPT_MIGRATIONS_DIR: path.join(dir, 'migrations') };
  const lint = async (...reporters: string[]) => {
    const result = await runCli(['migrate', 'lint', ...reporters.flatMap((r) => ['--reporter', r])], { cwd: dir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    return result.stdout;
  };

  it('json, gitlab, github and junit, each valid against its format, naming the risky file and line', async () => {
    expect((await runCli(['migrate', 'hash'], { cwd: dir, env })).exitCode).toBe(0);
    const out = path.join(dir, 'out');
    const stdout = await lint('json', `gitlab=${out}/gl-code-quality.json`, `github=${out}/gh.txt`, `junit=${out}/lint.xml`);

    const json = JSON.parse(stdout);
    expect(validate('routergpt.migrate-lint-v1.schema.json', json)).toEqual([]);
    expect(json.dir).toBe('migrations');

    const gitlab = readJson(path.join(out, 'gl-code-quality.json')) as Array<{ fingerprint: string; check_name: string; location: { path: string; lines: { begin: number } } }>;
    expect(validate('gitlab', gitlab)).toEqual([]);
    expect(new Set(gitlab.map((i) => i.fingerprint)).size).toBe(gitlab.length);
    expect(gitlab).toContainEqual(expect.objectContaining({ check_name: 'adding-required-field', location: { path: `migrations/${next}_risky.sql`, lines: { begin: 1 } } }));

    const github = readFileSync(path.join(out, 'gh.txt'), 'utf8').trimEnd().split('\n');
    for (const line of github) expect(line).toMatch(WORKFLOW_COMMAND);
    expect(github).toContainEqual(expect.stringMatching(new RegExp(`^::warning file=migrations/${next}_risky\\.sql,line=2,title=squawk require-concurrent-index-creation::`)));

    expect(await junitProblems(readFileSync(path.join(out, 'lint.xml'), 'utf8'))).toEqual([]);
  });

  it('an unknown reporter is a usage error naming the valid ones (exit 2)', async () => {
    const result = await runCli(['migrate', 'lint', '--reporter', 'gitlba'], { cwd: dir, env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('did you mean "gitlab"');
  });
});
