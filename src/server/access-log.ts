/**
 * One log line per request (issue 16): the access line, written when the response has been sent,
 * carries what the route had to say about the request (`[ROUTER] search found 3 shop(s)` and its
 * fields) instead of a line of its own — each line is a write and a pass of the secret masking,
 * and two per search cost 15–18 % of its CPU. A request whose route said nothing gets
 * `request completed`. Fastify's own request logging is off (app.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the route noted for the access line (noteForAccessLog), null when nothing. */
    accessNote: { fields: Record<string, unknown>; msg: string } | null;
  }
}

/** Put `fields` and `msg` on the request's one access line (the last note wins). */
export function noteForAccessLog(request: FastifyRequest, fields: Record<string, unknown>, msg: string): void {
  request.accessNote = { fields, msg };
}

export function registerAccessLog(app: FastifyInstance): void {
  app.decorateRequest('accessNote', null);
  app.addHook('onResponse', (request, reply, done) => {
    const note = request.accessNote;
    const line = { method: request.method, url: request.url, statusCode: reply.statusCode, responseTime: reply.elapsedTime };
    if (note) request.log.info(Object.assign(line, note.fields), note.msg);
    else request.log.info(line, 'request completed');
    done();
  });
}
