import { OperationError } from '../../errors.js';
import { defineStep } from '../define-step.js';
import { durationParam } from '../db/params.js';

/** Poll GET /health until it answers 200 {"ok":true} — after a restart the API takes a moment. */
export const apiWaitHealthyStep = defineStep({
  id: 'api.wait-healthy',
  params: ['timeout'],
  title: 'Wait until the API is healthy',
  changesData: false,
  needs: ['api'],
  async plan(ctx) {
    return [`Poll ${ctx.apiBase ?? '(PUBLIC_API_BASE not set)'}/health every second until 200 {"ok":true}, for up to ${Math.round((durationParam('api.wait-healthy', ctx.params, 'timeout') ?? 60_000) / 1000)} s`];
  },
  async run(ctx) {
    if (!ctx.apiBase) throw new OperationError('There is no API to wait for: PUBLIC_API_BASE is not set for this environment.', 'Set PUBLIC_API_BASE (or public_api_base in routergpt.config.yaml).');
    const deadline = Date.now() + (durationParam('api.wait-healthy', ctx.params, 'timeout') ?? 60_000);
    let last = '';
    for (let attempt = 1; ; attempt += 1) {
      try {
        const res = await fetch(`${ctx.apiBase}/health`, { signal: AbortSignal.timeout(5000) });
        const body = (await res.json().catch(() => ({}))) as { ok?: boolean; reason?: string };
        if (res.status === 200 && body.ok === true) return { status: 'done', summary: `healthy after ${attempt} attempt(s)`, outputs: { attempts: attempt } };
        last = `HTTP ${res.status}${body.reason ? ` (${body.reason})` : ''}`;
      } catch (error) {
        last = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      }
      if (Date.now() > deadline) throw new OperationError(`The API at ${ctx.apiBase} did not become healthy: ${last}.`, 'Check the server logs; `routergpt rollback --tier code` if the new code does not start.');
      await new Promise((r) => setTimeout(r, 1000));
    }
  },
});

export default apiWaitHealthyStep;
