import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedResult, storeResult } from '../../src/checks/openapi/result-cache.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';

/** Issue 16 (4): openapi.valid's answer is reused for the same document, code and dependencies — never for another, never from a damaged entry. */
describe('openapi.valid reuses its answer only for exactly the same inputs', () => {
  const shipped = readFileSync(path.join(REPO_ROOT, 'openapi', 'openapi_chatgpt.yaml'), 'utf8');

  it('a stored answer comes back for the same text and path; another text, another path or a damaged entry get none', () => {
    const cache = tempDir('routergpt-valid-cache-');
    const file = path.join(cache, 'openapi.yaml');
    const { key, result } = cachedResult(file, shipped, cache);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(result).toBeUndefined();
    const answer = { status: 'pass' as const, summary: 'openapi.yaml: fine', data: { file } };
    storeResult(key!, answer, cache);
    expect(cachedResult(file, shipped, cache).result).toEqual(answer);
    expect(cachedResult(file, `${shipped}\n# edited\n`, cache).result).toBeUndefined();
    expect(cachedResult(path.join(cache, 'other.yaml'), shipped, cache).result).toBeUndefined();
    const [entry] = readdirSync(path.join(cache, 'checks', 'openapi-valid'));
    writeFileSync(path.join(cache, 'checks', 'openapi-valid', entry!), '{"key": "not this one"');
    expect(cachedResult(file, shipped, cache).result).toBeUndefined();
  });

  it('a document with a $ref outside itself is never cached', () => {
    const cache = tempDir('routergpt-valid-cache-');
    expect(cachedResult(path.join(cache, 'a.yaml'), `${shipped}\nx:\n  $ref: './other.yaml#/y'\n`, cache).key).toBeUndefined();
    expect(cachedResult(path.join(cache, 'a.yaml'), "a:\n  $ref: '#/components/schemas/X'\n", cache).key).toBeDefined();
  });
});
