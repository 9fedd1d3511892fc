/**
 * Webhook notifications of a journaled run (`notify:` per environment, docs/notifications.md).
 * The notifier observes the same run events as the renderers and POSTs the ones a target asked
 * for, in Slack's incoming-webhook format or as routergpt's own JSON. Delivery never blocks or
 * fails a run: each POST runs beside it with a timeout (5 s by default) and 3 tries, a target
 * that still fails costs one line on stderr, and the run waits for its deliveries only at its
 * end, bounded by those same timeouts. The URL is a secret: it is never printed, and payloads are
 * built from the run record with every registered secret redacted.
 */
import { redactSecrets } from '../config/mask.js';
import type { NotifyEventName, NotifyTarget } from '../config/types.js';
import type { RunEvent, RunObserver } from './events.js';
import type { ItemRecord, RunRecord } from './journal.js';
import { rollbackCommandsFor } from './rollback.js';

export const NOTIFICATION_SCHEMA = 'routergpt.notification/v1';
const TRIES = 3;

/** What a JSON target receives (`format: json`): one event of one run, nothing secret. */
export interface Notification {
  schema: typeof NOTIFICATION_SCHEMA;
  event: NotifyEventName;
  at: string;
  env: string;
  run: { id: string; kind: string; status: string; startedBy: string; host: string; release?: string; startedAt: string; finishedAt?: string; counts?: Record<string, number> };
  item?: { id: string; phase: string; state: string; summary?: string };
  /** item-failed of a deploy: the commands that undo what has run, fastest first. */
  rollbackPlan?: string[];
  /** watch-verdict: the overall verdict and, per failing or warning metric, why. */
  watch?: { status: string; reasons: string[] };
  /** approval-needed: the approvals still missing and who may not give them. */
  approval?: { item: string; missing: number; notBy: string[] };
  text: string;
}

export interface Notifier {
  observe: RunObserver;
  /** Wait for the deliveries under way (each bounded by its timeout and tries). */
  settle(): Promise<void>;
}

export interface NotifierOptions {
  env: string;
  /** One line per target that could not be reached (after its tries): stderr. */
  warn: (line: string) => void;
  fetch?: typeof fetch;
  /** Between tries (default 250 ms, then 1 s). */
  backoffMs?: readonly number[];
  now?: () => Date;
}

const NOOP: Notifier = { observe: () => {}, settle: async () => {} };

export function createNotifier(targets: readonly NotifyTarget[], options: NotifierOptions): Notifier {
  const active = targets.filter((t) => t.url);
  if (active.length === 0) return NOOP;
  const send = options.fetch ?? fetch;
  const backoff = options.backoffMs ?? [250, 1000];
  const now = options.now ?? (() => new Date());
  const pending = new Set<Promise<void>>();

  async function deliver(target: NotifyTarget, note: Notification): Promise<void> {
    const body = JSON.stringify(target.format === 'slack' ? slackPayload(note) : note);
    let last = '';
    for (let attempt = 1; attempt <= TRIES; attempt += 1) {
      try {
        const response = await send(target.url!, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'routergpt-notify' },
          body,
          signal: AbortSignal.timeout(target.timeoutMs),
        });
        await response.body?.cancel().catch(() => {});
        if (response.ok) return;
        last = `HTTP ${response.status}`;
        // A 4xx other than 408/429 will not get better by asking again.
        if (response.status < 500 && response.status !== 408 && response.status !== 429) break;
      } catch (error) {
        const e = error as Error & { cause?: { code?: string } };
        last = e.name === 'TimeoutError' ? `no answer within ${target.timeoutMs / 1000} s` : (e.cause?.code ?? e.message);
      }
      if (attempt < TRIES) await new Promise((r) => setTimeout(r, backoff[Math.min(attempt - 1, backoff.length - 1)]));
    }
    options.warn(`routergpt: the ${note.event} notification to ${target.name} failed (${redactSecrets(last)}) after ${TRIES} tries; the run goes on.`);
  }

  function emit(event: NotifyEventName, note: Omit<Notification, 'schema' | 'event' | 'at' | 'env'>) {
    for (const target of active) {
      if (!target.events.includes(event)) continue;
      const full: Notification = { schema: NOTIFICATION_SCHEMA, event, at: now().toISOString(), env: options.env, ...note };
      const p = deliver(target, full).finally(() => pending.delete(p));
      pending.add(p);
    }
  }

  let record: RunRecord | undefined;
  const observe: RunObserver = (event: RunEvent) => {
    switch (event.type) {
      case 'run-started':
        record = event.record;
        emit('run-started', { run: runOf(event.record), text: `${event.record.kind} of ${options.env} started by ${event.record.startedBy} (run ${event.record.id})` });
        return;
      case 'waiting-approval':
        emit('approval-needed', {
          run: runOf(event.record),
          approval: { item: event.item.id, missing: event.missing, notBy: event.notBy },
          text: `${event.record.kind} of ${options.env} waits for ${event.missing} approval(s) by someone other than ${event.notBy.join(' or ')}: routergpt approve ${event.record.id} --env ${options.env}`,
        });
        return;
      case 'item-finished': {
        const item = event.item;
        if (record && item.state === 'failed') {
          const rollbackPlan = record.kind === 'deploy' ? rollbackCommandsFor(record) : [];
          emit('item-failed', { run: runOf(record), item: itemOf(item), ...(rollbackPlan.length ? { rollbackPlan } : {}), text: `${record.kind} of ${options.env}: ${item.id} failed — ${clean(item.summary ?? '')}${rollbackPlan.length ? ` · rollback: ${rollbackPlan[0]}` : ''}` });
        }
        const watch = watchOf(item);
        if (record && watch) emit('watch-verdict', { run: runOf(record), item: itemOf(item), watch, text: `watch of ${options.env}: ${watch.status.toUpperCase()}${watch.reasons.length ? ` — ${watch.reasons.slice(0, 3).join('; ')}` : ''}` });
        return;
      }
      case 'run-finished': {
        const r = event.record;
        const run = runOf(r);
        emit('run-finished', { run, text: `${r.kind} of ${options.env}: ${r.status.toUpperCase()} (run ${r.id})` });
        if (r.kind === 'rollback') emit('rolled-back', { run, text: `rollback of ${options.env}${r.target ? ` (of ${r.target})` : ''}${r.tiers?.length ? `, tiers ${r.tiers.join(', ')}` : ''}: ${r.status.toUpperCase()} (run ${r.id})` });
        return;
      }
      default:
        return;
    }
  };
  return {
    observe,
    settle: async () => {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}

/** Observe with the renderer and the notifier both. */
export function withNotifier(emit: RunObserver, notifier: Notifier): RunObserver {
  return (event) => {
    emit(event);
    notifier.observe(event);
  };
}

const clean = (s: string) => redactSecrets(s.replace(/\s*\n\s*/g, ' ').slice(0, 500));

function runOf(r: RunRecord): Notification['run'] {
  const counts: Record<string, number> = {};
  for (const i of r.items) counts[i.state] = (counts[i.state] ?? 0) + 1;
  return { id: r.id, kind: r.kind, status: r.status, startedBy: r.startedBy, host: r.host, ...(r.release ? { release: r.release } : {}), startedAt: r.startedAt, ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}), counts };
}

function itemOf(i: ItemRecord): NonNullable<Notification['item']> {
  return { id: i.id, phase: i.phase, state: i.state, ...(i.summary ? { summary: clean(i.summary) } : {}) };
}

/** The verdict of an api.watch item (its journaled WatchReport), if this is one. */
function watchOf(item: ItemRecord): Notification['watch'] | undefined {
  if (item.id !== 'api.watch' || (item.state !== 'done' && item.state !== 'warn' && item.state !== 'failed')) return undefined;
  const report = (item.outputs?.watch ?? item.outputs?.report ?? item.outputs) as { status?: unknown } | undefined;
  const status = typeof report?.status === 'string' ? report.status : item.state === 'failed' ? 'fail' : item.state === 'warn' ? 'warn' : 'pass';
  const reasons = (item.details ?? []).filter((d) => /^(fail|warn)\b/.test(d)).map(clean);
  return { status, reasons: reasons.length ? reasons : item.summary ? [clean(item.summary)] : [] };
}

/** Slack's incoming-webhook body: the text, and the same in one section block. */
function slackPayload(note: Notification): { text: string; blocks: unknown[] } {
  const lines = [note.text, ...(note.rollbackPlan?.length ? ['Rollback plan (fastest first):', ...note.rollbackPlan.map((c) => `\`${c}\``)] : [])];
  return { text: note.text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }] };
}
