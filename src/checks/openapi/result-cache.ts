import { createHash } from 'node:crypto';
import path from 'node:path';
import { routergptCacheDir } from '../../lib/cache-dir.js';
import { cacheKey, packageVersion, readEntry, sourceHash, writeEntry } from '../../lib/disk-cache.js';
import type { CheckResult } from '../define-check.js';

/**
 * openapi.valid's answer, kept by what it is a function of: the document's exact text and path,
 * the code that checks it (its own modules and the ruleset, by content) and the installed
 * versions of Spectral and swagger-parser. Validating compiles the OpenAPI meta-schema and every
 * Spectral rule — the largest CPU cost of `verify` and of a deploy's gate — and gives the same
 * answer for the same inputs, so a run whose document, code and dependencies are unchanged reuses
 * the last answer (like eslint --cache). A document with a $ref outside itself is never cached
 * (swagger-parser may read the file it names). An entry that does not parse or whose key differs
 * is ignored and replaced. Under `$XDG_CACHE_HOME/routergpt/checks/openapi-valid/`.
 */

const CODE = ['./valid', './document', './result-cache', '../define-check', '../../openapi/spectral', '../../openapi/spectral-ruleset', '../../openapi/gpt-actions-rules'];
const PACKAGES = ['@apidevtools/swagger-parser', '@stoplight/spectral-core', '@stoplight/spectral-functions', '@stoplight/spectral-owasp-ruleset', '@stoplight/spectral-parsers', '@stoplight/spectral-ref-resolver', '@stoplight/spectral-rulesets', 'ajv'];
const KEEP = 64;

let codeKey: string | null | undefined;

/** The checking code and its dependencies, by content; null when any cannot be read (then nothing is cached). */
function code(): string | null {
  if (codeKey !== undefined) return codeKey;
  const source = sourceHash(import.meta.url, CODE);
  const packages = PACKAGES.map((name) => `${name}@${packageVersion(name)}`);
  codeKey = source && !packages.some((p) => p.endsWith('@')) ? cacheKey(process.version, source, ...packages) : null;
  return codeKey;
}

function keyFor(file: string, text: string): string | undefined {
  // A $ref to anything but this document ('#…') may make the answer depend on another file.
  for (const m of text.matchAll(/\$ref["']?\s*:\s*["']?([^"'\s,}]*)/g)) if (!m[1]!.startsWith('#')) return undefined;
  const c = code();
  return c ? createHash('sha256').update(c).update('\0').update(path.resolve(file)).update('\0').update(text).digest('hex') : undefined;
}

const dirOf = (cacheDir: string) => path.join(cacheDir, 'checks', 'openapi-valid');

export function cachedResult(file: string, text: string, cacheDir = routergptCacheDir()): { key?: string; result?: CheckResult } {
  const key = keyFor(file, text);
  if (!key) return {};
  const result = readEntry(dirOf(cacheDir), key) as CheckResult | undefined;
  // An entry that is not a result is computed again (and replaced).
  if (result && typeof result.status === 'string' && typeof result.summary === 'string') return { key, result };
  return { key };
}

export function storeResult(key: string, result: CheckResult, cacheDir = routergptCacheDir()): void {
  writeEntry(dirOf(cacheDir), key, JSON.stringify(result), KEEP);
}
