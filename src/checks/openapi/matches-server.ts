import { listOperations, type Operation } from '../../openapi/gpt-actions-rules.js';
import { brief, withApiClient, type ApiResponse } from '../api/http.js';
import { defineCheck, fail, pass, warn } from '../define-check.js';
import { readDocument } from './document.js';
import { loadResponseContract, type ResponseContract } from './response-validators.js';
import { parseYamlCached } from '../../lib/yaml-cache.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking a dereferenced OpenAPI document
type Json = Record<string, any>;

/** Values learnt from earlier responses, so later documented examples talk about real things. */
interface Learnt {
  shop_slug?: string;
  search_id?: string;
  session_id?: string;
}

function learn(into: Learnt, body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const b = body as Json;
  if (typeof b.search_id === 'string') into.search_id = b.search_id;
  if (Array.isArray(b.results) && typeof b.results[0]?.slug === 'string') into.shop_slug = b.results[0].slug;
  if (typeof b.session_id === 'string') into.session_id = b.session_id;
}

function exampleOf(op: Json): unknown {
  const media = op.requestBody?.content?.['application/json'];
  if (!media) return undefined;
  if (media.example !== undefined) return media.example;
  const first = Object.values((media.examples ?? {}) as Json)[0] as Json | undefined;
  return first?.value;
}

/** The documented example, with ids learnt from earlier answers; a consequential call gets a harmless message. */
function requestBody(op: Json, learnt: Learnt): unknown {
  const example = exampleOf(op);
  if (typeof example !== 'object' || example === null) return example;
  const body: Json = { ...(example as Json) };
  for (const key of ['shop_slug', 'search_id', 'session_id'] as const) if (key in body && learnt[key]) body[key] = learnt[key];
  if (op['x-openai-isConsequential'] === true && typeof body.message === 'string') body.message = 'What services do you offer?';
  if ('idempotency_key' in body) delete body.idempotency_key;
  return body;
}

/** Everything about one exchange that differs from the document. */
function conformance(contract: ResponseContract, o: Operation, res: ApiResponse): string[] {
  const op = o.op as Json;
  const response = op.responses?.[String(res.status)] as Json | undefined;
  if (!response) return [`${o.label} answered ${res.status}, which the document does not list: ${brief(res)}`];
  const problems: string[] = [];
  const types = Object.keys(response.content ?? {});
  const contentType = res.headers.get('content-type') ?? '';
  if (types.length > 0 && !types.some((t) => contentType.startsWith(t))) problems.push(`${o.label} ${res.status}: content-type ${contentType || '(none)'}, documented ${types.join(', ')}`);
  const mismatch = types[0] ? contract.mismatch(o.method, o.path, String(res.status), types[0], res.json) : null;
  if (mismatch) problems.push(`${o.label} ${res.status}: body does not match the documented schema: ${mismatch}`);
  for (const name of Object.keys(response.headers ?? {})) {
    // Only a header the document marks required must be there (CORS headers come only for an allowed Origin).
    if (response.headers[name]?.required === true && res.headers.get(name) === null) problems.push(`${o.label} ${res.status}: documented header ${name} is missing`);
  }
  return problems;
}

const opKey = (o: Operation) => `${o.method.toUpperCase()} ${o.path}`;

/**
 * The checklist's "All endpoints documented" from both sides. Documented → server: every
 * operation is called with its documented example (ids taken from earlier answers) and the
 * answer must be a documented status, content type, body schema and headers. Server →
 * documented: the server publishes its own document at GET /openapi.yaml, generated from the
 * routes it serves; its operations must be exactly the file's.
 */
export default defineCheck({
  id: 'openapi.matches-server',
  title: 'Every endpoint answers as documented, every route documented',
  needs: ['api', 'openapi-file'],
  stages: ['post'],
  slow: true,
  async run(deps) {
    const read = await readDocument(deps.openapiFile!);
    if (typeof read === 'string') return fail(read, { hint: 'See openapi.valid.' });
    const contract = await loadResponseContract(read.doc);
    if (typeof contract === 'string') return fail(contract, { hint: 'See openapi.valid.' });
    const ops = listOperations(contract.doc);
    return withApiClient(deps, async (api) => {
      const problems: string[] = [];
      const notes: string[] = [];
      const learnt: Learnt = {};
      for (const o of ops) {
        const op = o.op as Json;
        const body = requestBody(op, learnt);
        const res = await api.request(o.path, { method: o.method.toUpperCase(), body });
        learn(learnt, res.json);
        problems.push(...conformance(contract, o, res));
        const success = Object.keys(op.responses ?? {}).find((s) => s.startsWith('2'));
        if (success && String(res.status) !== success) notes.push(`${o.label}: answered ${res.status}, not the documented success ${success} — ${brief(res)}`);
        else notes.push(`${o.label}: ${res.status} as documented`);
      }
      // Server → documented.
      const served = await api.get('/openapi.yaml', { headers: { accept: 'application/yaml' } });
      let routes = 'the server does not publish GET /openapi.yaml, so its routes cannot be compared with the document';
      let routesKnown = false;
      if (served.status === 200) {
        try {
          const theirs = listOperations(parseYamlCached(served.text) as Json).map(opKey).sort();
          const ours = ops.map(opKey).sort();
          const undocumented = theirs.filter((k) => !ours.includes(k));
          const missing = ours.filter((k) => !theirs.includes(k));
          for (const k of undocumented) problems.push(`the server serves ${k}, which ${deps.openapiFile} does not document`);
          for (const k of missing) problems.push(`${deps.openapiFile} documents ${k}, which the server does not list`);
          routes = `the server's own document lists the same ${theirs.length} operations`;
          routesKnown = true;
        } catch (error) {
          problems.push(`GET /openapi.yaml is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
        }
      }
      const unexercised = notes.filter((n) => !n.endsWith('as documented'));
      const details = [...problems, ...notes, routes];
      if (problems.length > 0) return fail(`${problems.length} difference(s) between the server and the document`, { details, hint: 'Change the server or openapi/openapi_chatgpt.yaml so they agree (the schemas live in src/server/schemas.ts), then `routergpt openapi build`.' });
      if (unexercised.length > 0 || !routesKnown) {
        return warn(`answers conform, but ${[unexercised.length > 0 ? `${unexercised.length} success path(s) not exercised` : '', routesKnown ? '' : 'server routes not listed'].filter(Boolean).join(' and ')}`, {
          details,
          hint: routesKnown ? 'The examples need real data: make sure the documented search example finds a shop.' : 'Serve GET /openapi.yaml from the app so the document can be compared with the routes.',
        });
      }
      return pass(`${ops.length} documented operations answer as documented; ${routes}`, { details });
    });
  },
});
