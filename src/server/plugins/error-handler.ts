/**
 * One rendering for every error: `{error:{code,message,fields?}}` with a stable code.
 * Validation problems become 422 with one entry per field; anything unexpected becomes a 500
 * whose body says nothing about the internals (no stack, no SQL) — the log has the stack.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, HttpError, type ApiErrorCode, type FieldProblem } from '../errors.js';

interface AjvLikeError {
  keyword: string;
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** ajv errors → [{field, message}], one per field, in a form a person (or a GPT) can act on. */
export function fieldsFromValidation(errors: AjvLikeError[], context: string | undefined): FieldProblem[] {
  const seen = new Map<string, string>();
  for (const e of errors) {
    let field = (e.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required' && typeof e.params?.missingProperty === 'string') {
      field = field ? `${field}.${e.params.missingProperty}` : e.params.missingProperty;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties' && typeof e.params?.additionalProperty === 'string') {
      field = field ? `${field}.${e.params.additionalProperty}` : e.params.additionalProperty;
      message = 'is not a known field; remove it';
    } else if (e.keyword === 'pattern') {
      message = 'has an invalid format';
    }
    if (!field) field = context ?? 'body';
    // ajv can report several problems for one field (type + anyOf …); the first is the clearest.
    if (!seen.has(field)) seen.set(field, message);
  }
  return [...seen].map(([field, message]) => ({ field, message }));
}

function summary(fields: FieldProblem[]): string {
  const first = fields.slice(0, 3).map((f) => `${f.field} ${f.message}`).join('; ');
  return `The request is invalid: ${first}${fields.length > 3 ? ` (and ${fields.length - 3} more)` : ''}.`;
}

/** Seconds a client is asked to wait when the database cannot be reached. */
export const DATABASE_RETRY_AFTER_S = 5;

/**
 * The database is not there (refused, reset, timed out, shutting down, cannot accept connections:
 * SQLSTATE classes 08 and 57P), as opposed to a query that failed: a 503, not a 500.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|ENOTFOUND|EAI_AGAIN)$/.test(code) || /^08[0-9A-Z]{3}$/.test(code) || /^57P0[1-4]$/.test(code))) return true;
  const message = error instanceof Error ? error.message : '';
  return /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED)/i.test(message);
}

const STATUS_CODES: Record<number, ApiErrorCode> = { 401: 'unauthorized', 404: 'not_found', 413: 'payload_too_large', 415: 'unsupported_media_type', 429: 'rate_limited' };

function notFoundBody(request: FastifyRequest) {
  return errorBody('not_found', `No route ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}. The API has GET /health, POST /router/search-by-location, POST /router/delegate, POST /chat and POST /router/feedback.`);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError & { validationContext?: string }, request: FastifyRequest, reply: FastifyReply) => {
    // A path the API does not have is a 404 whatever its body: Fastify parses the body of a
    // not-found request too, and a malformed one would otherwise be answered 422 (found by the fuzz suite).
    if (request.is404 && typeof error.statusCode === 'number' && error.statusCode < 500) return reply.code(404).send(notFoundBody(request));
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).send(errorBody(error.code, error.message, error.fields));
    }
    if (Array.isArray(error.validation)) {
      const fields = fieldsFromValidation(error.validation as AjvLikeError[], error.validationContext);
      return reply.code(422).send(errorBody('validation_failed', summary(fields), fields));
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status === 413) {
      return reply.code(413).send(errorBody('payload_too_large', `The request body is too large (limit ${app.initialConfig.bodyLimit ?? 0} bytes).`));
    }
    if (status === 415) {
      return reply.code(415).send(errorBody('unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.'));
    }
    if (status === 400) {
      // Malformed or empty JSON and similar body problems: the body as a whole is invalid.
      const fields = [{ field: 'body', message: error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'is empty; send a JSON object' : 'is not valid JSON' }];
      return reply.code(422).send(errorBody('validation_failed', summary(fields), fields));
    }
    if (status >= 400 && status < 500) {
      const code = STATUS_CODES[status] ?? 'validation_failed';
      return reply.code(STATUS_CODES[status] ? status : 422).send(errorBody(code, error.message || 'The request was refused.'));
    }
    if (isDatabaseUnreachable(error)) {
      // Issue 14, A12: a database restart or failover is a moment to wait, not a bug: 503 with
      // Retry-After (the outcomes hook still records it as an error event).
      request.log.warn({ err: error, url: request.url, method: request.method }, `[ROUTER] database unreachable in ${request.method} ${request.routeOptions.url ?? request.url}: ${error.message}`);
      return reply.code(503).header('retry-after', String(DATABASE_RETRY_AFTER_S)).send(errorBody('unavailable', `RouterGPT cannot reach its database right now. Try again in ${DATABASE_RETRY_AFTER_S} seconds.`));
    }
    request.log.error({ err: error, url: request.url, method: request.method }, `[ROUTER] unhandled error in ${request.method} ${request.routeOptions.url ?? request.url}: ${error.message}`);
    // The `error` event is recorded by the outcomes hook (plugins/outcomes.ts) for every 5xx of a
    // router route, whoever sent it; a 5xx elsewhere (/health, /openapi.yaml) is not a router
    // request, so it is this log line only.
    return reply.code(500).send(errorBody('internal', `Something went wrong on our side. Please try again; if it keeps happening, report request id ${request.id}.`));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(notFoundBody(request));
  });
}
