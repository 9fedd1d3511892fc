/**
 * `npm ci` installs the committed lockfile (issue 10, part 1). npm ci refuses a lockfile that
 * lacks an optional platform package a dependency declares ("Missing: @squawk-cli/darwin-arm64
 * … from lock file") or that disagrees with package.json; both are read here from the files, so
 * the failure names the package instead of surfacing in someone else's pipeline. `.ci/run` runs
 * `npm ci` itself, which is the end-to-end proof.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as LockEntry;
const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { lockfileVersion: number; packages: Record<string, LockEntry> };

describe('package-lock.json is npm-ci-clean', () => {
  it('records the same direct dependencies as package.json', () => {
    const root = lock.packages[''] ?? {};
    expect(root.dependencies ?? {}).toEqual(pkg.dependencies ?? {});
    expect(root.devDependencies ?? {}).toEqual(pkg.devDependencies ?? {});
  });

  it('lists every optional platform package each locked package declares (all platforms, not just this one)', () => {
    const missing: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        // npm resolves a dependency beside the package first, then up the tree.
        const nested = `${where}/node_modules/${name}`;
        if (!lock.packages[nested] && !lock.packages[`node_modules/${name}`]) missing.push(`${name} (optional dependency of ${where || 'the root'})`);
      }
    }
    expect(missing, 'pin the dependency to a version whose platform packages the registry serves, then `npm install` to rewrite the lockfile').toEqual([]);
  });

  it('pins squawk-cli exactly (2.66 has no platform packages on this registry)', () => {
    expect(pkg.devDependencies?.['squawk-cli'] ?? pkg.dependencies?.['squawk-cli']).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
