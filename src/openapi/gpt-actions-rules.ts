/**
 * GPT Actions' rules for an OpenAPI document, as small named pure functions over the parsed
 * (not dereferenced) document (STYLE.md §6, §8). Used by `routergpt openapi validate` and, later,
 * by the `verify` checks. Limits from OpenAI's "Production notes on GPT Actions": 300 characters
 * for an endpoint's summary/description, 700 for a parameter description; TLS on 443.
 */

export const GPT_ACTIONS_LIMITS = { summary: 300, description: 300, parameterDescription: 700 } as const;
export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface RuleOutcome {
  id: string;
  title: string;
  status: 'pass' | 'fail';
  /** One line per problem, each naming where it is ("POST /chat: …"). */
  problems: string[];
  /** Advice that does not fail the rule (Spectral warnings), one line each. */
  warnings?: string[];
}

export interface Operation {
  method: string;
  path: string;
  op: Record<string, unknown>;
  label: string;
}

type Doc = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function listOperations(doc: Doc): Operation[] {
  const paths = isObject(doc.paths) ? doc.paths : {};
  const ops: Operation[] = [];
  for (const [p, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (isObject(op)) ops.push({ method, path: p, op, label: `${method.toUpperCase()} ${p}` });
    }
  }
  return ops;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** http:// is acceptable only for a loopback server (the local template); everything else must be https. */
export function isAcceptableServerUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'https:') return true;
  return parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname);
}

interface Rule {
  id: string;
  title: string;
  check(doc: Doc, ops: Operation[]): string[];
}

/** Every `description` of a parameter, or of a request-body property, with where it is. */
function parameterDescriptions(doc: Doc, ops: Operation[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const schemas = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
  const resolve = (s: unknown): unknown => {
    if (isObject(s) && typeof s.$ref === 'string') {
      const name = s.$ref.replace('#/components/schemas/', '');
      return schemas[name];
    }
    return s;
  };
  for (const { op, label } of ops) {
    for (const param of Array.isArray(op.parameters) ? op.parameters : []) {
      if (isObject(param) && typeof param.description === 'string') out.push([`${label} parameter ${String(param.name)}`, param.description]);
    }
    const content = isObject(op.requestBody) && isObject(op.requestBody.content) ? op.requestBody.content : {};
    for (const media of Object.values(content)) {
      const schema = resolve(isObject(media) ? media.schema : undefined);
      const props = isObject(schema) && isObject(schema.properties) ? schema.properties : {};
      for (const [name, prop] of Object.entries(props)) {
        if (isObject(prop) && typeof prop.description === 'string') out.push([`${label} body field ${name}`, prop.description]);
      }
    }
  }
  return out;
}

export const GPT_ACTIONS_RULES: readonly Rule[] = [
  {
    id: 'openapi-version',
    title: 'OpenAPI 3.0 or 3.1 (what GPT Actions import)',
    check: (doc) => (typeof doc.openapi === 'string' && /^3\.[01]\.\d+$/.test(doc.openapi) ? [] : [`openapi is ${JSON.stringify(doc.openapi)}; use 3.1.0 (or 3.0.x)`]),
  },
  {
    id: 'single-server',
    title: 'exactly one server, https (http only for loopback)',
    check: (doc) => {
      const servers = Array.isArray(doc.servers) ? doc.servers : [];
      if (servers.length !== 1) return [`servers has ${servers.length} entries; GPT Actions call exactly one: list only the environment's PUBLIC_API_BASE`];
      const url = isObject(servers[0]) ? servers[0].url : undefined;
      if (typeof url !== 'string') return ['servers[0].url is missing'];
      return isAcceptableServerUrl(url) ? [] : [`servers[0].url ${url} is not https; GPT Actions need TLS on 443 (run \`routergpt openapi build --env <env>\` with an https PUBLIC_API_BASE)`];
    },
  },
  {
    id: 'operation-ids',
    title: 'every operation has a unique operationId',
    check: (_doc, ops) => {
      const problems: string[] = [];
      const seen = new Map<string, string>();
      for (const { op, label } of ops) {
        const id = op.operationId;
        if (typeof id !== 'string' || id === '') problems.push(`${label}: no operationId`);
        else if (seen.has(id)) problems.push(`${label}: operationId ${id} is also used by ${seen.get(id)}`);
        else seen.set(id, label);
      }
      return problems;
    },
  },
  {
    id: 'summary-length',
    title: `every operation has a summary of at most ${GPT_ACTIONS_LIMITS.summary} characters`,
    check: (_doc, ops) =>
      ops.flatMap(({ op, label }) =>
        typeof op.summary !== 'string' || op.summary.trim() === ''
          ? [`${label}: no summary`]
          : op.summary.length > GPT_ACTIONS_LIMITS.summary
            ? [`${label}: summary is ${op.summary.length} characters (max ${GPT_ACTIONS_LIMITS.summary})`]
            : [],
      ),
  },
  {
    id: 'description-length',
    title: `operation descriptions are at most ${GPT_ACTIONS_LIMITS.description} characters`,
    check: (_doc, ops) =>
      ops.flatMap(({ op, label }) =>
        typeof op.description === 'string' && op.description.length > GPT_ACTIONS_LIMITS.description
          ? [`${label}: description is ${op.description.length} characters (max ${GPT_ACTIONS_LIMITS.description})`]
          : [],
      ),
  },
  {
    id: 'parameter-description-length',
    title: `parameter and body-field descriptions are at most ${GPT_ACTIONS_LIMITS.parameterDescription} characters`,
    check: (doc, ops) =>
      parameterDescriptions(doc, ops).flatMap(([where, text]) =>
        text.length > GPT_ACTIONS_LIMITS.parameterDescription ? [`${where}: description is ${text.length} characters (max ${GPT_ACTIONS_LIMITS.parameterDescription})`] : [],
      ),
  },
  {
    id: 'is-consequential',
    title: 'every operation sets x-openai-isConsequential deliberately (true or false)',
    check: (_doc, ops) =>
      ops.flatMap(({ op, label }) => (typeof op['x-openai-isConsequential'] === 'boolean' ? [] : [`${label}: x-openai-isConsequential is not set to true or false`])),
  },
];

/** Run every rule; each reports pass/fail with all its problems. */
export function checkGptActionsRules(doc: unknown): RuleOutcome[] {
  const d = isObject(doc) ? doc : {};
  const ops = listOperations(d);
  return GPT_ACTIONS_RULES.map((rule) => {
    const problems = rule.check(d, ops);
    return { id: rule.id, title: rule.title, status: problems.length === 0 ? 'pass' : 'fail', problems };
  });
}
