/**
 * The GPT-facing OpenAPI document: the template in openapi/openapi_chatgpt.yaml (shipped with
 * the package), rendered for one environment. Shared by `routergpt openapi build` and the
 * server's GET /openapi.yaml so both publish the same text.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type YAMLModule from 'yaml';
import { routergptCacheDir } from '../lib/cache-dir.js';
import { cacheKey, packageVersion, readEntry, writeEntry } from '../lib/disk-cache.js';

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

/**
 * Render the document as YAML, keeping the template's comments and layout. Rendering (yaml's
 * parseDocument and toString, and loading yaml: ≈ 250 ms) was most of a server's start-up — every
 * `serve`, every deploy's in-process API, every host of a rolling deploy. The text is a function
 * of the template, the options and yaml's version only, so it is kept in the disk cache
 * (src/lib/disk-cache.ts, area `openapi-render`; the document holds no secret, only the public
 * server URL) and a start with an unchanged template renders nothing.
 */
export function renderOpenapi(options: RenderOpenapiOptions = {}, cacheDir: string = routergptCacheDir()): string {
  const template = options.template ?? readOpenapiTemplate();
  const version = packageVersion('yaml');
  const key = cacheKey('openapi-render/v1', `yaml@${version}`, JSON.stringify([options.serverUrl ?? null, options.serverDescription ?? null, Boolean(options.requireAuth)]), template);
  const dir = path.join(cacheDir, 'openapi-render');
  const hit = version ? readEntry(dir, key) : undefined;
  if (typeof hit === 'string') return hit;
  const text = render(template, options);
  if (version) writeEntry(dir, key, JSON.stringify(text), RENDERS_KEPT);
  return text;
}

/** Renders kept: one per environment and template edit. */
const RENDERS_KEPT = 16;

function render(template: string, options: RenderOpenapiOptions): string {
  const YAML = createRequire(import.meta.url)('yaml') as typeof YAMLModule;
  const doc = YAML.parseDocument(template);
  if (options.serverUrl !== undefined) {
    const url = options.serverUrl.replace(/\/+$/, '');
    // x-internal: false — the API is public (OWASP API9: every server declares its audience).
    doc.setIn(['servers'], doc.createNode([{ url, ...(options.serverDescription ? { description: options.serverDescription } : {}), 'x-internal': false }]));
  }
  if (options.requireAuth) doc.setIn(['security'], doc.createNode([{ bearerAuth: [] }]));
  return doc.toString({ lineWidth: 0 });
}
