import path from 'node:path';
import { checkGptActionsRules } from '../../openapi/gpt-actions-rules.js';
import { defineCheck, fail, pass, type CheckDeps } from '../define-check.js';
import { readDocument } from './document.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const norm = (url: string) => url.replace(/\/+$/, '');

/** The environment-specific rules: the server is PUBLIC_API_BASE over https, auth declared when required. */
export function environmentProblems(doc: Record<string, unknown>, deps: Pick<CheckDeps, 'config'>): { problems: string[]; notes: string[] } {
  const { config } = deps;
  const problems: string[] = [];
  const notes: string[] = [];
  const servers = Array.isArray(doc.servers) ? doc.servers : [];
  const url = isObject(servers[0]) && typeof servers[0].url === 'string' ? servers[0].url : undefined;
  const base = config.publicApiBase.value;
  if (config.name === 'local') {
    // Local documents point at a loopback http server; the https rule does not apply.
    notes.push(`local: server ${String(url)} (https not required)`);
  } else if (!base) {
    problems.push('PUBLIC_API_BASE is not set, so the document cannot be checked against it');
  } else {
    if (!url || norm(url) !== norm(base)) problems.push(`servers[0].url is ${String(url)}, expected PUBLIC_API_BASE ${base}`);
    if (!base.startsWith('https://')) problems.push(`PUBLIC_API_BASE ${base} is not https; GPT Actions need TLS on 443`);
  }
  if (config.apiKey.value) {
    const schemes = isObject(doc.components) && isObject(doc.components.securitySchemes) ? doc.components.securitySchemes : {};
    const bearer = Object.entries(schemes).find(([, s]) => isObject(s) && s.type === 'http' && String(s.scheme).toLowerCase() === 'bearer')?.[0];
    const security = Array.isArray(doc.security) ? doc.security : [];
    if (!bearer) problems.push('the environment requires the API key (ROUTERGPT_API_KEY) but no bearer security scheme is declared');
    else if (security.length === 0 || security.some((req) => isObject(req) && Object.keys(req).length === 0)) {
      problems.push(`the environment requires the API key but the document makes auth optional (security: ${JSON.stringify(doc.security ?? null)})`);
    }
  } else notes.push('no API key in this environment: a public API');
  return { problems, notes };
}

export default defineCheck({
  id: 'openapi.gpt-actions',
  title: 'OpenAPI document meets GPT Actions rules',
  needs: ['openapi-file'],
  stages: ['pre'],
  async run(deps) {
    const file = deps.openapiFile!;
    const read = await readDocument(file);
    const build = `\`routergpt openapi build --env ${deps.config.name}\``;
    if (typeof read === 'string') return fail(read, { hint: `Regenerate it with ${build}.` });
    const rules = checkGptActionsRules(read.doc);
    const env = environmentProblems(read.doc, deps);
    const problems = [...rules.flatMap((r) => r.problems.map((p) => `${r.id}: ${p}`)), ...env.problems.map((p) => `environment: ${p}`)];
    if (problems.length > 0) {
      return fail(`${path.basename(file)}: ${problems.length} GPT Actions problem(s)`, {
        details: problems,
        hint: `Fix openapi/openapi_chatgpt.yaml (summaries ≤ 300 characters, operationId and x-openai-isConsequential on every operation), then ${build} with the environment's PUBLIC_API_BASE / ROUTERGPT_API_KEY.`,
      });
    }
    return pass(`${path.basename(file)}: ${rules.length} GPT Actions rules pass${env.notes.length ? `; ${env.notes.join('; ')}` : ''}`, { details: [...rules.map((r) => `✔ ${r.title}`), ...env.notes] });
  },
});
