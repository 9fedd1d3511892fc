/**
 * YAML parsed once per text, on this machine: a large document (the OpenAPI file, 40 kB) takes
 * 70–90 ms to parse with `yaml` and under 1 ms to read back as JSON. The answer is a function of
 * the text and the parser's version only, so it is kept in memory for the process and on disk under
 * `$XDG_CACHE_HOME/routergpt/yaml/<sha256>.json` (like eslint --cache; everything there can be
 * deleted; the newest 32 entries are kept). Only a document whose value survives JSON unchanged is stored (no `.inf`, no
 * undefined), so reading it back is indistinguishable from parsing. Small texts are parsed as
 * they are: reading a file would cost more than it saves. A text that does not parse throws
 * `yaml`'s own error, as YAML.parse does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import YAML from 'yaml';
import { routergptCacheDir } from './cache-dir.js';

/** Below this many characters a text is parsed directly. */
const MIN_CACHED = 8_000;
const memory = new Map<string, unknown>();
let parserVersion: string | undefined;

function version(): string {
  if (parserVersion === undefined) {
    try {
      const require = createRequire(import.meta.url);
      parserVersion = (JSON.parse(readFileSync(require.resolve('yaml/package.json'), 'utf8')) as { version: string }).version;
    } catch {
      parserVersion = '';
    }
  }
  return parserVersion;
}

/** YAML.parse(text), from the cache when this text was parsed before; each caller gets its own copy. */
export function parseYamlCached(text: string, cacheDir: string = routergptCacheDir()): unknown {
  if (text.length < MIN_CACHED) return YAML.parse(text);
  const hit = memory.get(text);
  if (hit !== undefined) return structuredClone(hit);
  const v = version();
  const key = createHash('sha256').update(`yaml@${v}\0`).update(text).digest('hex');
  const file = path.join(cacheDir, 'yaml', `${key}.json`);
  let value: unknown;
  if (v) {
    try {
      // An entry names the key it was stored under: a file copied or renamed into place is not taken for another text's parse.
      const entry = JSON.parse(readFileSync(file, 'utf8')) as { key?: unknown; value?: unknown };
      if (entry.key === key && entry.value !== undefined) value = entry.value;
    } catch {
      /* not cached yet, or unreadable: parsed below */
    }
  }
  if (value === undefined) {
    value = YAML.parse(text) as unknown;
    const json = JSON.stringify(value);
    if (v && json !== undefined && isDeepStrictEqual(JSON.parse(json), value)) store(file, `{"key":${JSON.stringify(key)},"value":${json}}`);
  }
  if (value !== undefined) memory.set(text, value);
  return structuredClone(value);
}

/** Entries kept: the newest ones (every edit of a document and every served copy is an entry). */
const KEEP = 32;

function store(file: string, json: string): void {
  try {
    const dir = path.dirname(file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Written aside and renamed: a reader never sees half a file.
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, json, { mode: 0o600 });
    renameSync(tmp, file);
    prune(dir);
  } catch {
    /* a cache that cannot be written is only slower */
  }
}

/** The oldest entries beyond KEEP, and temporary files a killed writer left over a minute ago. */
function prune(dir: string): void {
  const now = Date.now();
  const files = readdirSync(dir).flatMap((name) => {
    try {
      return [{ name, mtime: statSync(path.join(dir, name)).mtimeMs }];
    } catch {
      return [];
    }
  });
  const stale = files.filter((f) => f.name.endsWith('.tmp') && now - f.mtime > 60_000);
  const entries = files.filter((f) => f.name.endsWith('.json')).sort((a, b) => b.mtime - a.mtime);
  for (const f of [...stale, ...entries.slice(KEEP)]) rmSync(path.join(dir, f.name), { force: true });
}
