import type { EnvironmentConfig } from '../../config/types.js';
import { openDatabase } from '../../db/connect.js';
import { RunRepository, type RunView } from '../../runbook/runs.js';

export interface StatusResult {
  env: string;
  source: 'database' | 'files';
  note?: string;
  runs: RunView[];
}

/** Runs from the one repository (every operator's, from the table, merged with this machine's files). */
export async function runStatus({ config, limit, run }: { config: EnvironmentConfig; limit: number; run?: string }): Promise<StatusResult> {
  let db: Awaited<ReturnType<typeof openDatabase>> | undefined;
  let note: string | undefined;
  try {
    db = await openDatabase(config, { applicationName: 'routergpt status', poolSize: 1 });
  } catch (error) {
    note = (error as Error).message.split('\n')[0];
  }
  try {
    const runs = new RunRepository(config, db?.pool, db?.kind === 'embedded');
    const views = run ? [await runs.view(await runs.get(run))] : await runs.views(limit);
    note ??= runs.dbProblem;
    return { env: config.name, source: db && !runs.dbProblem ? 'database' : 'files', ...(note ? { note } : {}), runs: views };
  } finally {
    await db?.close();
  }
}
