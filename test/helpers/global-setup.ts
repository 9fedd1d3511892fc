import type { TestProject } from 'vitest/node';
import { startThrowawayCluster, type Cluster } from './pg-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL on a real PostgreSQL server (TEST_DATABASE_URL or a throwaway cluster). */
    pgAdminUrl: string;
    /** Redis on loopback (TEST_REDIS_URL, default redis://127.0.0.1:6379). */
    redisUrl: string;
  }
}

let cluster: Cluster | undefined;

/**
 * One PostgreSQL server for the run: TEST_DATABASE_URL when set, otherwise a throwaway
 * cluster made with the machine's initdb/pg_ctl in a temp directory. Each test file then
 * creates its own database on it (test/helpers/db.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    cluster = await startThrowawayCluster();
    url = cluster.url;
  }
  project.provide('pgAdminUrl', url);
  project.provide('redisUrl', process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  return async () => {
    await cluster?.stop();
  };
}
