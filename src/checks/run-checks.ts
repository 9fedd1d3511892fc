import type { Check, CheckDeps, CheckNeed, CheckResult, CheckStatus } from './define-check.js';

/** One check's outcome as every reporter sees it. */
export interface CheckOutcome {
  id: string;
  title: string;
  status: CheckStatus;
  summary: string;
  details?: string[];
  hint?: string;
  data?: Record<string, unknown>;
  durationMs: number;
}

export interface RunChecksOptions {
  checks: readonly Check[];
  deps: CheckDeps;
  /** How many checks run at once. */
  concurrency?: number;
  /** Default per-check timeout; a check may set its own. */
  timeoutMs?: number;
  onStart?: (check: Check) => void;
  onFinish?: (outcome: CheckOutcome) => void;
}

/** Why a need cannot be met, or undefined when it can. */
export function unmetNeed(need: CheckNeed, deps: CheckDeps): string | undefined {
  switch (need) {
    case 'db':
      return deps.db ? undefined : deps.dbError ? `database unreachable (see db.reachable)` : 'no database connection for this environment';
    case 'api':
      if (!deps.apiBase) return 'no API base URL (set PUBLIC_API_BASE or pass --base-url)';
      return deps.apiError ? `API unreachable at ${deps.apiBase} (see api.health)` : undefined;
    case 'tls':
      return deps.apiBase?.startsWith('https://') ? undefined : 'the API base URL is not https://';
    case 'repo':
      return deps.repoDir ? undefined : 'not run from a git repository';
    case 'log':
      return deps.config.logFile.value ? undefined : 'no log file configured (log_file / ROUTERGPT_LOG_FILE)';
    case 'privacy-url':
      return deps.config.privacyPolicyUrl.value ? undefined : 'no privacy policy URL configured (privacy_policy_url)';
    case 'openapi-file':
      return deps.openapiFile ? undefined : 'no OpenAPI document found';
  }
}

class CheckTimeoutError extends Error {}

async function runOne(check: Check, deps: CheckDeps, timeoutMs: number): Promise<CheckOutcome> {
  const started = performance.now();
  const base = { id: check.id, title: check.title };
  for (const need of check.needs) {
    const reason = unmetNeed(need, deps);
    if (reason) return { ...base, status: 'skip', summary: reason, durationMs: 0 };
  }
  const controller = new AbortController();
  const limit = check.timeoutMs ?? timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    const result: CheckResult = await Promise.race([
      check.run({ ...deps, signal: controller.signal }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new CheckTimeoutError(`timed out after ${limit} ms`));
        }, limit);
      }),
    ]);
    return { ...base, ...result, durationMs: performance.now() - started };
  } catch (error) {
    // A crash is `error`, distinct from `fail`: the check could not decide.
    const message = error instanceof Error ? error.message : String(error);
    return {
      ...base,
      status: 'error',
      summary: error instanceof CheckTimeoutError ? `check ${message}` : `check crashed: ${message}`,
      hint: error instanceof CheckTimeoutError ? 'Raise --timeout, or look at why the target is slow.' : 'Run with --verbose; if it is a bug in the check, please report it.',
      durationMs: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run checks concurrently with a bound; results come back in the order the checks were given.
 * The `slow` ones start first (longest job first: the run ends when its longest check does, so
 * that one must not start last); the others follow in their order.
 */
export async function runChecks({ checks, deps, concurrency = 4, timeoutMs = 15_000, onStart, onFinish }: RunChecksOptions): Promise<CheckOutcome[]> {
  const results = new Array<CheckOutcome>(checks.length);
  const order = [...checks.keys()].sort((a, b) => Number(checks[b]!.slow === true) - Number(checks[a]!.slow === true) || a - b);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < order.length) {
      const index = order[next]!;
      next += 1;
      const check = checks[index]!;
      onStart?.(check);
      const outcome = await runOne(check, deps, timeoutMs);
      results[index] = outcome;
      onFinish?.(outcome);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, checks.length)) }, worker));
  return results;
}

export interface Counts {
  pass: number;
  warn: number;
  fail: number;
  skip: number;
  error: number;
}

export function countOutcomes(outcomes: readonly CheckOutcome[]): Counts {
  const counts: Counts = { pass: 0, warn: 0, fail: 0, skip: 0, error: 0 };
  for (const o of outcomes) counts[o.status] += 1;
  return counts;
}

/** The overall status: fail when anything failed or crashed, warn when anything warned. */
export function overallStatus(counts: Counts): 'pass' | 'warn' | 'fail' {
  if (counts.fail > 0 || counts.error > 0) return 'fail';
  if (counts.warn > 0) return 'warn';
  return 'pass';
}
