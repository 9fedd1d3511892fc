import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors.js';

/**
 * The feature toggle, checked before the body is even parsed: with RouterGPT switched off,
 * every router route answers 503 router_disabled, whatever it was sent.
 */
/** The wait a switched-off router suggests (Retry-After, as every 503 carries): a minute, then ask again. */
export const TOGGLE_RETRY_AFTER_S = 60;

export function guardWithToggle(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const state = await app.rgpt.toggle.state();
    if (state.enabled) return;
    // Deliberate: counted as a refusal, never as an error (docs/metrics.md).
    request.refusedByToggle = true;
    void reply.header('retry-after', String(TOGGLE_RETRY_AFTER_S));
    throw new HttpError('router_disabled', `${state.reason ?? 'RouterGPT is switched off.'} Try again later.`);
  });
}
