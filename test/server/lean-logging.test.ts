/**
 * Issue 16, item 3 — a lean request path's logging: one line per request (the access line carries
 * what the route said), redaction by key at any depth in the one masking walk, and an asynchronous
 * destination that loses nothing at shutdown or exit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogDestination, createLogger, flushLog } from '../../src/server/logger.js';
import { buildTestApp, createServerDb, FIXED_NOW, insertTestShop, listen, postJson, testConfig, type ServerDb } from './helpers.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

let sdb: ServerDb;
const dirs: string[] = [];
beforeAll(async () => {
  sdb = await createServerDb('leanlog');
  await insertTestShop(sdb.pool);
}, 60_000);
afterAll(async () => {
  await sdb?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('issue 16: one log line per request', () => {
  it('a search writes one line: the access line, with the [ROUTER] message and its fields', async () => {
    const { lines, stream } = capture();
    const app = await buildTestApp({ pool: sdb.pool, config: testConfig(sdb.db.url), clock: () => FIXED_NOW, logger: { destination: stream } });
    const url = await listen(app);
    const res = await postJson(`${url}/router/search-by-location`, { latitude: 33.4255, longitude: -111.94 });
    await postJson(`${url}/nope`, {});
    await app.close();
    expect(res.status).toBe(200);
    const search = lines.filter((l) => l.url === '/router/search-by-location' || (typeof l.msg === 'string' && l.msg.includes('search found')));
    expect(search).toHaveLength(1);
    expect(search[0]).toMatchObject({ msg: '[ROUTER] search found 1 shop(s)', method: 'POST', statusCode: 200, results: 1, search_id: res.body.search_id });
    expect(typeof search[0]!.responseTime).toBe('number');
    expect(lines.filter((l) => l.url === '/nope')).toEqual([expect.objectContaining({ msg: 'request completed', statusCode: 404 })]);
  });
});

describe('issue 16: redaction by key, at any depth', () => {
  it('authorization, cookie, x-api-key, apiKey, api_key, password and openaiApiKey are [Redacted] however deep; other keys are kept', () => {
    const { lines, stream } = capture();
    const log = createLogger({ destination: stream });
    log.info({ a: { b: { c: { password: 'pw-1', authorization: 'Bearer t-1', keep: 'visible' } } }, list: [{ api_key: 'ak-1' }], headers: { cookie: 'c-1', 'x-api-key': 'x-1' }, openaiApiKey: 'o-1', apiKey: 'k-1' }, 'deep');
    const raw = JSON.stringify(lines);
    for (const secret of ['pw-1', 't-1', 'ak-1', 'c-1', 'x-1', 'o-1', 'k-1']) expect(raw).not.toContain(secret);
    expect(lines[0]).toMatchObject({ a: { b: { c: { password: '[Redacted]', authorization: '[Redacted]', keep: 'visible' } } }, list: [{ api_key: '[Redacted]' }], apiKey: '[Redacted]' });
  });
});

describe('issue 16: the asynchronous destination loses nothing', () => {
  it('flushLog drains every line written so far', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rgpt-log-'));
    dirs.push(dir);
    const file = path.join(dir, 'nested', 'server.log');
    const destination = createLogDestination(file);
    const log = createLogger({ destination });
    for (let i = 0; i < 2000; i++) log.info({ i }, `line ${i}`);
    await flushLog(destination);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2000);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ i: 1999 });
    destination.end();
  });

  it('lines are written in batches without a flush: a lone line by its batch timer, a full batch at once, in order', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rgpt-log-'));
    dirs.push(dir);
    const file = path.join(dir, 'server.log');
    const destination = createLogDestination(file);
    const log = createLogger({ destination });
    const linesIn = async (n: number) => {
      // Polled, not timed: the batch timer (LOG_FLUSH_MS) or a full batch writes them.
      for (let i = 0; i < 400; i++) {
        const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
        const lines = text.trim() ? text.trim().split('\n') : [];
        if (lines.length >= n) return lines;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`fewer than ${n} lines written`);
    };
    log.info({ i: 0 }, 'alone');
    expect(JSON.parse((await linesIn(1))[0]!)).toMatchObject({ i: 0, msg: 'alone' });
    // More than a batch (LOG_BATCH_CHARS) in one go, then a few that wait for the timer.
    for (let i = 1; i <= 300; i++) log.info({ i, pad: 'x'.repeat(40) }, `line ${i}`);
    const lines = await linesIn(301);
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(Array.from({ length: 301 }, (_, i) => i));
    await flushLog(destination);
    destination.end();
  });

  it('lines logged just before process.exit() are written (flushed from the exit event)', () => {
    const logger = path.join(REPO_ROOT, 'dist/server/logger.js');
    expect(existsSync(logger), 'dist/ is missing: run `npm run build`').toBe(true);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rgpt-log-'));
    dirs.push(dir);
    const file = path.join(dir, 'server.log');
    const script = `const { createLogDestination, createLogger } = await import(${JSON.stringify(logger)});
      const log = createLogger({ destination: createLogDestination(process.argv[1]) });
      for (let i = 0; i < 5000; i++) log.info({ i }, 'before exit');
      process.exit(0);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, file], { encoding: 'utf8', timeout: 30_000 });
    expect(child.status, child.stderr).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(5000);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ i: 4999 });
  });
});
