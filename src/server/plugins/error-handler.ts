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

const STATUS_CODES: Record<number, ApiErrorCode> = { 401: 'unauthorized', 404: 'not_found', 413: 'payload_too_large', 415: 'unsupported_media_type', 429: 'rate_limited' };

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError & { validationContext?: string }, request: FastifyRequest, reply: FastifyReply) => {
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
    request.log.error({ err: error, url: request.url, method: request.method }, `[ROUTER] unhandled error in ${request.method} ${request.routeOptions.url ?? request.url}: ${error.message}`);
    // The `error` event is recorded by the outcomes hook (plugins/outcomes.ts) for every 5xx of a
    // router route, whoever sent it; a 5xx elsewhere (/health, /openapi.yaml) is not a router
    // request, so it is this log line only.
    return reply.code(500).send(errorBody('internal', `Something went wrong on our side. Please try again; if it keeps happening, report request id ${request.id}.`));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('not_found', `No route ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}. The API has GET /health, POST /router/search-by-location, POST /router/delegate, POST /chat and POST /router/feedback.`));
  });
}
