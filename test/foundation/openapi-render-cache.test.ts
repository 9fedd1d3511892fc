/**
 * renderOpenapi (src/openapi/document.ts) keeps each rendered text in the disk cache: the next
 * process gets the same text without loading yaml, and other options or another template are
 * rendered afresh — never another render's text.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { readOpenapiTemplate, renderOpenapi } from '../../src/openapi/document.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';

const PROD = { serverUrl: 'https://api.example.com', serverDescription: 'prod', requireAuth: true };

describe('renderOpenapi', () => {
  it('the server URL put in place of the placeholder gives yaml\'s own text, for any port and path; an unusual URL is rendered whole', () => {
    const dir = tempDir('routergpt-render-cache-');
    // The reference: what yaml itself writes for these options (render, without the cache).
    const direct = (url: string) => {
      const doc = YAML.parseDocument(readOpenapiTemplate());
      doc.setIn(['servers'], doc.createNode([{ url: url.replace(/\/+$/, ''), description: 'prod', 'x-internal': false }]));
      doc.setIn(['security'], doc.createNode([{ bearerAuth: [] }]));
      return doc.toString({ lineWidth: 0 });
    };
    for (const url of ['http://127.0.0.1:37923', 'http://127.0.0.1:41111', 'https://api.example.com/v1/', 'https://a.example.com:8443/x?y=1&z=2', 'https://x.example.com/a#b: c']) {
      expect(renderOpenapi({ ...PROD, serverUrl: url }, dir)).toBe(direct(url));
    }
    // One entry for every plain URL of this environment (the ports differ per run).
    expect(readdirSync(path.join(dir, 'openapi-render')).filter((f) => f.endsWith('.json'))).toHaveLength(1);
  });

  it('the next process reads the render back without loading yaml; other options and templates render afresh', async () => {
    const dir = tempDir('routergpt-render-cache-');
    const child = async (options: object) => {
      const module = path.join(REPO_ROOT, 'dist', 'openapi', 'document.js');
      const script = `import { createRequire } from 'node:module'; const { renderOpenapi } = await import(${JSON.stringify(module)});
        const text = renderOpenapi(${JSON.stringify(options)}, ${JSON.stringify(dir)});
        process.stdout.write(JSON.stringify({ text, yaml: Object.keys(createRequire(${JSON.stringify(module)}).cache).some((f) => f.includes('/node_modules/yaml/')) }));`;
      return JSON.parse((await execa(process.execPath, ['--input-type=module', '-e', script])).stdout) as { text: string; yaml: boolean };
    };
    // The built module in other processes (its own code is part of the key: src/ and dist/ differ).
    const made = await child(PROD);
    expect(made.yaml).toBe(true);
    const first = made.text;
    expect(first).toContain('url: https://api.example.com');
    expect(first).toBe(renderOpenapi(PROD, tempDir('routergpt-render-fresh-')));
    expect(await child(PROD)).toEqual({ text: first, yaml: false });
    // Another environment's options: its own render (yaml loads), then its own entry.
    const staging = { serverUrl: 'https://staging.example.com', serverDescription: 'staging' };
    const other = await child(staging);
    expect(other.yaml).toBe(true);
    expect(other.text).toContain('url: https://staging.example.com');
    expect(other.text).toBe(renderOpenapi(staging, tempDir('routergpt-render-fresh-')));
    expect(other.text).not.toBe(first);
    expect(readdirSync(path.join(dir, 'openapi-render')).filter((f) => f.endsWith('.json'))).toHaveLength(2);
    // Another template: rendered from it, not taken from the entry of the shipped one.
    const edited = `${readOpenapiTemplate()}\n# edited\n`;
    expect(renderOpenapi({ ...PROD, template: edited }, dir)).toContain('# edited');
    // A damaged entry is rendered again.
    const entries = readdirSync(path.join(dir, 'openapi-render'));
    for (const e of entries) writeFileSync(path.join(dir, 'openapi-render', e), '{"key":"x","value":"not this"}');
    expect(renderOpenapi(PROD, dir)).toBe(first);
  });
});
