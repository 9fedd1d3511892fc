import type { EnvironmentConfig } from '../../config/types.js';
import { openDatabase } from '../../db/connect.js';
import { RunRepository, type RunView } from '../../runbook/runs.js';
import { readHosts, type HostStatus } from './hosts.js';

export interface StatusResult {
  env: string;
  source: 'database' | 'files';
  note?: string;
  runs: RunView[];
  /** deploy.hosts with a url: which release each one's own /health reports (issue 15). */
  hosts: HostStatus[];
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
    const [views, hosts] = await Promise.all([run ? runs.get(run).then(async (r) => [await runs.view(r)]) : runs.views(limit), run ? Promise.resolve([]) : readHosts(config)]);
    note ??= runs.dbProblem;
    return { env: config.name, source: db && !runs.dbProblem ? 'database' : 'files', ...(note ? { note } : {}), runs: views, hosts };
  } finally {
    await db?.close();
  }
}
