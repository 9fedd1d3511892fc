import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotifyTarget } from '../../src/config/types.js';
import { createNotifier, NOTIFICATION_SCHEMA, type Notification } from '../../src/runbook/notify.js';
import type { RunEvent } from '../../src/runbook/events.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { failedAtMigrateDeploy } from '../report/run-fixtures.js';

/** A loopback webhook receiver: records every POST; answers with the status the test sets (or never). */
interface Receiver {
  url: string;
  received: Array<{ path: string; body: unknown; at: number }>;
  answer: number | 'hang';
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const r = { received: [] as Receiver['received'], answer: 200 as Receiver['answer'] };
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      r.received.push({ path: req.url ?? '', body: JSON.parse(data), at: Date.now() });
      if (r.answer === 'hang') return void hanging.add(res);
      res.writeHead(r.answer, { 'content-type': 'text/plain' }).end(r.answer === 200 ? 'ok' : 'no');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return Object.assign(r, {
    // The path carries a token, as Slack's do: it must never be printed.
    url: `http://127.0.0.1:${port}/services/T000/B000/s3cr3t-hook-token`,
    close: async () => {
      for (const res of hanging) res.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  });
}

const target = (url: string, extra: Partial<NotifyTarget> = {}): NotifyTarget => ({ name: 'SLACK_WEBHOOK_URL', url, format: 'json', events: ['run-started', 'item-failed', 'run-finished', 'rolled-back'], timeoutMs: 5000, ...extra });

/** The events a failed deploy emits, from its journaled record. */
function failedDeployEvents(): RunEvent[] {
  const record = structuredClone(failedAtMigrateDeploy);
  return [
    { type: 'run-started', record, journalFile: '/tmp/x.json' },
    ...record.items.filter((i) => i.state !== 'pending').flatMap((item): RunEvent[] => [{ type: 'item-started', item }, { type: 'item-finished', item }]),
    { type: 'run-finished', record },
  ];
}

describe('webhook notifications of a run', () => {
  let hook: Receiver;
  beforeAll(async () => {
    hook = await receiver();
  });
  afterAll(async () => {
    await hook.close();
  });

  it('json: the events the target asked for, each once, with the rollback plan on item-failed and nothing secret', async () => {
    hook.received.length = 0;
    hook.answer = 200;
    const warnings: string[] = [];
    const n = createNotifier([target(hook.url)], { env: 'staging', warn: (l) => warnings.push(l) });
    for (const e of failedDeployEvents()) n.observe(e);
    await n.settle();
    const bodies = hook.received.map((r) => r.body as Notification);
    expect(bodies.map((b) => b.event)).toEqual(['run-started', 'item-failed', 'run-finished']);
    for (const b of bodies) expect(b).toMatchObject({ schema: NOTIFICATION_SCHEMA, env: 'staging', run: { id: failedAtMigrateDeploy.id, kind: 'deploy' } });
    const failed = bodies[1]!;
    expect(failed.item).toMatchObject({ id: 'db.migrate', state: 'failed' });
    expect(failed.rollbackPlan?.[0]).toContain(`routergpt rollback --env staging --run ${failedAtMigrateDeploy.id} --tier toggle`);
    expect(bodies[2]!.run.status).toBe('failed');
    expect(JSON.stringify(bodies)).not.toContain('s3cr3t-hook-token');
    expect(warnings).toEqual([]);
  });

  it('slack: text and a section block; a target that did not ask for an event is not told', async () => {
    hook.received.length = 0;
    const n = createNotifier([target(hook.url, { format: 'slack', events: ['item-failed'] })], { env: 'prod', warn: () => {} });
    for (const e of failedDeployEvents()) n.observe(e);
    await n.settle();
    expect(hook.received).toHaveLength(1);
    const body = hook.received[0]!.body as { text: string; blocks: Array<{ type: string; text: { type: string; text: string } }> };
    expect(body.text).toMatch(/^deploy of prod: db\.migrate failed — /);
    expect(body.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    expect(body.blocks[0]!.text.text).toContain('Rollback plan (fastest first):');
  });

  it('a webhook answering 500 is tried 3 times, then one line on stderr without its URL; the run is not failed', async () => {
    hook.received.length = 0;
    hook.answer = 500;
    const warnings: string[] = [];
    const n = createNotifier([target(hook.url, { events: ['run-finished'] })], { env: 'staging', warn: (l) => warnings.push(l), backoffMs: [10] });
    const events = failedDeployEvents();
    n.observe(events.at(-1)!);
    await n.settle();
    expect(hook.received).toHaveLength(3);
    expect(warnings).toEqual(['routergpt: the run-finished notification to SLACK_WEBHOOK_URL failed (HTTP 500) after 3 tries; the run goes on.']);
  });

  it('a webhook that never answers costs its timeout per try, then a line; observe() itself never waits', async () => {
    hook.received.length = 0;
    hook.answer = 'hang';
    const warnings: string[] = [];
    const n = createNotifier([target(hook.url, { events: ['run-finished'], timeoutMs: 200 })], { env: 'staging', warn: (l) => warnings.push(l), backoffMs: [10] });
    const started = Date.now();
    n.observe(failedDeployEvents().at(-1)!);
    expect(Date.now() - started).toBeLessThan(100); // the run goes on at once
    await n.settle();
    expect(hook.received).toHaveLength(3);
    expect(warnings).toEqual(['routergpt: the run-finished notification to SLACK_WEBHOOK_URL failed (no answer within 0.2 s) after 3 tries; the run goes on.']);
    hook.answer = 200;
  });

  it('an api.watch item that ends is a watch-verdict, with the verdict of its WatchReport and the failing lines', async () => {
    hook.received.length = 0;
    hook.answer = 200;
    const record = structuredClone(failedAtMigrateDeploy);
    const item = { id: 'api.watch', kind: 'step' as const, phase: 'post-deployment', title: 'Watch', state: 'failed' as const, attempts: 1, summary: 'watch FAILED after 2 of 15 windows', details: ['fail search error_rate: 3 errors (5xx) of 100 requests = 3.00 % > limit 1.00 %', 'pass delegate p95_ms'], outputs: { report: { status: 'fail' } } };
    const n = createNotifier([target(hook.url, { events: ['watch-verdict'] })], { env: 'prod', warn: () => {} });
    n.observe({ type: 'run-started', record, journalFile: '/tmp/x.json' });
    n.observe({ type: 'item-finished', item });
    await n.settle();
    expect(hook.received).toHaveLength(1);
    const body = hook.received[0]!.body as Notification;
    expect(body).toMatchObject({ event: 'watch-verdict', watch: { status: 'fail', reasons: ['fail search error_rate: 3 errors (5xx) of 100 requests = 3.00 % > limit 1.00 %'] } });
    expect(body.text).toBe('watch of prod: FAIL — fail search error_rate: 3 errors (5xx) of 100 requests = 3.00 % > limit 1.00 %');
  });

  it('a target whose variable is unset is skipped', async () => {
    hook.received.length = 0;
    const n = createNotifier([target('', { url: undefined })], { env: 'staging', warn: () => {} });
    for (const e of failedDeployEvents()) n.observe(e);
    await n.settle();
    expect(hook.received).toEqual([]);
  });

  it('routergpt rollback on local tells the configured webhook (from .env), and no output holds its URL', async () => {
    hook.received.length = 0;
    hook.answer = 200;
    const dir = tempDir();
    writeFileSync(path.join(dir, 'routergpt.config.yaml'), 'version: 1\nenvironments:\n  local:\n    notify:\n      - url_env: SLACK_WEBHOOK_URL\n        format: json\n        events: [run-started, item-failed, run-finished, rolled-back]\n');
    writeFileSync(path.join(dir, '.env'), `SLACK_WEBHOOK_URL=${hook.url}\n`);
    // Nothing deployed yet: the rollback has nothing to undo and fails (exit 1) — and says so to the hook.
    const result = await runCli(['rollback', '--yes'], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(1);
    const events = hook.received.map((r) => (r.body as Notification).event);
    expect(events).toEqual(['run-started', 'item-failed', 'run-finished', 'rolled-back']);
    const rolled = hook.received.at(-1)!.body as Notification;
    expect(rolled.run).toMatchObject({ kind: 'rollback', status: 'failed' });
    expect(result.stdout + result.stderr).not.toContain('s3cr3t-hook-token');
    // config show marks where the URL came from, not the URL.
    const shown = await runCli(['config', 'show', '--json'], { cwd: dir });
    expect(shown.stdout).not.toContain('s3cr3t-hook-token');
  });

  it('config: an unknown event or a bad variable name is refused (exit 2), naming the key', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'routergpt.config.yaml'), 'version: 1\nenvironments:\n  local:\n    notify:\n      - url_env: slack-hook\n        events: [deployed]\n');
    const result = await runCli(['config', 'show'], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('notify');
    expect(result.stderr).toMatch(/url_env|pattern/);
  });
});
