import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execaSync } from 'execa';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbedded, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { routergptCacheDir, seedFromTemplate, templateDirFor } from '../../src/db/embedded-template.js';
import { tempDir } from '../helpers/cli.js';

/**
 * Issue 16 (5): a fresh embedded state gets its data directory by copying a cached, verified
 * result of initdb instead of running initdb; the cache is rebuilt whenever it does not verify.
 */
describe('A deploy that does not wait for initdb: the PGlite template', () => {
  const root = tempDir('routergpt-template-');
  const cache = path.join(root, 'cache');
  const template = templateDirFor(cache);
  let first: EmbeddedDatabase | undefined;

  beforeAll(async () => {
    // The first fresh state makes the template (initdb once), then opens its own copy.
    first = await openEmbedded({ dataDir: path.join(root, 'a'), drainMs: 0, templateCache: cache });
    await first.pglite!.exec('CREATE TABLE only_in_a (id int)');
  }, 120_000);
  afterAll(async () => {
    await first?.close();
  });

  it('lives under XDG_CACHE_HOME/routergpt (else ~/.cache/routergpt), named for the PGlite version', () => {
    expect(routergptCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/routergpt');
    expect(routergptCacheDir({ XDG_CACHE_HOME: 'relative', HOME: process.env.HOME })).toMatch(/\.cache\/routergpt$/);
    const manifest = JSON.parse(readFileSync(path.join(template, 'routergpt-template.json'), 'utf8')) as { pglite: string; files: Record<string, unknown> };
    const pkg = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string };
    expect(manifest.pglite).toBe(pkg.version);
    expect(template).toContain(`pgdata-${pkg.version}-`);
    expect(Object.keys(manifest.files)).toContain('PG_VERSION');
  });

  it('a second fresh state is a copy: its own data directory, none of the first one in it', async () => {
    const dataDir = path.join(root, 'b');
    expect(await seedFromTemplate(path.join(dataDir, 'pgdata'), cache)).toEqual({ seeded: 'copied', templateDir: template });
    const second = await openEmbedded({ dataDir, drainMs: 0, templateCache: cache });
    try {
      expect((await second.pglite!.query<{ t: string | null }>("SELECT to_regclass('only_in_a')::text AS t")).rows[0]!.t).toBeNull();
      expect((await first!.pglite!.query<{ t: string | null }>("SELECT to_regclass('only_in_a')::text AS t")).rows[0]!.t).toBe('only_in_a');
    } finally {
      await second.close();
    }
    // An existing state is left alone.
    expect(await seedFromTemplate(path.join(dataDir, 'pgdata'), cache)).toBeUndefined();
  }, 60_000);

  it('a corrupt template is never trusted: it is rebuilt, and the copy verifies; a killed builder\'s directory is swept, a live one\'s kept', async () => {
    // A builder SIGKILLed mid-build left its directory; another (this process's parent) is still running.
    const dead = execaSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout;
    const abandoned = `${template}.building-${dead}-abc123`;
    const running = `${template}.building-${process.ppid}-def456`;
    for (const dir of [abandoned, running]) mkdirSync(path.join(dir, 'pgdata'), { recursive: true });
    const file = path.join(template, 'pgdata', 'PG_VERSION');
    writeFileSync(file, '9\n');
    const result = await seedFromTemplate(path.join(root, 'c', 'pgdata'), cache);
    expect(result).toEqual({ seeded: 'rebuilt', templateDir: template });
    expect(readFileSync(file, 'utf8')).not.toBe('9\n');
    expect(readFileSync(path.join(root, 'c', 'pgdata', 'PG_VERSION'), 'utf8')).toBe(readFileSync(file, 'utf8'));
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(running)).toBe(true);
    rmSync(running, { recursive: true, force: true });
  }, 120_000);

  it('a copy that fails for its own reason (the destination cannot be written) leaves the shared template alone', async () => {
    const manifestFile = path.join(template, 'routergpt-template.json');
    const before = readFileSync(manifestFile, 'utf8');
    // The state's directory sits under a regular file: every write into it fails (ENOTDIR), as a full disk would.
    const blocker = path.join(root, 'blocker');
    writeFileSync(blocker, 'not a directory');
    const result = await seedFromTemplate(path.join(blocker, 'e', 'pgdata'), cache);
    expect(result?.seeded).toBe('unavailable');
    expect(readFileSync(manifestFile, 'utf8')).toBe(before); // not deleted, not rebuilt
    expect(await seedFromTemplate(path.join(root, 'f', 'pgdata'), cache)).toEqual({ seeded: 'copied', templateDir: template });
  }, 60_000);

  it('a template of another PGlite version is rebuilt', async () => {
    const manifestFile = path.join(template, 'routergpt-template.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { pglite: string };
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, pglite: '0.0.1' }));
    expect(await seedFromTemplate(path.join(root, 'd', 'pgdata'), cache)).toEqual({ seeded: 'rebuilt', templateDir: template });
    expect((JSON.parse(readFileSync(manifestFile, 'utf8')) as { pglite: string }).pglite).toBe(manifest.pglite);
  }, 120_000);
});
