import type { Writable } from 'node:stream';
import type { RunEvent, RunObserver } from '../runbook/events.js';
import type { ItemRecord } from '../runbook/journal.js';
import { listrOptions } from './human.js';
import { linesObserver } from './run-lines.js';

interface LiveTask {
  title: string;
  output: string;
  skip(message: string): void;
}

/**
 * The terminal renderer of a run: listr2's live task list, one task per item, its latest
 * progress line under it. listr2 renders; the journal is the data model (it has `warn`, listr2
 * has not). Used only when nobody will be asked anything mid-run (prompts and a redrawing list
 * fight over the terminal); the plan and notes still go through the plain lines.
 */
export async function liveObserver(out: Writable): Promise<RunObserver & { flush(): Promise<void> }> {
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const lines = linesObserver(out);
  const finished = new Map<string, ItemRecord>();
  const waiting = new Map<string, (item: ItemRecord) => void>();
  const tasks = new Map<string, LiveTask>();
  let running: Promise<void> | undefined;
  const settle = (item: ItemRecord) => {
    finished.set(item.id, item);
    waiting.get(item.id)?.(item);
  };
  const observer = (event: RunEvent) => {
    switch (event.type) {
      case 'run-started': {
        lines(event);
        const list = new Listr(
          event.record.items.map((record) => ({
            title: `${record.id} — ${record.title}`,
            task: async (_ctx: unknown, task: LiveTask) => {
              tasks.set(record.id, task);
              const item = finished.get(record.id) ?? (await new Promise<ItemRecord>((resolve) => waiting.set(record.id, resolve)));
              const secs = `${((item.durationMs ?? 0) / 1000).toFixed(1)} s`;
              if (item.state === 'failed') throw new Error(`${item.id} — ${item.summary ?? 'failed'}`);
              if (item.state === 'skipped' || item.state === 'pending') task.skip(`${item.id} — ${item.state === 'pending' ? 'not run' : `skipped: ${item.summary ?? ''}`}`);
              else task.title = `${item.state === 'warn' ? '⚠ ' : ''}${item.id} — ${item.summary ?? item.state} (${secs})`;
            },
          })),
          listrOptions(out, ListrLogger, ProcessOutput),
        );
        running = list.run().then(
          () => {},
          () => {},
        );
        return;
      }
      case 'item-progress': {
        const task = tasks.get(event.item.id);
        if (task) task.output = event.line.trim();
        return;
      }
      case 'item-resumed':
      case 'item-finished':
        settle(event.item);
        return;
      case 'run-finished':
        // Items after a failure (or a Ctrl-C) never ran: close their tasks as such.
        for (const item of event.record.items) if (!finished.has(item.id)) settle(item);
        return;
      case 'item-started':
      case 'prompt':
        return;
      default:
        lines(event);
    }
  };
  return Object.assign(observer, { flush: async () => running });
}

/** listr2 on a terminal when the run asks nothing; plain lines otherwise (CI logs, prompts, pipes). */
export async function runObserver(out: Writable, options: { terminal: boolean; asks: boolean }): Promise<RunObserver & { flush?(): Promise<void> }> {
  // A pseudo-terminal without a size (0 columns) would get one character per line.
  const wide = ((out as Partial<NodeJS.WriteStream>).columns ?? 0) >= 40;
  return options.terminal && wide && !options.asks ? liveObserver(out) : linesObserver(out);
}
