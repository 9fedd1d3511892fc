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
import { cacheKey, packageVersion, readEntry, sourceHash, writeEntry } from '../lib/disk-cache.js';

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
 * (src/lib/disk-cache.ts, area `openapi-render`; the document holds no secret) and a start with
 * an unchanged template renders nothing. The entry is rendered with a placeholder for the server
 * URL, which is put in afterwards: a local deploy's API listens on a new port each time, and
 * would otherwise render (and store) a document per run.
 */
export function renderOpenapi(options: RenderOpenapiOptions = {}, cacheDir: string = routergptCacheDir()): string {
  const template = options.template ?? readOpenapiTemplate();
  const url = options.serverUrl?.replace(/\/+$/, '');
  const version = packageVersion('yaml');
  // A URL that is a plain YAML scalar as it is goes in place of the placeholder; any other is rendered whole.
  if (!version || (url !== undefined && !PLAIN_URL.test(url))) return render(template, options);
  const shape = { ...options, serverUrl: url === undefined ? undefined : URL_PLACEHOLDER };
  const key = cacheKey('openapi-render/v2', sourceHash(import.meta.url, ['./document']), `yaml@${version}`, JSON.stringify([shape.serverUrl ?? null, options.serverDescription ?? null, Boolean(options.requireAuth)]), template);
  const dir = path.join(cacheDir, 'openapi-render');
  const stored = readEntry(dir, key);
  let text: string;
  if (typeof stored === 'string') text = stored;
  else {
    text = render(template, shape);
    writeEntry(dir, key, JSON.stringify(text), RENDERS_KEPT);
  }
  if (url === undefined) return text;
  const parts = text.split(URL_PLACEHOLDER);
  // The placeholder once, as the servers entry's url: else (a template that happens to hold it) rendered whole.
  return parts.length === 2 ? parts.join(url) : render(template, options);
}

/** Renders kept: one per environment and template edit. */
const RENDERS_KEPT = 16;
const URL_PLACEHOLDER = 'https://routergpt-server-url.invalid';
/** What yaml writes as a plain scalar, unquoted (no ": ", " #", quotes or flow indicators). */
const PLAIN_URL = /^https?:\/\/[A-Za-z0-9._~/%?&=+@-]+(?::[0-9]+)?[A-Za-z0-9._~/%?&=+@-]*$/;

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
