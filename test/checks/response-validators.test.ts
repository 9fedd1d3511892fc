/**
 * openapi.matches-server's validators (src/checks/openapi/response-validators.ts): made once per
 * document, the next process reads them back without loading swagger-parser or ajv's compiler,
 * and they judge a body exactly as ajv compiling the schema does.
 */
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { loadResponseContract } from '../../src/checks/openapi/response-validators.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';

const DOC = YAML.parse(readFileSync(path.join(REPO_ROOT, 'openapi', 'openapi_chatgpt.yaml'), 'utf8')) as Record<string, unknown>;
const SEARCH = '/router/search-by-location';
const entries = (dir: string) => readdirSync(path.join(dir, 'openapi-responses')).filter((f) => f.endsWith('.json'));

describe('loadResponseContract', () => {
  it('judges bodies as ajv does: a documented body passes, a wrong one fails with ajv\'s errorsText', async () => {
    const contract = await loadResponseContract(DOC, tempDir('routergpt-responses-'));
    if (typeof contract === 'string') throw new Error(contract);
    const good = { error: { code: 'validation_failed', message: 'latitude must be a number' } };
    const bad = { error: { code: 7 }, extra: true };
    // The reference: ajv compiling the dereferenced schema of the same response.
    const schema = contract.doc.paths[SEARCH].post.responses['422'].content['application/json'].schema;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    expect(validate(good)).toBe(true);
    expect(contract.mismatch('post', SEARCH, '422', 'application/json', good)).toBeNull();
    expect(validate(bad)).toBe(false);
    expect(contract.mismatch('post', SEARCH, '422', 'application/json', bad)).toBe(ajv.errorsText(validate.errors));
    // A response the document does not give a schema for has nothing to mismatch.
    expect(contract.mismatch('post', SEARCH, '599', 'application/json', bad)).toBeNull();
  });

  it('the next process reads the entry back and loads neither swagger-parser nor ajv\'s compiler; a damaged entry is made again', async () => {
    const dir = tempDir('routergpt-responses-');
    const input = path.join(dir, 'doc.json');
    writeFileSync(input, JSON.stringify(DOC));
    const child = async () => {
      const module = path.join(REPO_ROOT, 'dist', 'checks', 'openapi', 'response-validators.js');
      const script = `import { createRequire } from 'node:module'; import { readFileSync } from 'node:fs';
        const { loadResponseContract } = await import(${JSON.stringify(module)});
        const c = await loadResponseContract(JSON.parse(readFileSync(${JSON.stringify(input)}, 'utf8')), ${JSON.stringify(dir)});
        const loaded = Object.keys(createRequire(${JSON.stringify(module)}).cache);
        process.stdout.write(JSON.stringify({ bad: c.mismatch('post', ${JSON.stringify(SEARCH)}, '422', 'application/json', { error: {} }),
          swagger: loaded.some((f) => f.includes('swagger-parser')), compiler: loaded.some((f) => f.includes('ajv/dist/compile/index.js')) }));`;
      return JSON.parse((await execa(process.execPath, ['--input-type=module', '-e', script])).stdout) as { bad: string | null; swagger: boolean; compiler: boolean };
    };
    const first = await child();
    expect(first).toMatchObject({ swagger: true, compiler: true });
    expect(first.bad).toMatch(/must have required property/);
    expect(entries(dir)).toHaveLength(1);
    const second = await child();
    expect(second).toEqual({ ...first, swagger: false, compiler: false });
    // Damaged: made again (the libraries load), and replaced.
    writeFileSync(path.join(dir, 'openapi-responses', entries(dir)[0]!), '{"key":"another","value":{}}');
    expect(await child()).toEqual({ ...first });
    expect(await child()).toEqual({ ...second });
    // An area others can write to is never read: the code there is not run.
    chmodSync(path.join(dir, 'openapi-responses'), 0o777);
    expect(await child()).toEqual({ ...first });
    chmodSync(path.join(dir, 'openapi-responses'), 0o700);
    expect(await child()).toEqual({ ...second });
  });

  it('a document with a $ref outside itself is used but not stored; one that cannot be dereferenced is an error', async () => {
    const dir = tempDir('routergpt-responses-');
    const other = path.join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ type: 'object', required: ['ok'] }));
    const outside = structuredClone(DOC) as { paths: Record<string, { post: { responses: Record<string, unknown> } }> };
    outside.paths[SEARCH]!.post.responses['418'] = { description: 'x', content: { 'application/json': { schema: { $ref: other } } } };
    const contract = await loadResponseContract(outside, dir);
    if (typeof contract === 'string') throw new Error(contract);
    expect(contract.mismatch('post', SEARCH, '418', 'application/json', {})).toMatch(/required property 'ok'/);
    expect(readdirSync(dir)).not.toContain('openapi-responses');
    const broken = structuredClone(DOC) as typeof outside;
    broken.paths[SEARCH]!.post.responses['418'] = { description: 'x', content: { 'application/json': { schema: { $ref: '#/components/schemas/NoSuchSchema' } } } };
    expect(await loadResponseContract(broken, dir)).toMatch(/^cannot dereference the document: /);
  });
});
