import { ConfigError } from '../errors.js';
import { maskUrl } from '../config/mask.js';
import type { EnvironmentConfig } from '../config/types.js';
import { openEmbedded, type EmbeddedDatabase } from './embedded.js';
import type { TemplateVariant } from './embedded-template.js';
import { createPool, type Pool } from './pool.js';

export interface Database {
  pool: Pool;
  /** The connection URL (contains the password: never print it, use `display`). */
  url: string;
  /** What to show people: the masked URL, or "embedded (.routergpt/local)". */
  display: string;
  kind: 'embedded' | 'url';
  /** For the embedded database: whether this process owns it, and (when it does) its PGlite. */
  embedded?: Pick<EmbeddedDatabase, 'owner' | 'ownerPid' | 'pglite' | 'dump'>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  poolSize?: number;
  applicationName?: string;
  /** Run `SELECT 1` first and turn connection failures into clear ConfigErrors. */
  verify?: boolean;
  /** The embedded database only: a template variant for a fresh state (embedded-template.ts). */
  templateVariant?: TemplateVariant;
  /** The embedded database only: how its WebAssembly is compiled (embedded.ts; 'optimized' for long-running processes). */
  wasmTier?: 'baseline' | 'optimized';
  /** The embedded database only: how long to wait for another process that holds it without serving it yet (default 30 s). */
  embeddedWaitMs?: number;
}

/** Open the environment's database: a pool on its URL, or the embedded database served locally. */
export async function openDatabase(config: EnvironmentConfig, options: OpenDatabaseOptions = {}): Promise<Database> {
  const target = config.database.value;
  const applicationName = options.applicationName ?? 'routergpt';
  if (target.kind === 'embedded') {
    const embedded = await openEmbedded({ dataDir: target.dataDir, command: applicationName, ...(options.templateVariant ? { templateVariant: options.templateVariant } : {}), ...(options.wasmTier ? { wasmTier: options.wasmTier } : {}), ...(options.embeddedWaitMs !== undefined ? { startWaitMs: options.embeddedWaitMs } : {}) });
    const pool = createPool({ connectionString: embedded.url, max: options.poolSize ?? 4, applicationName });
    const db: Database = {
      pool,
      url: embedded.url,
      display: `embedded (${target.dataDir}${embedded.owner ? '' : `, served by pid ${embedded.ownerPid}`})`,
      kind: 'embedded',
      embedded: { owner: embedded.owner, ownerPid: embedded.ownerPid, ...(embedded.pglite ? { pglite: embedded.pglite } : {}), ...(embedded.dump ? { dump: embedded.dump } : {}) },
      close: async () => {
        await pool.end().catch(() => {});
        await embedded.close();
      },
    };
    if (options.verify !== false) await verifyOrClose(db, config);
    return db;
  }
  const pool = createPool({ connectionString: normaliseUrl(target.url), max: options.poolSize ?? 10, applicationName });
  const db: Database = { pool, url: normaliseUrl(target.url), display: maskUrl(target.url), kind: 'url', close: () => pool.end().catch(() => {}) };
  if (options.verify !== false) await verifyOrClose(db, config);
  return db;
}

export async function withDatabase<T>(config: EnvironmentConfig, fn: (db: Database) => Promise<T>, options?: OpenDatabaseOptions): Promise<T> {
  const db = await openDatabase(config, options);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** SQLAlchemy-style URLs (postgresql+asyncpg://, as in the checklist) → what pg understands. */
export function normaliseUrl(url: string): string {
  return url.replace(/^postgres(ql)?\+\w+:/, 'postgresql:');
}

async function verifyOrClose(db: Database, config: EnvironmentConfig): Promise<void> {
  try {
    await db.pool.query('SELECT 1');
  } catch (error) {
    await db.close();
    throw describeConnectionError(error, db.display, config.database.origin);
  }
}

export function describeConnectionError(error: unknown, display: string, origin: string): ConfigError {
  const e = error as NodeJS.ErrnoException & { code?: string };
  const fix = `Check ${origin}, then run \`routergpt db ping\`.`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return new ConfigError(`Cannot reach the database at ${display}: connection refused.`, `Is PostgreSQL running there? ${fix}`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(`Cannot resolve the database host in ${display}.`, fix);
    case 'ETIMEDOUT':
      return new ConfigError(`Timed out connecting to the database at ${display}.`, fix);
    case '28P01':
    case '28000':
      return new ConfigError(`The database at ${display} rejected the credentials (wrong user or password).`, fix);
    case '3D000':
      return new ConfigError(`The database in ${display} does not exist.`, `Create it (createdb) or fix ${origin}.`);
    default:
      if (e.message && /timeout/i.test(e.message)) return new ConfigError(`Timed out connecting to the database at ${display}.`, fix);
      return new ConfigError(`Cannot connect to the database at ${display}: ${e.message ?? String(error)}`, fix);
  }
}
