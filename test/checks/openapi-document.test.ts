import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDocument } from '../../src/checks/openapi/document.js';
import { tempDir } from '../helpers/cli.js';

/** Issue 16 (4): the OpenAPI document is parsed once per process, yet every check gets its own copy and a changed file is read anew. */
describe('verify parses the OpenAPI document once per run', () => {
  it('each reader gets an independent copy; an edited file is parsed again; a broken one is still reported', async () => {
    const file = path.join(tempDir('routergpt-doc-'), 'openapi.yaml');
    writeFileSync(file, 'openapi: 3.1.0\ninfo: { title: A, version: "1" }\npaths: {}\n');
    const first = await readDocument(file);
    if (typeof first === 'string') throw new Error(first);
    (first.doc.info as { title: string }).title = 'mutated by a check';
    const second = await readDocument(file);
    if (typeof second === 'string') throw new Error(second);
    expect((second.doc.info as { title: string }).title).toBe('A');
    expect(second.doc).not.toBe(first.doc);

    writeFileSync(file, 'openapi: 3.1.0\ninfo: { title: B, version: "1" }\npaths: {}\n');
    const third = await readDocument(file);
    expect(typeof third !== 'string' && (third.doc.info as { title: string }).title).toBe('B');

    writeFileSync(file, 'openapi: [unclosed\n');
    expect(await readDocument(file)).toMatch(/is not valid YAML/);
    expect(await readDocument(path.join(path.dirname(file), 'missing.yaml'))).toMatch(/cannot read .*ENOENT/);
  });
});
