/**
 * YAML parsed once per text, on this machine: a large document (the OpenAPI file, 40 kB) takes
 * 70–90 ms to parse with `yaml` and under 1 ms to read back as JSON. The answer is a function of
 * the text and the parser's version only, so it is kept in memory for the process and on disk under
 * `$XDG_CACHE_HOME/routergpt/yaml/<sha256>.json` (like eslint --cache; everything there can be
 * deleted; the newest 32 entries are kept). Only a document whose value survives JSON unchanged is stored (no `.inf`, no
 * undefined), so reading it back is indistinguishable from parsing. Small texts are parsed as
 * they are once yaml is loaded: reading a file would then cost more than it saves. A caller whose
 * text may hold a credential (the configuration file: a literal database URL) says which parsed
 * values may be stored (`storable`); any other is parsed every time and never written. A text that
 * does not parse throws `yaml`'s own error, as YAML.parse does.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type YAMLModule from 'yaml';
import { routergptCacheDir } from './cache-dir.js';
import { cacheKey, packageVersion, readEntry, removeEntry, writeEntry } from './disk-cache.js';

/** Below this many characters a text is parsed directly. */
const MIN_CACHED = 8_000;
/** Entries kept: the newest ones (every edit of a document and every served copy is an entry). */
const KEEP = 32;
const memory = new Map<string, unknown>();

/** `yaml`, loaded on the first parse (72 modules, ≈ 55 ms): a run whose documents are all cached never loads it. */
let yaml: typeof YAMLModule | undefined;
function parse(text: string): unknown {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof YAMLModule;
  return yaml.parse(text) as unknown;
}

export interface YamlCacheOptions {
  /** Which parsed values may be written to the disk cache (default: all). */
  storable?: (value: unknown) => boolean;
}

/** YAML.parse(text), from the cache when this text was parsed before; each caller gets its own copy. */
export function parseYamlCached(text: string, cacheDir: string = routergptCacheDir(), options: YamlCacheOptions = {}): unknown {
  // A small text is parsed as it is once the parser is loaded; before, reading the stored parse
  // costs less than loading yaml (a deploy's checklist, ≈ 3 kB, was its only YAML).
  if (text.length < MIN_CACHED && yaml !== undefined) return parse(text);
  const storable = options.storable ?? (() => true);
  const hit = memory.get(text);
  if (hit !== undefined) return structuredClone(hit);
  const v = packageVersion('yaml');
  const key = cacheKey(`yaml@${v}`, text);
  const dir = path.join(cacheDir, 'yaml');
  let value = v ? readEntry(dir, key) : undefined;
  // A stored value the caller would not store now (an older, laxer rule wrote it) is dropped, not served.
  if (value !== undefined && !storable(value)) {
    removeEntry(dir, key);
    value = undefined;
  }
  if (value === undefined) {
    value = parse(text);
    if (!storable(value)) return value;
    const json = JSON.stringify(value);
    if (v && json !== undefined && isDeepStrictEqual(JSON.parse(json), value)) writeEntry(dir, key, json, KEEP);
  }
  if (value !== undefined) memory.set(text, value);
  return structuredClone(value);
}
