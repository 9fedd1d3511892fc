/**
 * The offline geocoder's ZIP table (src/geocode/offline.ts zipTable): kept as JSON in the disk
 * cache after the package's first load, and answering both lookups exactly as the package does.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import zipcodes from 'zipcodes';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';

// A spread of queries: every 97th ZIP and Canadian prefix, a postal code with a letter, unknown
// codes; cities by their state's code and its full name, in other cases, and unknown ones.
const keys = Object.keys(zipcodes.codes);
const zips = [...keys.filter((_k, i) => i % 97 === 0), 'M5V 3L9', 'K1A', '00000', '99999', 'ABCDE'];
const cities: Array<[string, string]> = [
  ...keys.filter((_k, i) => i % 131 === 0).map((k) => [zipcodes.codes[k]!.city, zipcodes.codes[k]!.state] as [string, string]),
  ['tempe', 'AZ'], ['Phoenix', 'Arizona'], ['PHOENIX', 'az'], ['Toronto', 'ON'], ['Springfield', 'IL'], ['Nowhere', 'AZ'], ['Tempe', 'ZZ'],
];

describe('zipTable', () => {
  it('the next process answers from the stored table without loading the package\'s codes, as the package answers', async () => {
    const dir = tempDir('routergpt-zip-cache-');
    const module = path.join(REPO_ROOT, 'dist', 'geocode', 'offline.js');
    const child = async () => {
      const script = `import { createRequire } from 'node:module'; const { zipTable } = await import(${JSON.stringify(module)});
        const t = zipTable(${JSON.stringify(dir)}); const zips = ${JSON.stringify(zips)}; const cities = ${JSON.stringify(cities)};
        const out = { zips: zips.map((z) => t.lookup(z) ?? null), cities: cities.map(([c, s]) => t.lookupByName(c, s)),
          loaded: Object.keys(createRequire(${JSON.stringify(module)}).cache).some((f) => f.endsWith('zipcodes/lib/codes.js')) };
        process.stdout.write(JSON.stringify(out));`;
      return JSON.parse((await execa(process.execPath, ['--input-type=module', '-e', script], { maxBuffer: 64 * 1024 * 1024 })).stdout) as { zips: unknown[]; cities: unknown[][]; loaded: boolean };
    };
    const expected = { zips: zips.map((z) => zipcodes.lookup(z) ?? null), cities: cities.map(([c, s]) => zipcodes.lookupByName(c, s)) };
    // The queries mean something: most ZIPs and cities are found.
    expect(expected.zips.filter(Boolean).length).toBeGreaterThanOrEqual(zips.length - 5);
    expect(expected.cities.filter((l) => l.length > 0).length).toBeGreaterThanOrEqual(cities.length - 3);
    const first = await child();
    expect(first).toEqual({ ...expected, loaded: true });
    expect(readdirSync(path.join(dir, 'zipcodes')).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect(await child()).toEqual({ ...expected, loaded: false });
  });
});
