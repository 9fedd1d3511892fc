import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { EnvironmentConfig } from '../config/types.js';
import type { Database } from '../db/connect.js';

export interface LocalApi {
  url: string;
  close(): Promise<void>;
}

export interface LocalApiOptions {
  /** The run's release: the in-process server reports it as /health `version`, like a deployed one started with ROUTERGPT_RELEASE. */
  release?: string | undefined;
}

/**
 * On `local`, the runbook's post-deployment checks need an API: the real server (buildApp) on a
 * loopback port in this process, sharing the run's database, logging to the run directory.
 */
export async function startLocalApi(config: EnvironmentConfig, db: Database, runDir: string, options: LocalApiOptions = {}): Promise<LocalApi> {
  const [{ buildApp }, pino] = await Promise.all([import('../server/app.js'), import('pino')]);
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(runDir, 'server.log');
  const app = await buildApp({
    pool: db.pool,
    config: { ...config, logFile: { value: logFile, source: 'default', origin: 'the deploy run directory' } },
    logger: { level: 'info', destination: pino.default.destination({ dest: logFile, sync: true, mode: 0o600 }), secrets: [config.openaiApiKey.value, config.apiKey.value] },
    ...(options.release ? { release: options.release } : {}),
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
}

/**
 * Where a run's API checks go: `--base-url`, else PUBLIC_API_BASE — except on `local` with the
 * embedded database, where the real server is started in this process the first time a check
 * needs it (the code on disk is what would run).
 */
export function apiResolver(config: EnvironmentConfig, db: Database, logDir: string, baseUrl: string | undefined, note: (line: string) => void, options: LocalApiOptions = {}) {
  const inProcess = config.name === 'local' && db.kind === 'embedded' && !baseUrl;
  let apiBase = baseUrl ?? (inProcess ? undefined : (config.publicApiBase.value ?? undefined));
  let api: LocalApi | undefined;
  return {
    /** What plans call the API before it runs. */
    label: inProcess ? '(the API started in this process)' : apiBase,
    ensureApi: async (): Promise<string | undefined> => {
      if (apiBase || !inProcess) return apiBase;
      api = await startLocalApi(config, db, logDir, options);
      apiBase = api.url;
      note(`    (started the API in this process at ${apiBase} for the checks)`);
      return apiBase;
    },
    close: async () => {
      await api?.close().catch(() => {});
    },
  };
}
