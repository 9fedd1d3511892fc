import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { routergptCacheDir } from '../lib/cache-dir.js';
import { isProcessAlive } from '../lib/process-alive.js';

/**
 * A ready PGlite data directory, made once and copied into every fresh embedded state instead of
 * running initdb there (initdb is most of a fresh `deploy --yes` on the embedded database).
 *
 * The template is what initdb leaves — an empty cluster, none of our migrations in it — so a
 * state seeded from it is exactly a state that ran initdb itself: `migrate up` and `deploy`
 * behave as on any fresh state. It lives under `$XDG_CACHE_HOME/routergpt` (default
 * `~/.cache/routergpt`), in a directory named for the PGlite version and this format, with a
 * manifest of every file's size and SHA-256 written last. Using it verifies each file against
 * the manifest as it is copied; a template that is missing, of another PGlite, or whose files do
 * not match is removed and made again, never trusted. The template itself is never opened by a
 * running state: each state gets its own copy.
 *
 * A variant is a template made differently from the plain one (embedded-premigrated.ts: the
 * cluster with the current migration set applied), in its own directory named for its id, with
 * the id in its manifest; it is verified the same way, and when it cannot be used the plain
 * template is used instead.
 */

/** Bump when what the template holds (or how it is made) changes. */
const FORMAT = 1;
const MANIFEST = 'routergpt-template.json';

interface Manifest {
  format: number;
  pglite: string;
  /** The variant's id (absent for the plain template). */
  variant?: string;
  pgVersion: string;
  createdAt: string;
  files: Record<string, { size: number; sha256: string }>;
}

export type SeedResult = { seeded: 'copied' | 'rebuilt' | 'created'; templateDir: string; variant?: string } | { seeded: 'unavailable'; reason: string };

/** A template made another way than by initdb alone; see the module comment. */
export interface TemplateVariant {
  /** Names the variant's directory and is checked in its manifest: say what it holds (lowercase letters, digits, dashes). */
  id: string;
  /** Ids of this variant's family (same prefix, e.g. `m-`) that other ones replace: an older one is removed once a new one is installed. */
  family?: string;
  /** Make the data directory `pgdata` (which does not exist yet) and leave it closed cleanly; `cacheDir` holds the plain template it may start from. */
  build(pgdata: string, cacheDir: string): Promise<void>;
}

function pgliteVersion(): string {
  const require = createRequire(import.meta.url);
  // The package's exports do not list package.json: read it next to the resolved entry point.
  let dir = path.dirname(require.resolve('@electric-sql/pglite'));
  for (let i = 0; i < 4; i += 1) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version;
    }
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the version of @electric-sql/pglite');
}

export { routergptCacheDir };

export function templateDirFor(cacheDir: string, version = pgliteVersion(), variant?: string): string {
  return path.join(cacheDir, 'pglite', `pgdata-${version}-f${FORMAT}${variant ? `-${variant}` : ''}`);
}

function listFiles(root: string, rel = ''): string[] {
  return readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((e) => {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) return [child + '/', ...listFiles(root, child)];
    return e.isFile() ? [child] : [];
  });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Read the manifest if it is ours, for this PGlite and this variant (none: the plain template); undefined otherwise. */
function readManifest(templateDir: string, version: string, variant?: string): Manifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(path.join(templateDir, MANIFEST), 'utf8')) as Manifest;
    if (manifest.format !== FORMAT || manifest.pglite !== version || manifest.variant !== variant || typeof manifest.files !== 'object' || !manifest.files.PG_VERSION) return undefined;
    return manifest;
  } catch {
    return undefined;
  }
}

/**
 * Copy the template into `dest` (which must not exist), checking every file against the
 * manifest on the way. Throws on any mismatch; `dest` is then removed.
 */
/** The template is not what its manifest says: the one failure that condemns the shared template. */
class TemplateMismatch extends Error {}

function copyVerified(templateDir: string, manifest: Manifest, dest: string): void {
  const expected = new Set(Object.keys(manifest.files));
  const tmp = `${dest}.seeding-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    mkdirSync(tmp, { recursive: true, mode: 0o700 });
    for (const rel of listFiles(path.join(templateDir, 'pgdata'))) {
      if (rel.endsWith('/')) {
        mkdirSync(path.join(tmp, rel), { recursive: true, mode: 0o700 });
        continue;
      }
      const want = manifest.files[rel];
      if (!want) throw new TemplateMismatch(`unexpected file ${rel}`);
      const data = readFileSync(path.join(templateDir, 'pgdata', rel));
      if (data.length !== want.size || sha256(data) !== want.sha256) throw new TemplateMismatch(`${rel} does not match the manifest`);
      writeFileSync(path.join(tmp, rel), data, { mode: 0o600 });
      expected.delete(rel);
    }
    if (expected.size > 0) throw new TemplateMismatch(`missing ${[...expected][0]}`);
    renameSync(tmp, dest);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** initdb: PGlite.create on an empty directory, closed cleanly. */
async function initdb(pgdata: string): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create({ dataDir: pgdata });
  await db.close();
}

/**
 * The build directories of builders that died (SIGKILL, a crash) before renaming or removing
 * them: `<template>.building-<pid>-<hex>` of a pid no longer running. A live builder's is left.
 */
export function sweepAbandonedBuilds(dir: string): string[] {
  const swept: string[] = [];
  try {
    for (const name of readdirSync(dir)) {
      const m = /\.building-(\d+)-[0-9a-f]+$/.exec(name);
      if (!m || Number(m[1]) === process.pid || isProcessAlive(Number(m[1]))) continue;
      rmSync(path.join(dir, name), { recursive: true, force: true });
      swept.push(name);
    }
  } catch {
    /* only housekeeping */
  }
  return swept;
}

/** Make a template (`make` fills the data directory) in a private directory, its manifest last, then renamed into place. */
async function buildTemplate(templateDir: string, version: string, make: (pgdata: string) => Promise<void>, variant?: string): Promise<void> {
  sweepAbandonedBuilds(path.dirname(templateDir));
  const building = `${templateDir}.building-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    mkdirSync(building, { recursive: true, mode: 0o700 });
    await make(path.join(building, 'pgdata'));
    const root = path.join(building, 'pgdata');
    const files: Manifest['files'] = {};
    for (const rel of listFiles(root)) {
      if (rel.endsWith('/')) continue;
      const data = readFileSync(path.join(root, rel));
      files[rel] = { size: data.length, sha256: sha256(data) };
    }
    const manifest: Manifest = { format: FORMAT, pglite: version, ...(variant ? { variant } : {}), pgVersion: readFileSync(path.join(root, 'PG_VERSION'), 'utf8').trim(), createdAt: new Date().toISOString(), files };
    writeFileSync(path.join(building, MANIFEST), `${JSON.stringify(manifest)}\n`, { mode: 0o600 });
    // Rename first: a template another process finished meanwhile is as good as ours, and removing
    // it first could pull it from under a third process copying it. Only a rejected one is replaced.
    const taken = (error: unknown) => ['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '');
    try {
      renameSync(building, templateDir);
    } catch (error) {
      if (!taken(error)) throw error;
      if (!readManifest(templateDir, version, variant)) {
        rmSync(templateDir, { recursive: true, force: true });
        try {
          renameSync(building, templateDir);
        } catch (again) {
          if (!taken(again)) throw again;
        }
      }
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

function isFresh(pgdata: string): boolean {
  if (!existsSync(pgdata)) return true;
  return statSync(pgdata).isDirectory() && readdirSync(pgdata).length === 0;
}

/**
 * Give a fresh embedded state (no data directory yet at `pgdata`) its data directory from the
 * template, making the template first when there is none or it does not verify. Leaves an
 * existing data directory alone. Never fails the caller: when the cache cannot be used (a
 * read-only home, a full disk) it says why and PGlite runs initdb in place as before. With a
 * variant, its template is tried first; when it cannot be made or used, the plain one is.
 */
export async function seedFromTemplate(pgdata: string, cacheDir: string = routergptCacheDir(), variant?: TemplateVariant): Promise<SeedResult | undefined> {
  if (!isFresh(pgdata)) return undefined;
  let version: string;
  try {
    version = pgliteVersion();
  } catch (error) {
    return { seeded: 'unavailable', reason: (error as Error).message };
  }
  if (variant) {
    const templateDir = templateDirFor(cacheDir, version, variant.id);
    const seeded = await seedFrom(pgdata, version, templateDir, (dir) => variant.build(dir, cacheDir), variant.id);
    if (seeded.seeded !== 'unavailable') {
      if (seeded.seeded !== 'copied' && variant.family) removeOlder(cacheDir, version, variant);
      return { ...seeded, variant: variant.id };
    }
  }
  return seedFrom(pgdata, version, templateDirFor(cacheDir, version), initdb);
}

async function seedFrom(pgdata: string, version: string, templateDir: string, make: (pgdata: string) => Promise<void>, variant?: string): Promise<SeedResult> {
  try {
    // 'created': there was none; 'rebuilt': there was one, but of another PGlite or format, or corrupt.
    let made: 'created' | 'rebuilt' | undefined;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      let manifest = readManifest(templateDir, version, variant);
      if (!manifest) {
        made ??= existsSync(templateDir) ? 'rebuilt' : 'created';
        await buildTemplate(templateDir, version, make, variant);
        manifest = readManifest(templateDir, version, variant);
        if (!manifest) return { seeded: 'unavailable', reason: `the template in ${templateDir} could not be made` };
      }
      try {
        if (existsSync(pgdata)) rmSync(pgdata, { recursive: true, force: true }); // the empty directory
        copyVerified(templateDir, manifest, pgdata);
        return { seeded: made ?? 'copied', templateDir };
      } catch (error) {
        // Any other failure (no room in the destination, a file removed mid-copy by a rebuild
        // elsewhere) is this copy's, not the template's: the caller runs initdb in place.
        if (!(error instanceof TemplateMismatch)) throw error;
        // Corrupt or tampered with: never trusted. Remove it and make it again (once).
        rmSync(templateDir, { recursive: true, force: true });
        made = 'rebuilt';
      }
    }
    return { seeded: 'unavailable', reason: `the template in ${templateDir} does not verify` };
  } catch (error) {
    return { seeded: 'unavailable', reason: (error as Error).message };
  }
}

/** A new template of a family was installed: the family's others (an older migration set) are only disk space now. */
function removeOlder(cacheDir: string, version: string, variant: TemplateVariant): void {
  const keep = path.basename(templateDirFor(cacheDir, version, variant.id));
  const prefix = path.basename(templateDirFor(cacheDir, version, variant.family));
  try {
    for (const name of readdirSync(path.join(cacheDir, 'pglite'))) {
      // Only finished templates (no .building-…): a builder elsewhere owns its own directory.
      if (name !== keep && name.startsWith(prefix) && !name.includes('.building-')) rmSync(path.join(cacheDir, 'pglite', name), { recursive: true, force: true });
    }
  } catch {
    /* only housekeeping */
  }
}
