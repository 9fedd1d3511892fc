/**
 * ctx.checkpoint: a step's progress inside an item is journaled at once and read back when the
 * run resumes (the journal file is the source of truth; no database needed for it).
 */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.js';
import { stepContext, type ExecutorDeps } from '../../src/runbook/executor.js';
import { Journal, newRunId, type RunRecord } from '../../src/runbook/journal.js';
import { tempDir } from '../helpers/cli.js';
import { realConfig } from '../steps/context.js';

function record(): RunRecord {
  return {
    schema: 'routergpt.run/v1', id: newRunId('geocode', new Date()), kind: 'geocode', env: 'staging', checklist: { name: 't', file: 't' }, status: 'running',
    startedAt: new Date().toISOString(), startedBy: 'test', host: 'h', pid: process.pid, resumes: [],
    items: [{ id: 'db.geocode-shops', kind: 'step', phase: 'p', title: 't', state: 'running', attempts: 1 }],
  };
}

function deps(journal: Journal): ExecutorDeps {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, env: {}, cwd: tempDir() };
  return { config: realConfig('postgres://postgres@127.0.0.1:5432/unused'), db: {} as Database, io, journal, prompter: undefined, yes: true, startedBy: 'test', now: () => new Date(), cwd: io.cwd, emit: () => {}, ensureApi: async () => undefined, runChecks: async () => [] };
}

describe('ctx.checkpoint', () => {
  it('journals the progress at once, and a resumed run reads it back', async () => {
    const dir = tempDir();
    const journal = new Journal(dir, record(), undefined);
    const item = { kind: 'step' as const, id: 'db.geocode-shops', params: {}, phase: 'p' };
    const ctx = stepContext(deps(journal), item, undefined);
    expect(ctx.resumed).toBeUndefined();
    await ctx.checkpoint({ done: 500, lastId: '12345' });
    const onDisk = JSON.parse(readFileSync(journal.file, 'utf8')) as RunRecord;
    expect(onDisk.items[0]!.checkpoint).toEqual({ done: 500, lastId: '12345' });
    // The process dies; a new one loads the journal and resumes the item.
    const resumed = stepContext(deps(new Journal(dir, onDisk, undefined)), item, undefined);
    expect(resumed.resumed).toEqual({ done: 500, lastId: '12345' });
  });
});
