import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { REPO_ROOT, runCli, spawnCli, tempDir } from './cli.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { freePort } from './pg-cluster.js';

/** Who `ws.deploy()` deploys as (`--as`). */
export const WORKSPACE_DEPLOYER = 'ops@example.com';

export const LOOPBACK_CHECKLIST = path.join(REPO_ROOT, 'test', 'fixtures', 'checklists', 'loopback.yaml');

/** A staging workspace: a config file, a fresh real database, and a real `routergpt serve` process on loopback. */
export interface Workspace {
  dir: string;
  db: TestDatabase;
  port: number;
  env: Record<string, string>;
  signoffFile: string;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
  deploy(extra?: string[]): ReturnType<typeof runCli>;
  startServer(): Promise<void>;
  stop(): Promise<void>;
}

export interface WorkspaceOptions {
  withServer?: boolean;
  /** The deploy step's command (default: append a line to deploy-marker.log). */
  deployCommand?: string;
  /** Put this password in DATABASE_URL (the test server trusts every password). */
  password?: string;
  /** Extra environment variables for every command (ROUTERGPT_MIGRATIONS_DIR…). */
  env?: Record<string, string>;
  /** Use this database (one on a throwaway cluster, for the fault suite) instead of a fresh one on the shared server. */
  database?: TestDatabase;
}

export async function createWorkspace(options: WorkspaceOptions = {}): Promise<Workspace> {
  const dir = tempDir('routergpt-ws-');
  const db = options.database ?? (await createTestDatabase('ws'));
  const port = await freePort();
  writeFileSync(
    path.join(dir, 'routergpt.config.yaml'),
    [
      'version: 1',
      'environments:',
      '  staging:',
      '    database: { url_env: DATABASE_URL }',
      `    public_api_base: http://127.0.0.1:${port}`,
      '    allow_test_bookings: false',
      '    rate_limits: { search_per_minute: 1000, delegate_per_minute: 1000 }',
      '    deploy:',
      '      timeout: 20s',
      '      commands:',
      `        - ${JSON.stringify(options.deployCommand ?? 'echo "deployed $(date +%s)" >> deploy-marker.log')}`,
      '      rollback_commands:',
      '        - echo rolled-back >> deploy-marker.log',
      '    backup: { dir: backups, retention: 5 }',
      '',
    ].join('\n'),
  );
  const signoffFile = path.join(dir, 'signoff.yaml');
  // The final sign-off records the deployer (`--as`): the file answers the manual items only.
  writeFileSync(signoffFile, 'signed_by: Test Operator\nitems:\n  custom-gpt-configured: true\n');
  const url = new URL(db.url);
  if (options.password) url.password = options.password;
  const env = { DATABASE_URL: url.toString(), ROUTERGPT_ENV: 'staging', ...options.env };
  let server: ReturnType<typeof spawnCli> | undefined;
  const ws: Workspace = {
    dir,
    db,
    port,
    env,
    signoffFile,
    async query(sql, values) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query(sql, values)).rows;
      } finally {
        await client.end();
      }
    },
    deploy: (extra = []) => runCli(['deploy', '--checklist', LOOPBACK_CHECKLIST, '--signoff-file', signoffFile, '--yes', '--as', WORKSPACE_DEPLOYER, ...extra], { cwd: dir, env }),
    async startServer() {
      server = spawnCli(['serve', '--port', String(port)], { cwd: dir, env });
      for (let i = 0; i < 150; i += 1) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/health`);
          if (res.status === 200 || res.status === 503) return;
        } catch {
          /* not listening yet */
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('routergpt serve did not start');
    },
    async stop() {
      if (server && server.exitCode === null) {
        server.kill('SIGTERM');
        await server.catch(() => {});
      }
      await db.drop();
    },
  };
  if (options.withServer !== false) await ws.startServer();
  return ws;
}
