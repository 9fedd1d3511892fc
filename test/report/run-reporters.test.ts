/**
 * The run reporters (deploy, rollback, maintain) on journaled runs named for their scenario:
 * every reporter's output, the JUnit XML against Jenkins' JUnit schema (xmllint), the GitHub
 * step summary through an injected environment, real files in real temp directories.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { validateXML } from 'xmllint-wasm';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseReporters } from '../../src/report/emit.js';
import { renderJson } from '../../src/report/json.js';
import { parseReporterOptions } from '../../src/report/reporter-options.js';
import { appendGithubStepSummary, renderRunGithub } from '../../src/report/run-github.js';
import { renderRunHuman } from '../../src/report/run-human.js';
import { renderRunJunit } from '../../src/report/run-junit.js';
import { renderRunMarkdown } from '../../src/report/run-markdown.js';
import { describeCounts, RUN_REPORT_SCHEMA, toRunReport, type RunReport } from '../../src/report/run-report.js';
import { RUN_REPORTERS, writeRunReports, type RunReportIO } from '../../src/report/run-reporters.js';
import type { ItemState, RunRecord } from '../../src/runbook/journal.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';
import { allPassedDeploy, cancelledRollback, failedAtMigrateDeploy } from './run-fixtures.js';

const SCENARIOS: Array<[string, RunRecord]> = [
  ['all-passed deploy', allPassedDeploy],
  ['failed-at-migrate deploy with a warned check', failedAtMigrateDeploy],
  ['cancelled rollback', cancelledRollback],
];

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/;

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

function testIO(env: Record<string, string | undefined> = {}, cwd = tempDir()) {
  const stdout = capture();
  const stderr = capture();
  const io: RunReportIO = { stdout: stdout.stream, stderr: stderr.stream, env, color: false, columns: 100, cwd };
  return { io, stdout: stdout.text, stderr: stderr.text, cwd };
}

/** The JUnit totals a report implies: a testcase per check of a check item, else per item. */
function expectedJunit(report: RunReport) {
  const plain = report.items.filter((i) => !i.checks?.length);
  const c = report.checkCounts;
  return {
    tests: plain.length + c.pass + c.warn + c.fail + c.skip + c.error,
    failures: plain.filter((i) => i.state === 'failed').length + c.fail,
    errors: c.error,
    skipped: plain.filter((i) => i.state === 'skipped' || i.state === 'pending' || i.state === 'running').length + c.skip,
    warnings: plain.filter((i) => i.state === 'warn').length + c.warn,
  };
}

async function validateJunit(xml: string) {
  const xsd = readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'junit.xsd'), 'utf8');
  return validateXML({ xml: [{ fileName: 'run.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
}

describe('toRunReport', () => {
  it('all-passed deploy: every item done, durations from the journal, check outcomes kept, step outputs left out', () => {
    const report = toRunReport(allPassedDeploy);
    expect(report).toMatchObject({ schema: RUN_REPORT_SCHEMA, id: allPassedDeploy.id, kind: 'deploy', env: 'staging', status: 'succeeded', durationMs: 42_500, target: null, tiers: [] });
    expect(report.counts).toEqual({ done: 5, warn: 0, failed: 0, skipped: 0, pending: 0, running: 0 });
    expect(report.checkCounts).toEqual({ pass: 4, warn: 0, fail: 0, skip: 0, error: 0 });
    expect(report.items[0]!.checks!.map((c) => c.id)).toEqual(['config.env-vars', 'db.reachable']);
    expect(report.items[1]).not.toHaveProperty('outputs');
    expect(report.items[1]).not.toHaveProperty('checks');
    expect(report.items[4]).toMatchObject({ signedBy: 'ana', signedAt: '2026-11-25T18:00:40.000Z' });
  });

  it('failed-at-migrate deploy: a done check item with a warning is reported as warn, never done', () => {
    const report = toRunReport(failedAtMigrateDeploy);
    expect(report.items.map((i) => i.state)).toEqual(['warn', 'done', 'failed', 'pending', 'pending', 'pending', 'pending']);
    expect(report.counts).toEqual({ done: 1, warn: 1, failed: 1, skipped: 0, pending: 4, running: 0 });
    expect(report.checkCounts).toEqual({ pass: 2, warn: 1, fail: 0, skip: 0, error: 0 });
    expect(report.items[4]!.checks, 'a check item that has not run has no outcomes yet').toEqual([]);
    expect(report.items[2]!.errorKind).toBe('OperationError');
  });

  it('cancelled rollback: target and tiers carried, the cancelled item failed with its error kind', () => {
    const report = toRunReport(cancelledRollback);
    expect(report).toMatchObject({ kind: 'rollback', status: 'cancelled', target: failedAtMigrateDeploy.id, tiers: ['toggle', 'code', 'migrations', 'restore'], error: 'Cancelled at a prompt.' });
    expect(report.counts).toEqual({ done: 1, warn: 0, failed: 1, skipped: 1, pending: 1, running: 0 });
    expect(report.items[2]!.errorKind).toBe('CancelledError');
  });

  it("takes the journal's warn state (being added to ItemState) as passed with a warning", () => {
    const warned = { ...allPassedDeploy, items: allPassedDeploy.items.map((i) => (i.id === 'db.migrate' ? { ...i, state: 'warn' as string as ItemState } : i)) };
    const report = toRunReport(warned);
    expect(report.counts).toMatchObject({ done: 4, warn: 1 });
    expect(renderRunJunit(report)).not.toContain('<failure');
    expect(count(renderRunGithub(report), /^::warning /gm)).toBe(1);
  });
});

describe.each(SCENARIOS)('%s', (_name, record) => {
  const report = toRunReport(record);

  it('the JSON report round-trips, and its counts agree with the JUnit counts', () => {
    const json = JSON.parse(renderJson(report)) as RunReport;
    expect(json).toEqual(report);
    expect(Object.values(json.counts).reduce((a, b) => a + b, 0)).toBe(json.items.length);

    const junit = renderRunJunit(report);
    const want = expectedJunit(json);
    const root = /<testsuites [^>]*tests="(\d+)" failures="(\d+)" errors="(\d+)"/.exec(junit)!;
    expect(root.slice(1).map(Number)).toEqual([want.tests, want.failures, want.errors]);
    expect(count(junit, /<testcase /g)).toBe(want.tests);
    expect(count(junit, /<failure /g)).toBe(want.failures);
    expect(count(junit, /<skipped /g)).toBe(want.skipped);
    expect(count(junit, /<system-out>WARN: /g)).toBe(want.warnings);
  });

  it('the JUnit XML validates against the JUnit schema: a testsuite per phase, classname = phase', async () => {
    const junit = renderRunJunit(report);
    const result = await validateJunit(junit);
    expect(result.errors.map((e) => e.rawMessage ?? e.message), result.rawOutput).toEqual([]);
    expect(result.valid).toBe(true);
    const phases = [...new Set(report.items.map((i) => i.phase))];
    expect([...junit.matchAll(/<testsuite name="([^"]*)"/g)].map((m) => m[1])).toEqual(phases);
    const classnames = new Set([...junit.matchAll(/classname="([^"]*)"/g)].map((m) => m[1]));
    expect([...classnames]).toEqual(phases);
  });

  it('github: ::error per failed item, ::warning per warned item, one ::notice with the counts', () => {
    const github = renderRunGithub(report);
    expect(count(github, /^::error /gm)).toBe(report.counts.failed);
    expect(count(github, /^::warning /gm)).toBe(report.counts.warn);
    expect(count(github, /^::notice /gm)).toBe(1);
    expect(github).toContain(describeCounts(report.counts));
    expect(github.trimEnd().split('\n')).toHaveLength(report.counts.failed + report.counts.warn + 1);
  });

  it('markdown: one table row per item with its emoji, and the counts', () => {
    const markdown = renderRunMarkdown(report);
    const rows = markdown.split('\n').filter((l) => /^\| (✅|⚠️|❌|⏭|⬜|⏳) \| `/.test(l));
    expect(rows).toHaveLength(report.items.length);
    expect(count(markdown, /^\| ✅ \|/gm)).toBe(report.counts.done);
    expect(count(markdown, /^\| ⚠️ \|/gm)).toBe(report.counts.warn);
    expect(count(markdown, /^\| ❌ \|/gm)).toBe(report.counts.failed);
    expect(count(markdown, /^\| ⬜ \|/gm)).toBe(report.counts.pending);
    expect(markdown).toContain(describeCounts(report.counts));
  });

  it.each([80, 120])('human at %i columns: one line per item with its symbol, the table fits the width, no colour', async (columns) => {
    const human = await renderRunHuman(report, { color: false, columns });
    expect(human).not.toMatch(ANSI);
    const lines = human.split('\n');
    // The table fits; the text under it is not cut, so commands in hints stay whole to copy.
    const tableLines = lines.filter((l) => /^[┌│├└]/.test(l));
    expect(tableLines.length).toBeGreaterThan(report.items.length);
    for (const line of tableLines) expect([...line].length, line).toBeLessThanOrEqual(columns);
    const SYMBOL = { done: '✔', warn: '⚠', failed: '✖', skipped: '↷', pending: '·', running: '▶' };
    for (const item of report.items) {
      const rows = lines.filter((l) => l.startsWith('│') && l.includes(` ${item.id.slice(0, 10)}`));
      expect(rows, item.id).toHaveLength(1);
      expect(rows[0]).toContain(`${SYMBOL[item.state]} ${item.state}`);
      if (item.state === 'warn') expect(rows[0], 'never a green tick for a warning').not.toContain('✔');
    }
    // Lines under the table wrap to the width: compare the words.
    expect(human.replace(/\s+/g, ' ')).toContain(describeCounts(report.counts));
  });
});

describe('failed-at-migrate deploy in detail', () => {
  const report = toRunReport(failedAtMigrateDeploy);

  it('junit: the failed step is a <failure> with its message, the warned check a <system-out> note, pending items <skipped/>', () => {
    const junit = renderRunJunit(report);
    expect(junit).toContain('<testcase name="db.migrate" classname="database" time="1.000">');
    expect(junit).toContain('<failure message="007_location_indexes.sql failed: relation &quot;idx_shops_lat&quot; already exists" type="fail">');
    const geocoded = /<testcase name="db.shops-geocoded"[^]*?<\/testcase>/.exec(junit)![0];
    expect(geocoded).toContain('<system-out>WARN: 3 of 120 shops have no coordinates');
    expect(geocoded).not.toContain('<failure');
    expect(junit).toMatch(/<testcase name="db.seed-demo" classname="database" time="0.000">\s*<skipped message="not run"\/>/);
  });

  it('github: properties escape : and , — messages escape %, \\r and \\n (workflow-command spec)', () => {
    const github = renderRunGithub(report).split('\n');
    const error = github.find((l) => l.startsWith('::error '))!;
    expect(error.startsWith('::error title=routergpt deploy%3A db.migrate (database)::007_location_indexes.sql failed: relation "idx_shops_lat" already exists%0Aat line 3')).toBe(true);
    const warning = github.find((l) => l.startsWith('::warning '))!;
    expect(warning).toContain('title=routergpt deploy%3A checks%3Aconfig.env-vars+db.reachable+db.shops-geocoded (pre-deployment)::');
    const odd = renderRunGithub(toRunReport({ ...failedAtMigrateDeploy, items: [{ ...failedAtMigrateDeploy.items[2]!, phase: 'a,b', summary: '100% done\r\nnext' }] }));
    expect(odd).toContain('title=routergpt deploy%3A db.migrate (a%2Cb)::100%25 done%0D%0Anext');
  });

  it('human: coloured when asked, the failure and the warning listed under the table', async () => {
    const coloured = await renderRunHuman(report, { color: true, columns: 100 });
    expect(coloured).toMatch(ANSI);
    const plain = await renderRunHuman(report, { color: false, columns: 100 });
    expect(plain).toContain('✖ db.migrate: 007_location_indexes.sql failed');
    expect(plain).toContain('    → Drop the index by hand');
    expect(plain).toContain('⚠ checks:config.env-vars+db.reachable+db.shops-geocoded: 2 passed, 1 warning(s)');
    expect(plain).toContain(`deploy staging: FAILED — ${describeCounts(report.counts)} in 42.5 s\n`);
    expect(plain).toContain(`run ${report.id}`);
  });

  it('human without the table (the results were printed as lines already): what needs a look, the outcome, no item twice', async () => {
    const text = await renderRunHuman(report, { color: false, columns: 100, table: false });
    expect(text).not.toContain('│');
    expect(text).not.toMatch(/^\n/);
    expect(text).toContain('✖ db.migrate: 007_location_indexes.sql failed');
    expect(text).toContain(`deploy staging: FAILED — ${describeCounts(report.counts)} in 42.5 s\n`);
    // Items that simply succeeded are not repeated.
    for (const item of report.items.filter((i) => i.state === 'done')) expect(text).not.toContain(item.id);
  });
});

describe('writeRunReports', () => {
  const saved = process.env.GITHUB_STEP_SUMMARY;
  afterEach(() => {
    if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = saved;
  });

  it('writes files atomically into new directories, JSON to stdout, and moves the human report to stderr', async () => {
    const { io, stdout, stderr, cwd } = testIO();
    const { report, written } = await writeRunReports(failedAtMigrateDeploy, [{ name: 'human' }, { name: 'json' }, { name: 'junit', file: 'reports/deep/run.xml' }, { name: 'markdown', file: path.join(cwd, 'run.md') }], io);
    const xml = path.join(cwd, 'reports', 'deep', 'run.xml');
    expect(written).toEqual([xml, path.join(cwd, 'run.md')]);
    expect(readFileSync(xml, 'utf8')).toBe(renderRunJunit(report));
    expect(readFileSync(path.join(cwd, 'run.md'), 'utf8')).toBe(renderRunMarkdown(report));
    expect(readdirSync(path.dirname(xml)), 'no temp file left behind').toEqual(['run.xml']);
    expect(JSON.parse(stdout())).toEqual(report);
    expect(stderr()).toContain('deploy staging: FAILED');
  });

  it('replaces an existing report file', async () => {
    const { io, cwd } = testIO();
    writeFileSync(path.join(cwd, 'run.json'), 'stale');
    await writeRunReports(allPassedDeploy, [{ name: 'json', file: 'run.json' }], io);
    expect(JSON.parse(readFileSync(path.join(cwd, 'run.json'), 'utf8'))).toMatchObject({ id: allPassedDeploy.id });
  });

  it('github appends the Markdown step summary to GITHUB_STEP_SUMMARY from the injected env', async () => {
    const summary = path.join(tempDir(), 'step_summary.md');
    writeFileSync(summary, '# earlier step\n');
    const { io, stdout } = testIO({ GITHUB_STEP_SUMMARY: summary });
    const { report, written } = await writeRunReports(cancelledRollback, [{ name: 'github' }], io);
    expect(stdout()).toBe(renderRunGithub(report));
    expect(written).toEqual([summary]);
    expect(readFileSync(summary, 'utf8')).toBe(`# earlier step\n${renderRunMarkdown(report)}\n`);
  });

  it('github reads the injected env only, never process.env', async () => {
    const stray = path.join(tempDir(), 'stray.md');
    process.env.GITHUB_STEP_SUMMARY = stray;
    const { io } = testIO({});
    const { written } = await writeRunReports(cancelledRollback, [{ name: 'github' }], io);
    expect(written).toEqual([]);
    expect(existsSync(stray)).toBe(false);
    expect(appendGithubStepSummary(toRunReport(cancelledRollback), {})).toBeUndefined();
  });
});

describe('parseReporterOptions', () => {
  it('defaults to human, or json under --json', () => {
    expect(parseReporterOptions(undefined, false, RUN_REPORTERS)).toEqual([{ name: 'human' }]);
    expect(parseReporterOptions([], true, RUN_REPORTERS)).toEqual([{ name: 'json' }]);
  });

  it('takes NAME[=FILE], repeated or comma-separated; --json adds JSON on stdout', () => {
    expect(parseReporterOptions(['human', 'junit=out/run.xml,markdown=run.md'], false, RUN_REPORTERS)).toEqual([{ name: 'human' }, { name: 'junit', file: 'out/run.xml' }, { name: 'markdown', file: 'run.md' }]);
    expect(parseReporterOptions(['junit=run.xml'], true, RUN_REPORTERS)).toEqual([{ name: 'junit', file: 'run.xml' }, { name: 'json' }]);
    expect(parseReporterOptions(['json=run.json'], true, RUN_REPORTERS)).toEqual([{ name: 'json', file: 'run.json' }]);
  });

  it('an unknown reporter is a UsageError naming the valid ones and the nearest spelling', () => {
    const error = (() => {
      try {
        parseReporterOptions(['human', 'jnuit=run.xml'], false, RUN_REPORTERS);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe('Unknown reporter "jnuit" — did you mean "junit"?');
    expect((error as UsageError).hint).toContain('human, json, junit, github, markdown');
    expect(() => parseReporterOptions(['pdf'], false, RUN_REPORTERS)).toThrow(/^Unknown reporter "pdf"\.$/);
  });

  it('two machine reporters on stdout is a UsageError', () => {
    expect(() => parseReporterOptions(['junit', 'github'], false, RUN_REPORTERS)).toThrow(UsageError);
    expect(() => parseReporterOptions(['github'], true, RUN_REPORTERS)).toThrow(/github and json cannot share stdout/);
  });

  it("verify's parser is built on it: --output still goes to the one machine reporter", () => {
    expect(parseReporters(['human', 'junit'], 'report.xml', false)).toEqual([{ name: 'human' }, { name: 'junit', file: 'report.xml' }]);
    expect(parseReporters(undefined, 'report.json', true)).toEqual([{ name: 'json', file: 'report.json' }]);
    expect(() => parseReporters(['jsno'], undefined, false)).toThrow(/did you mean "json"/);
  });
});

describe('counts read as English', () => {
  it('one warning is "1 warning", never "1 warnings" or "warning(s)"', async () => {
    const { describeCounts } = await import('../../src/report/run-report.js');
    const { describeCheckCounts } = await import('../../src/report/types.js');
    expect(describeCounts({ done: 3, warn: 1, failed: 0, skipped: 0, pending: 0, running: 0 })).toBe('3 done, 1 warning, 0 failed, 0 skipped, 0 pending');
    expect(describeCounts({ done: 0, warn: 2, failed: 0, skipped: 0, pending: 0, running: 0 })).toBe('0 done, 2 warnings, 0 failed, 0 skipped, 0 pending');
    expect(describeCheckCounts({ pass: 0, warn: 1, fail: 0, error: 0, skip: 0 })).toBe('0 passed, 1 warning, 0 failed, 0 crashed, 0 skipped');
  });
});

describe('the human run report at 80 and 120 columns (snapshots)', () => {
  const fixtures = { allPassedDeploy, failedAtMigrateDeploy, cancelledRollback };
  for (const [name, record] of Object.entries(fixtures)) {
    for (const columns of [80, 120]) {
      it(`${name} at ${columns} columns fits, and is as committed`, async () => {
        const plan = record.status === 'failed' ? ['routergpt rollback --env staging --tier toggle', 'routergpt rollback --env staging --tier migrations'] : [];
        const text = await renderRunHuman(toRunReport(record), { color: false, columns, rollbackPlan: plan });
        expect(Math.max(...text.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(columns);
        // A warning or a failure is never drawn with a tick.
        for (const line of text.split('\n').filter((l) => /\b(warn|failed)\b/.test(l) && l.startsWith('│'))) expect(line).not.toContain('✔');
        expect(text).toMatchSnapshot();
      });
    }
  }
});
