/**
 * A small content-addressed cache on disk, under `$XDG_CACHE_HOME/routergpt/<area>/`: each entry
 * is `<key>.json` holding `{"key": …, "value": …}`, where the key is a hash of everything the
 * value is a function of (the input text and the versions of the code that made it). Everything
 * there can be deleted; the newest `keep` entries of an area are kept. A cache that cannot be
 * read or written is only slower: nothing here throws.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** sha256 of the parts joined by NULs (so ["ab","c"] and ["a","bc"] differ); none but the last may contain one. */
export function cacheKey(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  parts.forEach((part, i) => hash.update(i === 0 ? part : `\0${part}`));
  return hash.digest('hex');
}

const versions = new Map<string, string>();
const requireHere = createRequire(import.meta.url);

/** The package.json of `name` holding its version: `name/package.json`, else the nearest one above its entry point (a package whose exports hide it). */
function readVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(requireHere.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    let dir = path.dirname(requireHere.resolve(name));
    for (let i = 0; i < 6; i += 1) {
      const file = path.join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      }
      dir = path.dirname(dir);
    }
    return '';
  }
}

/** An installed package's version ('' when it cannot be read: then nothing is cached for it). */
export function packageVersion(name: string): string {
  let v = versions.get(name);
  if (v === undefined) {
    try {
      v = readVersion(name);
    } catch {
      v = '';
    }
    versions.set(name, v);
  }
  return v;
}

const sources = new Map<string, string>();

/**
 * A hash of the source of the modules named relative to `moduleUrl`, without extension
 * (`./valid`, `../../openapi/spectral`): the code that makes or reads an entry is part of its
 * key. `.js` in dist/, `.ts` when run from src/. '' when one cannot be read (then nothing is cached).
 */
export function sourceHash(moduleUrl: string, relatives: readonly string[]): string {
  const id = `${moduleUrl}\0${relatives.join('\0')}`;
  let h = sources.get(id);
  if (h === undefined) {
    try {
      const self = fileURLToPath(moduleUrl);
      const ext = path.extname(self);
      const hash = createHash('sha256');
      for (const rel of relatives) hash.update(rel).update('\0').update(readFileSync(path.resolve(path.dirname(self), `${rel}${ext}`))).update('\0');
      h = hash.digest('hex');
    } catch {
      h = '';
    }
    sources.set(id, h);
  }
  return h;
}

/**
 * Is `dir` this user's own, and writable by no one else (not a link)? Only such an area may hold
 * something that is run (response-validators' code): under a shared or group-writable
 * XDG_CACHE_HOME another user could plant an entry. False when it does not exist yet.
 */
export function isPrivateDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** The value stored under `key` in `dir`, or undefined. */
export function readEntry(dir: string, key: string): unknown {
  try {
    // An entry names the key it was stored under: a file copied or renamed into place is not taken for another input's value.
    const entry = JSON.parse(readFileSync(path.join(dir, `${key}.json`), 'utf8')) as { key?: unknown; value?: unknown };
    return entry.key === key ? entry.value : undefined;
  } catch {
    return undefined; // not cached yet, or unreadable
  }
}

/** Forgets the entry stored under `key` in `dir`, if any. */
export function removeEntry(dir: string, key: string): void {
  rmSync(path.join(dir, `${key}.json`), { force: true });
}

/** Stores `valueJson` (a JSON text) under `key` in `dir`, then prunes the area to its newest `keep` entries. */
export function writeEntry(dir: string, key: string, valueJson: string, keep: number): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${key}.json`);
    // Written aside and renamed: a reader never sees half a file.
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `{"key":${JSON.stringify(key)},"value":${valueJson}}`, { mode: 0o600 });
    renameSync(tmp, file);
    prune(dir, keep);
  } catch {
    /* a cache that cannot be written is only slower */
  }
}

/** The oldest entries beyond `keep`, and temporary files a killed writer left over a minute ago. */
function prune(dir: string, keep: number): void {
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
  for (const f of [...stale, ...entries.slice(keep)]) rmSync(path.join(dir, f.name), { force: true });
}
