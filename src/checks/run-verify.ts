import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Check, CheckDeps, CheckStage } from './define-check.js';
import { countOutcomes, overallStatus, runChecks, type CheckOutcome } from './run-checks.js';
import { ConfigError } from '../errors.js';
import { maskUrl } from '../config/mask.js';
import type { EnvironmentConfig } from '../config/types.js';
import { openDatabase, type Database } from '../db/connect.js';
import { resolveSyntheticKey, unmarkedWarning } from '../db/synthetic-key.js';
import { gitToplevel } from '../lib/git-toplevel.js';
import { signSynthetic, SYNTHETIC_HEADER } from '../lib/synthetic.js';
import { REPORT_SCHEMA, type VerifyReport } from '../report/types.js';
import { errorCode, send } from './api/transport.js';

export interface VerifyOptions {
  config: EnvironmentConfig;
  command: 'verify' | 'smoke';
  checks: readonly Check[];
  stage: CheckStage | 'all';
  /** Overrides the environment's PUBLIC_API_BASE. */
  baseUrl?: string;
  /** Skip the database entirely (smoke against a URL). */
  noDatabase?: boolean;
  /**
   * An unreachable database is a configuration error (exit 2) before any check runs — the
   * `verify` command (docs/exit-codes.md). Otherwise db.reachable reports it among the checks.
   */
  requireDatabase?: boolean;
  cwd: string;
  concurrency: number;
  timeoutMs: number;
  params?: Record<string, Record<string, unknown>>;
  tlsCa?: string[];
  /** Reuse an open database (the runbook passes its own). */
  db?: Database;
  onStart?: (check: Check) => void;
  onFinish?: (outcome: CheckOutcome) => void;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Told once when the API requests cannot be marked synthetic (no key anywhere). */
  onWarning?: (line: string) => void;
}

/** The working tree's repository, if any (git is asked once per run: src/lib/git-toplevel.ts). */
async function findRepo(cwd: string): Promise<string | undefined> {
  const where = await gitToplevel(cwd);
  return where.kind === 'repo' ? where.root : undefined;
}

export function findOpenapiFile(cwd: string, env: string): string | undefined {
  const packaged = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'openapi');
  const candidates = [path.join(cwd, `openapi_chatgpt_${env}.yaml`), path.join(cwd, 'openapi', `openapi_chatgpt_${env}.yaml`), path.join(cwd, 'openapi', 'openapi_chatgpt.yaml'), path.join(packaged, 'openapi_chatgpt.yaml')];
  return candidates.find((f) => existsSync(f));
}

/** Can we talk to the API at all? One short probe, so 20 API checks don't each time out. */
async function probeApi(apiBase: string, syntheticKey: string | undefined): Promise<string | undefined> {
  try {
    const headers: Record<string, string> = syntheticKey ? { [SYNTHETIC_HEADER]: signSynthetic(syntheticKey, { method: 'GET', path: '/health' }) } : {};
    await send(`${apiBase}/health`, undefined, { method: 'GET', signal: AbortSignal.timeout(3000), headers });
    return undefined;
  } catch (error) {
    return errorCode(error);
  }
}

export async function runVerify(options: VerifyOptions): Promise<VerifyReport> {
  const { config } = options;
  const started = new Date();
  const t0 = performance.now();
  const needsDb = !options.noDatabase && options.checks.some((c) => c.needs.includes('db') || c.id === 'db.reachable');
  let db = options.db;
  let dbError: string | undefined;
  let ownDb = false;
  if (!db && needsDb) {
    try {
      db = await openDatabase(config, { applicationName: `routergpt ${options.command}`, poolSize: Math.max(2, options.concurrency) });
      ownDb = true;
    } catch (error) {
      if (!(error instanceof ConfigError) || options.requireDatabase) throw error;
      dbError = error.message;
    }
  }
  const apiBase = (options.baseUrl ?? config.publicApiBase.value)?.replace(/\/+$/, '');
  // api.health needs nothing (it is the check that reports an unreachable API), but it uses the probe.
  const needsApi = options.checks.some((c) => c.needs.includes('api') || c.id === 'api.health');
  // The key that marks our requests synthetic: the variable, else the target database's. Smoke
  // opens the database for it (and for the chat check's booking clean-up) when it has one.
  let syntheticKey: string | undefined;
  // api.health has no needs (it is the check that says the API is unreachable), but sends requests too.
  if (apiBase && options.checks.some((c) => c.needs.includes('api') || c.id.startsWith('api.'))) {
    if (!db && !options.noDatabase && !config.syntheticKey.value) {
      try {
        db = await openDatabase(config, { applicationName: `routergpt ${options.command}`, poolSize: Math.max(2, options.concurrency) });
        ownDb = true;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
      }
    }
    syntheticKey = (await resolveSyntheticKey(config, db?.pool)).key;
    if (!syntheticKey) options.onWarning?.(unmarkedWarning(db !== undefined));
  }
  const [apiError, repoDir] = await Promise.all([apiBase && needsApi ? probeApi(apiBase, syntheticKey) : undefined, findRepo(options.cwd)]);
  const deps: CheckDeps = {
    config,
    db: db?.pool,
    dbError,
    apiBase,
    apiError,
    repoDir,
    openapiFile: findOpenapiFile(options.cwd, config.name),
    tlsCa: options.tlsCa,
    // Looked up when called: reading the global loads Node's fetch implementation (≈ 40 ms), which the API checks do not use.
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    syntheticKey,
    now: options.now ?? (() => new Date()),
  };
  try {
    const outcomes = await runChecks({
      checks: options.checks.map((c) => (options.params?.[c.id] ? { ...c, run: (d: CheckDeps) => c.run({ ...d, params: options.params![c.id] }) } : c)),
      deps,
      concurrency: options.concurrency,
      timeoutMs: options.timeoutMs,
      onStart: options.onStart,
      onFinish: options.onFinish,
    });
    const counts = countOutcomes(outcomes);
    return {
      schema: REPORT_SCHEMA,
      command: options.command,
      env: config.name,
      stage: options.stage,
      target: { database: db?.display ?? (config.database.value.kind === 'url' && config.database.value.url ? maskUrl(config.database.value.url) : null), apiBase: apiBase ?? null },
      startedAt: started.toISOString(),
      durationMs: Math.round(performance.now() - t0),
      status: overallStatus(counts),
      counts,
      checks: outcomes,
    };
  } finally {
    if (ownDb) await db?.close();
  }
}
