import type { EnvironmentConfig } from '../../config/types.js';
import type { Queryable } from '../../db/pool.js';
import { resolveSyntheticKey } from '../../db/synthetic-key.js';
import { signSynthetic, SYNTHETIC_HEADER } from '../../lib/synthetic.js';

export interface HealthReading {
  /** null: no answer (refused, timed out). */
  httpStatus: number | null;
  ok: boolean;
  version?: string;
  /** What went wrong, when it did: "HTTP 503 (database unreachable)", "ECONNREFUSED". */
  problem?: string;
}

export type HealthReader = () => Promise<HealthReading>;

/**
 * GET {apiBase}/health, signed as synthetic (a watch's probes are not traffic it then judges).
 * The key is read once; every probe is signed afresh.
 */
export async function healthReader(apiBase: string, config: EnvironmentConfig, db: Queryable | undefined): Promise<HealthReader> {
  const { key } = await resolveSyntheticKey(config, db);
  return async () => {
    try {
      const headers: Record<string, string> = key ? { [SYNTHETIC_HEADER]: signSynthetic(key, { method: 'GET', path: '/health' }) } : {};
      const res = await fetch(`${apiBase}/health`, { signal: AbortSignal.timeout(5000), headers });
      const body = (await res.json().catch(() => ({}))) as { ok?: boolean; reason?: string; version?: unknown };
      const version = typeof body.version === 'string' ? body.version : undefined;
      const ok = res.status === 200 && body.ok === true;
      return { httpStatus: res.status, ok, ...(version ? { version } : {}), ...(ok ? {} : { problem: `HTTP ${res.status}${body.reason ? ` (${body.reason})` : ''}` }) };
    } catch (error) {
      return { httpStatus: null, ok: false, problem: (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message };
    }
  };
}
