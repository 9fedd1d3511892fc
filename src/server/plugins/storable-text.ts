/**
 * Text PostgreSQL cannot store never reaches it (issue 14, A1). JSON can carry two things no
 * PostgreSQL text or jsonb value holds: a lone UTF-16 surrogate (`"\ud800"`: jsonb refuses the
 * escape with 22P02, and a text column would silently get U+FFFD) and NUL (`"\u0000"`: refused by
 * both). A request body holding either, in any string or key at any depth, is answered 422
 * `validation_failed` naming the field, before validation and before any route runs — one check,
 * at the edge, for every string field of every route, so no route can forget it.
 *
 * Raw UTF-8 bytes cannot produce either (invalid sequences decode to U+FFFD, which is storable);
 * only JSON escapes can, so the parsed body is what is checked. Bodies are bounded (BODY_LIMIT_BYTES)
 * and the walk visits each value once, to MAX_BODY_DEPTH levels.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { errorBody, type FieldProblem } from '../errors.js';

const NUL = '\u0000';
/**
 * No field of this API nests deeper than a few levels; a body nested deeper than this is refused
 * (422) rather than walked: the fuzz suite found a 5,000-deep array overflowing the stack (a 500).
 */
export const MAX_BODY_DEPTH = 32;
const isStorable = (text: string) => (text as string & { isWellFormed(): boolean }).isWellFormed() && !text.includes(NUL);

/** The first string (or key) in `value` that PostgreSQL cannot store, as a field problem. */
export function unstorableText(value: unknown, path = '', depth = 0): FieldProblem | undefined {
  if (depth > MAX_BODY_DEPTH) return { field: path || '(body)', message: `is nested too deeply (more than ${MAX_BODY_DEPTH} levels): no field of this API nests that deep` };
  if (typeof value === 'string') {
    return isStorable(value) ? undefined : { field: path || '(body)', message: 'holds a character PostgreSQL cannot store (a lone UTF-16 surrogate such as \\ud800, or NUL \\u0000): send well-formed Unicode text' };
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = unstorableText(value[i], `${path}[${i}]`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const field = path ? `${path}.${key}` : key;
    if (!isStorable(key)) return { field: path || '(body)', message: 'has a key with a character PostgreSQL cannot store (a lone UTF-16 surrogate or NUL): send well-formed Unicode text' };
    const problem = unstorableText(item, field, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/** Register on the scope whose routes store what they receive (the router routes). */
export function refuseUnstorableText(scope: FastifyInstance): void {
  scope.addHook('preValidation', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const problem = request.body === undefined ? undefined : unstorableText(request.body);
    if (!problem) return done();
    void reply.code(422).send(errorBody('validation_failed', `The request body's ${problem.field} ${problem.message}.`, [problem]));
  });
}
