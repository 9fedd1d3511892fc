import { UsageError } from '../../errors.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { openDatabase } from '../../db/connect.js';
import { listRunFiles, listRunsFromDb, runsDir, type RunRecord } from '../../runbook/journal.js';

export interface StatusResult {
  env: string;
  source: 'database' | 'files';
  note?: string;
  runs: RunRecord[];
}

/** Runs from the database journal (every operator's), merged with this machine's files (the newest state wins). */
export async function runStatus({ config, limit, run }: { config: EnvironmentConfig; limit: number; run?: string }): Promise<StatusResult> {
  const files = listRunFiles(runsDir(config.stateDir.value, config.name));
  let fromDb: RunRecord[] = [];
  let source: StatusResult['source'] = 'database';
  let note: string | undefined;
  try {
    const db = await openDatabase(config, { applicationName: 'routergpt status', poolSize: 1 });
    try {
      fromDb = await listRunsFromDb(db.pool, config.name, Math.max(limit, run ? 500 : limit));
    } finally {
      await db.close();
    }
  } catch (error) {
    source = 'files';
    note = (error as Error).message.split('\n')[0];
  }
  const byId = new Map<string, RunRecord>();
  for (const r of [...fromDb, ...files]) {
    const seen = byId.get(r.id);
    // The local file is written first, so it is never older than the table's copy.
    if (!seen || (r.finishedAt ?? '') >= (seen.finishedAt ?? '')) byId.set(r.id, r);
  }
  const runs = [...byId.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  if (run) {
    const one = runs.find((r) => r.id === run);
    if (!one) throw new UsageError(`Unknown run id "${run}" for ${config.name}.`, `Run \`routergpt status --env ${config.name}\` to list them.`);
    return { env: config.name, source, ...(note ? { note } : {}), runs: [one] };
  }
  return { env: config.name, source, ...(note ? { note } : {}), runs: runs.slice(0, limit) };
}
