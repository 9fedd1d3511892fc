/**
 * One real verify (the real server over a real, seeded PostgreSQL; a mix of pass, warn, fail
 * and skip) rendered by all five reporters: the counts agree across them, and the JUnit XML
 * validates against Jenkins' JUnit schema (test/fixtures/junit.xsd) with xmllint.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { validateXML } from 'xmllint-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/registry.js';
import type { IO } from '../../src/cli/io.js';
import { runVerify } from '../../src/checks/run-verify.js';
import { renderGithub } from '../../src/report/github.js';
import { renderHumanSummary } from '../../src/report/human.js';
import { renderJson } from '../../src/report/json.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import type { VerifyReport } from '../../src/report/types.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';
import { checkConfig, createSeededDb, startRealServer, type RealServer, type SeededDb } from './helpers.js';

const io: IO = { stdout: new PassThrough(), stderr: new PassThrough(), stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, env: {}, cwd: tempDir() };
const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;

describe('reporters agree on one real verify', () => {
  let sdb: SeededDb;
  let server: RealServer;
  let report: VerifyReport;

  beforeAll(async () => {
    sdb = await createSeededDb('report');
    server = await startRealServer(sdb.pool);
    const config = checkConfig(sdb.db.url, { ROUTERGPT_LOG_FILE: server.logFile });
    report = await runVerify({ config, command: 'verify', checks: CHECKS, stage: 'all', baseUrl: server.url, cwd: io.cwd, concurrency: 4, timeoutMs: 60_000 });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await sdb?.close();
  });

  it('the run has a mix of outcomes', () => {
    const c = report.counts;
    expect(c.pass).toBeGreaterThan(10);
    expect(c.fail, 'db.test-data-absent fails on the seeded test shops').toBeGreaterThan(0);
    expect(c.skip, 'tls.certificate skips on http').toBeGreaterThan(0);
    expect(c.warn, 'db.shops-geocoded warns on the three ungeocoded demo shops').toBeGreaterThan(0);
    expect(report.checks.find((x) => x.id === 'db.test-data-absent')?.status).toBe('fail');
    expect(report.checks.find((x) => x.id === 'tls.certificate')?.status).toBe('skip');
  });

  it('json, junit, github, markdown and human report the same counts', async () => {
    const c = report.counts;
    const json = JSON.parse(renderJson(report)) as VerifyReport;
    expect(json.counts).toEqual(c);
    expect(json.checks.map((x) => x.status)).toEqual(report.checks.map((x) => x.status));

    const junit = renderJunit(report);
    expect(count(junit, /<testcase /g)).toBe(report.checks.length);
    expect(count(junit, /<failure /g)).toBe(c.fail);
    expect(count(junit, /<error /g)).toBe(c.error);
    expect(count(junit, /<skipped /g)).toBe(c.skip);
    const root = /<testsuites [^>]*tests="(\d+)" failures="(\d+)" errors="(\d+)"/.exec(junit)!;
    expect(root.slice(1).map(Number)).toEqual([report.checks.length, c.fail, c.error]);

    const github = renderGithub(report);
    expect(count(github, /^::error /gm)).toBe(c.fail + c.error);
    expect(count(github, /^::warning /gm)).toBe(c.warn);
    const summary = `${c.pass} passed, ${c.warn} ${c.warn === 1 ? "warning" : "warnings"}, ${c.fail} failed, ${c.error} crashed, ${c.skip} skipped`;
    expect(github).toContain(summary);

    const markdown = renderMarkdown(report);
    expect(count(markdown, /^\| ✅ \|/gm)).toBe(c.pass);
    expect(count(markdown, /^\| ⚠️ \|/gm)).toBe(c.warn);
    expect(count(markdown, /^\| ❌ \|/gm)).toBe(c.fail);
    expect(count(markdown, /^\| ⏭ \|/gm)).toBe(c.skip);
    expect(markdown).toContain(summary);

    const human = await renderHumanSummary(io, report);
    expect(human).toContain(summary);
    for (const x of report.checks) expect(human).toContain(x.id);
  });

  it('the JUnit XML validates against the JUnit schema', async () => {
    const xsd = readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'junit.xsd'), 'utf8');
    const result = await validateXML({ xml: [{ fileName: 'report.xml', contents: renderJunit(report) }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
    expect(result.errors.map((e) => e.rawMessage ?? e.message), result.rawOutput).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
