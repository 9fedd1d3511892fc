/**
 * The GPT-facing OpenAPI document: the template in openapi/openapi_chatgpt.yaml (shipped with
 * the package), rendered for one environment. Shared by `routergpt openapi build` and the
 * server's GET /openapi.yaml so both publish the same text.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

/** openapi/ sits beside src/ and dist/ in the repository and the package. */
export const OPENAPI_TEMPLATE_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'openapi', 'openapi_chatgpt.yaml');

export interface RenderOpenapiOptions {
  /** The server GPT Actions will call (PUBLIC_API_BASE). Undefined keeps the template's. */
  serverUrl?: string;
  /** Describe the server; e.g. the environment name. */
  serverDescription?: string;
  /** The environment requires the API key: make bearerAuth mandatory instead of optional. */
  requireAuth?: boolean;
  /** Template text (default: read OPENAPI_TEMPLATE_PATH). */
  template?: string;
}

export function readOpenapiTemplate(file = OPENAPI_TEMPLATE_PATH): string {
  return readFileSync(file, 'utf8');
}

/** Render the document as YAML, keeping the template's comments and layout. */
export function renderOpenapi(options: RenderOpenapiOptions = {}): string {
  const doc = YAML.parseDocument(options.template ?? readOpenapiTemplate());
  if (options.serverUrl !== undefined) {
    const url = options.serverUrl.replace(/\/+$/, '');
    // x-internal: false — the API is public (OWASP API9: every server declares its audience).
    doc.setIn(['servers'], doc.createNode([{ url, ...(options.serverDescription ? { description: options.serverDescription } : {}), 'x-internal': false }]));
  }
  if (options.requireAuth) doc.setIn(['security'], doc.createNode([{ bearerAuth: [] }]));
  return doc.toString({ lineWidth: 0 });
}
