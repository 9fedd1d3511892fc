import { OperationError } from '../../errors.js';
import { resolveSyntheticKey } from '../../db/synthetic-key.js';
import { signSynthetic, SYNTHETIC_HEADER } from '../../lib/synthetic.js';
import { defineStep } from '../define-step.js';
import { durationParam } from '../db/params.js';

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Poll GET /health until it answers 200 {"ok":true} — after a restart the API takes a moment.
 * When the run ships a release, until /health also reports exactly it as `version`: the old
 * server answering healthy until it is replaced is not the deploy having worked.
 */
export const apiWaitHealthyStep = defineStep({
  id: 'api.wait-healthy',
  params: ['timeout'],
  title: 'Wait until the API is healthy',
  changesData: false,
  needs: ['api'],
  async plan(ctx) {
    const until = ctx.release ? `200 {"ok":true,"version":${JSON.stringify(ctx.release)}} (the release being deployed)` : '200 {"ok":true}';
    return [`Poll ${ctx.apiBase ?? '(PUBLIC_API_BASE not set)'}/health every second until ${until}, for up to ${Math.round((durationParam('api.wait-healthy', ctx.params, 'timeout') ?? DEFAULT_TIMEOUT_MS) / 1000)} s`];
  },
  async run(ctx) {
    if (!ctx.apiBase) throw new OperationError('There is no API to wait for: PUBLIC_API_BASE is not set for this environment.', 'Set PUBLIC_API_BASE (or public_api_base in routergpt.config.yaml).');
    const timeoutMs = durationParam('api.wait-healthy', ctx.params, 'timeout') ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const want = ctx.release;
    let last = '';
    // The version a healthy server reported instead of the release being deployed (the last answer).
    let stale: string | undefined;
    // Our probes are synthetic traffic (src/lib/synthetic.ts), signed afresh for each attempt.
    const { key } = await resolveSyntheticKey(ctx.config, ctx.db?.pool);
    for (let attempt = 1; ; attempt += 1) {
      stale = undefined;
      try {
        const headers: Record<string, string> = key ? { [SYNTHETIC_HEADER]: signSynthetic(key, { method: 'GET', path: '/health' }) } : {};
        const res = await fetch(`${ctx.apiBase}/health`, { signal: AbortSignal.timeout(5000), headers });
        const body = (await res.json().catch(() => ({}))) as { ok?: boolean; reason?: string; version?: unknown };
        const version = typeof body.version === 'string' ? body.version : undefined;
        if (res.status === 200 && body.ok === true) {
          if (!want || version === want) return { status: 'done', summary: `healthy after ${attempt} attempt(s)${want ? `, running release ${want}` : ''}`, outputs: { attempts: attempt, ...(version ? { version } : {}) } };
          stale = version ?? '(no version reported)';
          last = `healthy, but running ${stale}`;
        } else {
          last = `HTTP ${res.status}${body.reason ? ` (${body.reason})` : ''}`;
        }
      } catch (error) {
        last = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      }
      if (Date.now() > deadline) {
        if (want && stale !== undefined) {
          throw new OperationError(
            `The API at ${ctx.apiBase} still reports version ${JSON.stringify(stale)}, not the release being deployed ${JSON.stringify(want)}, after ${Math.round(timeoutMs / 1000)} s.`,
            `The old code is still answering: check that the deploy commands restarted the server with ROUTERGPT_RELEASE (it reports it as "version"; e.g. \`pm2 restart routergpt --update-env\`), then resume; or \`routergpt rollback --tier code\`.`,
          );
        }
        throw new OperationError(`The API at ${ctx.apiBase} did not become healthy: ${last}.`, 'Check the server logs; `routergpt rollback --tier code` if the new code does not start.');
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  },
});

export default apiWaitHealthyStep;
