import type { Writable } from 'node:stream';
import type { RunEvent, RunObserver } from '../runbook/events.js';
import { RUN_SYMBOL } from './run-report.js';


/**
 * The plain renderer of a run's events: one line per state change on stderr — what a CI log or
 * a terminal shows while a deploy or a rollback runs (stdout stays for the report).
 */
export function linesObserver(out: Writable): RunObserver {
  const w = (s: string) => out.write(`${s}\n`);
  let phase = '';
  return (event: RunEvent) => {
    switch (event.type) {
      case 'plan': {
        w(`${event.dryRun ? 'Dry run — nothing will be changed.\n' : ''}${event.heading}`);
        let planPhase = '';
        for (const entry of event.plan) {
          if (entry.phase !== planPhase) {
            planPhase = entry.phase;
            w(`\n  [${planPhase}]`);
          }
          const state = event.record.items.find((i) => i.id === entry.id)?.state;
          const mark = state === 'done' || state === 'warn' || state === 'skipped' ? `(${state}, will not repeat) ` : '';
          w(`  • ${mark}${entry.id} — ${entry.title}`);
          for (const line of entry.lines) w(`      ${line}`);
        }
        w('');
        return;
      }
      case 'run-started':
        w(`\nrun ${event.record.id} (journal: ${event.journalFile})`);
        return;
      case 'note':
        w(event.line);
        return;
      case 'item-resumed':
        w(`  ${RUN_SYMBOL[event.item.state]} ${event.item.id} — already ${event.item.state} (resumed)`);
        return;
      case 'item-started':
        if (event.item.phase !== phase) {
          phase = event.item.phase;
          w(`\n[${phase}]`);
        }
        w(`▶ ${event.item.id}${event.item.title ? ` — ${event.item.title}` : ''}`);
        return;
      case 'item-progress':
        w(`    ${event.line}`);
        return;
      case 'prompt':
        return;
      case 'item-finished': {
        const { item } = event;
        w(`  ${RUN_SYMBOL[item.state]} ${item.state} (${((item.durationMs ?? 0) / 1000).toFixed(1)} s) ${item.summary ?? ''}`);
        const shown = item.state === 'failed' ? item.details : item.details?.filter((x) => /^(warn|fail|error) /.test(x));
        for (const d of shown ?? []) w(`      ${d}`);
        return;
      }
      case 'run-finished':
        return;
    }
  };
}
