import type { RunRecord } from './journal.js';

/** What `routergpt rollback` can undo for a run, fastest first — printed when a deploy fails. */
export function rollbackPlanFor(run: RunRecord): string[] {
  const done = new Set(run.items.filter((i) => i.state === 'done' || i.state === 'running' || i.state === 'failed').map((i) => i.id));
  const cmd = (tier: string) => `routergpt rollback --env ${run.env} --run ${run.id} --tier ${tier}`;
  const lines: string[] = [];
  if (done.has('code.deploy') || done.has('api.smoke') || done.has('db.migrate')) lines.push(`${cmd('toggle')}   # seconds: the router answers 503, no restart`);
  if (done.has('code.deploy')) lines.push(`${cmd('code')}     # run the configured code-rollback commands`);
  if (done.has('db.purge-test-data')) lines.push(`${cmd('purge')}    # put the purged rows back from the run's record`);
  if (done.has('db.migrate')) lines.push(`${cmd('migrations')} # down files back to the pre-deploy version`);
  if (run.items.some((i) => i.id === 'db.backup' && i.state === 'done')) lines.push(`${cmd('restore')}  # restore the verified pre-deploy backup (replaces all data)`);
  return lines;
}
