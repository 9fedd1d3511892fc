import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { HttpError } from '../errors.js';
import type { ToggleState } from '../flags.js';

/**
 * The feature toggle, checked before the body is even parsed: with RouterGPT switched off,
 * every router route answers 503 router_disabled, whatever it was sent.
 */
/** The wait a switched-off router suggests (Retry-After, as every 503 carries): a minute, then ask again. */
export const TOGGLE_RETRY_AFTER_S = 60;

/** Undefined when the router is on; else the 503 (and the reply's Retry-After) for a switched-off router. */
function refusal(request: FastifyRequest, reply: FastifyReply, state: ToggleState): HttpError | undefined {
  if (state.enabled) return undefined;
  // Deliberate: counted as a refusal, never as an error (docs/metrics.md).
  request.refusedByToggle = true;
  void reply.header('retry-after', String(TOGGLE_RETRY_AFTER_S));
  return new HttpError('router_disabled', `${state.reason ?? 'RouterGPT is switched off.'} Try again later.`);
}

export function guardWithToggle(app: FastifyInstance): void {
  // A callback hook: while the flag row is cached (all but one request a second), the state is
  // known synchronously — no promise per request (bench/http).
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const known = app.rgpt.toggle.fresh();
    if (known) return done(refusal(request, reply, known));
    app.rgpt.toggle.state().then(
      (state) => done(refusal(request, reply, state)),
      (error: Error) => done(error),
    );
  });
}
