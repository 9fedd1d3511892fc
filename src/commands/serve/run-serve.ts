import type { EnvironmentConfig } from '../../config/types.js';

export interface ServeOptions {
  config: EnvironmentConfig;
  env: NodeJS.ProcessEnv;
  port?: number;
  host?: string;
  /** Called once the server listens (the adapter prints the URL). */
  onListening?: (info: { url: string; database: string; migrationsApplied: number; seededShops: number }) => void;
}

export interface ServeResult {
  url: string;
  signal: NodeJS.Signals;
}

/** Run the API server until SIGTERM/SIGINT and a graceful shutdown. Never prints. */
export async function runServe(options: ServeOptions): Promise<ServeResult> {
  const { startServer, serveUntilSignal } = await import('../../server/main.js');
  const { writeServeRecord, removeServeRecord } = await import('../../server/serve-record.js');
  const server = await startServer({ config: options.config, env: options.env, port: options.port, host: options.host });
  // Where we listen, for `smoke`/`verify` without --base-url (see serve-record.ts).
  writeServeRecord(options.config, server.url);
  try {
    options.onListening?.({ url: server.url, database: server.database, ...server.prepared });
    const signal = await serveUntilSignal(server);
    return { url: server.url, signal };
  } finally {
    removeServeRecord(options.config);
  }
}
