/**
 * src/lib/yaml-cache.ts: a large YAML text is parsed once per machine — the next process reads
 * the parse back as JSON. What it returns must be what YAML.parse returns, whatever the cache holds.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseYamlCached } from '../../src/lib/yaml-cache.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';

const OPENAPI = readFileSync(path.join(REPO_ROOT, 'openapi', 'openapi_chatgpt.yaml'), 'utf8');
const entries = (dir: string) => (existsSync(path.join(dir, 'yaml')) ? readdirSync(path.join(dir, 'yaml')) : []);

describe('parseYamlCached', () => {
  it('neither stores nor serves a value the caller does not allow on disk, and drops such an entry', async () => {
    const dir = tempDir('routergpt-yaml-storable-');
    const text = `${OPENAPI}\n# storable test\n`; // a large text: the cache is used even with yaml loaded
    const noPaths = (value: unknown) => !('paths' in (value as object));
    expect(parseYamlCached(text, dir, { storable: noPaths })).toEqual(YAML.parse(text));
    expect(entries(dir)).toEqual([]);
    // An entry stored earlier (as a laxer rule would have): served to a caller that allows it,
    // dropped — and parsed afresh — for one that does not.
    const other = `${OPENAPI}\n# stored earlier\n`;
    const input = path.join(dir, 'other.yaml');
    writeFileSync(input, other);
    // Another process stores it (this one would answer from memory).
    await execa(process.execPath, ['--input-type=module', '-e', `import { readFileSync } from 'node:fs'; const { parseYamlCached } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'lib', 'yaml-cache.js'))}); parseYamlCached(readFileSync(${JSON.stringify(input)}, 'utf8'), ${JSON.stringify(dir)});`]);
    expect(entries(dir)).toHaveLength(1);
    const [file] = entries(dir);
    writeFileSync(path.join(dir, 'yaml', file!), readFileSync(path.join(dir, 'yaml', file!), 'utf8').replace('"openapi":"3.1.0"', '"openapi":"from-disk"'));
    expect(parseYamlCached(other, dir, { storable: noPaths })).toEqual(YAML.parse(other));
    expect(entries(dir)).toEqual([]);
  });

  it('returns what YAML.parse returns, and keeps the parse on disk for the next process', () => {
    const dir = tempDir('routergpt-yaml-cache-');
    const first = parseYamlCached(OPENAPI, dir);
    expect(first).toEqual(YAML.parse(OPENAPI));
    expect(entries(dir)).toHaveLength(1);
    // A copy per caller: changing one answer does not change the next.
    (first as { openapi: string }).openapi = 'changed';
    expect((parseYamlCached(OPENAPI, dir) as { openapi: string }).openapi).toBe(YAML.parse(OPENAPI).openapi);
  });

  it('the next process reads the stored parse back; an unreadable one is parsed again and replaced', async () => {
    const dir = tempDir('routergpt-yaml-cache-');
    // Its own text: this process keeps the parses it made in memory too.
    const text = `${OPENAPI}\n# the next process\n`;
    parseYamlCached(text, dir);
    const file = path.join(dir, 'yaml', entries(dir)[0]!);
    const entry = JSON.parse(readFileSync(file, 'utf8')) as { key: string; value: unknown };
    expect(entry.value).toEqual(YAML.parse(text));
    expect(`${entry.key}.json`).toBe(path.basename(file));
    const input = path.join(dir, 'input.yaml');
    writeFileSync(input, text);
    // Another process (the built module), as the next `verify` would be.
    const next = async () => {
      const { stdout } = await execa(process.execPath, ['--input-type=module', '-e', `import { readFileSync } from 'node:fs'; const { parseYamlCached } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'lib', 'yaml-cache.js'))}); process.stdout.write(JSON.stringify(parseYamlCached(readFileSync(${JSON.stringify(input)}, 'utf8'), ${JSON.stringify(dir)})));`]);
      return JSON.parse(stdout) as unknown;
    };
    // What is stored under the text's key is what it answers: a marker proves it read the file, not the text.
    writeFileSync(file, JSON.stringify({ key: entry.key, value: { marker: true } }));
    expect(await next()).toEqual({ marker: true });
    // An entry under another key (a file copied into place), or half a file: parsed again, and replaced.
    writeFileSync(file, JSON.stringify({ key: 'another', value: { marker: true } }));
    expect(await next()).toEqual(YAML.parse(text));
    writeFileSync(file, '{"half": ');
    expect(await next()).toEqual(YAML.parse(text));
    expect((JSON.parse(readFileSync(file, 'utf8')) as { value: unknown }).value).toEqual(YAML.parse(text));
  });

  it('keeps the newest 32 entries', () => {
    const dir = tempDir('routergpt-yaml-cache-');
    for (let i = 0; i < 40; i += 1) parseYamlCached(`${OPENAPI}\n# edit ${i}\n`, dir);
    expect(entries(dir)).toHaveLength(32);
  });

  it('does not store a document JSON cannot hold (.inf), and small texts are parsed as they are', () => {
    const dir = tempDir('routergpt-yaml-cache-');
    const text = `limit: .inf\n${'# padding\n'.repeat(1000)}`;
    expect(parseYamlCached(text, dir)).toEqual({ limit: Infinity });
    expect(entries(dir)).toEqual([]);
    expect(parseYamlCached('a: 1\n', dir)).toEqual({ a: 1 });
    expect(entries(dir)).toEqual([]);
  });

  it('a text that is not YAML throws as YAML.parse does', () => {
    const dir = tempDir('routergpt-yaml-cache-');
    const broken = `${OPENAPI}\n  - : [unclosed\n`;
    expect(() => parseYamlCached(broken, dir)).toThrow();
    expect(entries(dir)).toEqual([]);
  });
});
