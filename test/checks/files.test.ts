/**
 * The document, privacy and log checks: a passing and a failing scenario each, on real files
 * in temp directories and a real loopback HTTP server for the privacy page.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import logTags from '../../src/checks/logging/tags.js';
import openapiGptActions from '../../src/checks/openapi/gpt-actions.js';
import openapiValid from '../../src/checks/openapi/valid.js';
import privacyPolicyPublished from '../../src/checks/privacy/policy-published.js';
import { readOpenapiTemplate, renderOpenapi } from '../../src/openapi/document.js';
import { tempDir } from '../helpers/cli.js';
import { checkConfig, depsFor, runCheck, startFakeServer } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- editing a parsed OpenAPI document
type Json = Record<string, any>;

const dir = tempDir('routergpt-files-');
function writeDoc(name: string, mutate: (doc: Json) => void = () => {}, text = readOpenapiTemplate()): string {
  const doc = YAML.parse(text) as Json;
  mutate(doc);
  const file = path.join(dir, name);
  writeFileSync(file, YAML.stringify(doc));
  return file;
}

describe('openapi.valid', () => {
  const config = checkConfig('postgres://unused@127.0.0.1/unused');
  it('passes on the shipped document', async () => {
    const result = await runCheck(openapiValid, depsFor(config, { openapiFile: writeDoc('ok.yaml') }));
    expect(result.status, result.summary).toBe('pass');
    expect(result.summary).toMatch(/5 operations/);
  });
  it('fails on a dangling $ref, and on a file that is not YAML', async () => {
    const broken = writeDoc('dangling.yaml', (d) => (d.paths['/health'].get.responses['200'].content['application/json'].schema = { $ref: '#/components/schemas/Nope' }));
    const result = await runCheck(openapiValid, depsFor(config, { openapiFile: broken }));
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/Nope/);
    const notYaml = path.join(dir, 'not.yaml');
    writeFileSync(notYaml, 'openapi: [3.1.0\n  : :');
    expect((await runCheck(openapiValid, depsFor(config, { openapiFile: notYaml }))).status).toBe('fail');
  });
});

describe('A14: openapi.valid runs Spectral (oas + OWASP API Security), offline', () => {
  const config = checkConfig('postgres://unused@127.0.0.1/unused');
  it('the shipped document and the one `openapi build` renders for prod have no Spectral error or warning', async () => {
    const shipped = await runCheck(openapiValid, depsFor(config, { openapiFile: writeDoc('spectral-ok.yaml') }));
    expect(shipped.status, shipped.details?.join('\n')).toBe('pass');
    expect(shipped.summary).toContain('Spectral oas 0 errors, 0 warnings; owasp 0 errors, 0 warnings');
    const prod = path.join(dir, 'openapi_chatgpt_prod.yaml');
    writeFileSync(prod, renderOpenapi({ serverUrl: 'https://api.example.com', serverDescription: 'prod', requireAuth: true }));
    const built = await runCheck(openapiValid, depsFor(config, { openapiFile: prod }));
    expect(built.status, built.details?.join('\n')).toBe('pass');
  }, 30_000);

  it('an unbounded string fails, naming the rule and where it is', async () => {
    const file = writeDoc('unbounded.yaml', (d) => delete d.components.schemas.ChatRequest.properties.message.maxLength);
    const result = await runCheck(openapiValid, depsFor(config, { openapiFile: file }));
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/Spectral finds 1 error\(s\) \(oas 0 errors, 0 warnings; owasp 1 error, 0 warnings\)/);
    expect(result.details).toEqual([expect.stringMatching(/^error owasp:api4:2023-string-limit components\.schemas\.ChatRequest\.properties\.message \(line \d+\): Schema of type string must specify maxLength/)]);
  }, 30_000);

  it('a warning only warns', async () => {
    // Without its pattern the message is still bounded (no error), but owasp:api4:2023-string-restricted warns.
    const file = writeDoc('warning.yaml', (d) => delete d.components.schemas.ChatRequest.properties.message.pattern);
    const result = await runCheck(openapiValid, depsFor(config, { openapiFile: file }));
    expect(result.status).toBe('warn');
    expect(result.details).toEqual([expect.stringMatching(/^warn owasp:api4:2023-string-restricted components\.schemas\.ChatRequest\.properties\.message /)]);
  }, 30_000);

  it('offline: a $ref to a URL or another file is reported by Spectral, never fetched or read', async () => {
    const { lintOpenapi } = await import('../../src/openapi/spectral.js');
    const doc = (ref: string) => `openapi: 3.1.0\ninfo: { title: t, version: "1" }\npaths: {}\ncomponents:\n  schemas:\n    Remote: { $ref: "${ref}" }\n`;
    for (const ref of ['https://schemas.example.invalid/thing.yaml#/Thing', './other.yaml#/Thing']) {
      const report = await lintOpenapi(doc(ref), path.join(dir, 'remote.yaml'));
      expect(report.errors, JSON.stringify(report.findings)).toBeGreaterThan(0);
      expect(report.findings.some((f) => f.severity === 'error' && f.message.includes(ref.split('#')[0]!.replace('./', ''))), JSON.stringify(report.findings)).toBe(true);
    }
  }, 30_000);
});

describe('openapi.gpt-actions', () => {
  it('passes for prod on the document `openapi build` renders (https PUBLIC_API_BASE, auth required)', async () => {
    const config = checkConfig('postgres://unused@127.0.0.1/unused', { PUBLIC_API_BASE: 'https://api.example.com', ROUTERGPT_API_KEY: 'k'.repeat(32) }, 'prod');
    const file = path.join(dir, 'openapi_chatgpt_prod.yaml');
    writeFileSync(file, renderOpenapi({ serverUrl: 'https://api.example.com', serverDescription: 'prod', requireAuth: true }));
    const result = await runCheck(openapiGptActions, depsFor(config, { openapiFile: file }));
    expect(result.status, (result.details ?? []).join('\n')).toBe('pass');
  });
  it('fails on a 400-character summary', async () => {
    const config = checkConfig('postgres://unused@127.0.0.1/unused', {}, 'local');
    const file = writeDoc('long.yaml', (d) => (d.paths['/chat'].post.summary = 'x'.repeat(400)));
    const result = await runCheck(openapiGptActions, depsFor(config, { openapiFile: file }));
    expect(result.status).toBe('fail');
    expect(result.details).toContain('summary-length: POST /chat: summary is 400 characters (max 300)');
  });
  it('fails for prod on the template: loopback http server, not PUBLIC_API_BASE, auth optional', async () => {
    const config = checkConfig('postgres://unused@127.0.0.1/unused', { PUBLIC_API_BASE: 'https://api.example.com', ROUTERGPT_API_KEY: 'k'.repeat(32) }, 'prod');
    const result = await runCheck(openapiGptActions, depsFor(config, { openapiFile: writeDoc('template.yaml') }));
    expect(result.status).toBe('fail');
    const text = (result.details ?? []).join('\n');
    expect(text).toMatch(/servers\[0\]\.url is http:\/\/127\.0\.0\.1:8787, expected PUBLIC_API_BASE https:\/\/api\.example\.com/);
    expect(text).toMatch(/makes auth optional/);
    expect(result.hint).toMatch(/routergpt openapi build --env prod/);
  });
});

describe('privacy.policy-published', () => {
  let server: Awaited<ReturnType<typeof startFakeServer>>;
  let base: string;
  beforeAll(async () => {
    server = await startFakeServer((req, _body, res) => {
      if (req.url === '/privacy') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end('<html><body><h1>Privacy</h1><p>We receive your approximate location to find shops; we keep it for 90 days (retention).</p></body></html>');
      }
      if (req.url === '/vague') {
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<html><body><p>We respect your privacy.</p></body></html>');
      }
      res.writeHead(404).end();
    });
    base = server.url;
  });
  afterAll(() => server.close());
  const run = (url: string) => runCheck(privacyPolicyPublished, depsFor(checkConfig('postgres://unused@127.0.0.1/unused', { PRIVACY_POLICY_URL: url })));

  it('passes for a published HTML page that discloses location data', async () => {
    const result = await run(`${base}/privacy`);
    expect(result.status, result.summary).toBe('pass');
    expect(result.summary).toMatch(/mentions location and retention/);
  });
  it('fails on 404, warns when location is not mentioned', async () => {
    expect((await run(`${base}/missing`)).status).toBe('fail');
    const vague = await run(`${base}/vague`);
    expect(vague.status).toBe('warn');
    expect(vague.summary).toMatch(/does not mention location/);
  });
});

describe('logging.tags', () => {
  const line = (level: number, msg: string, extra: Record<string, unknown> = {}) => JSON.stringify({ level, time: 1, service: 'routergpt', msg, ...extra });
  const good = [line(30, '[ROUTER] search found 3 shop(s)'), line(30, '[BOOKING] booking confirmed'), line(30, '[ANALYTICS] wrote 2 event(s)'), line(50, '[ROUTER] unhandled error', { err: { type: 'Error', message: 'x', stack: 'Error: x\n    at f (a.js:1:1)' } })];
  const run = (lines: string[], env: Record<string, string> = {}) => {
    const file = path.join(tempDir(), 'server.log');
    writeFileSync(file, `${lines.join('\n')}\n`);
    return runCheck(logTags, depsFor(checkConfig('postgres://unused@127.0.0.1/unused', { ROUTERGPT_LOG_FILE: file, ...env })));
  };

  it('passes with all three tags, error lines with stacks, no secrets', async () => {
    const result = await run(good);
    expect(result.status, result.summary).toBe('pass');
  });
  it('fails on a secret, naming the line only — never the value', async () => {
    const key = `sk-proj-${'A1b2C3d4'.repeat(5)}`;
    const bearer = `Bearer ${'z'.repeat(24)}`;
    const result = await run([...good, line(30, `[ROUTER] using key ${key}`), line(30, 'request', { req: { headers: { authorization: bearer } } })]);
    expect(result.status).toBe('fail');
    expect(result.details).toEqual(expect.arrayContaining(['line 5: looks like a OpenAI API key', 'line 6: contains an Authorization header value']));
    const everything = JSON.stringify(result);
    expect(everything).not.toContain(key);
    expect(everything).not.toContain('z'.repeat(24));
  });
  it("fails without [ROUTER] lines; warns without [BOOKING] or on an error line without a stack", async () => {
    expect((await run([line(30, 'server started')])).status).toBe('fail');
    const warned = await run([line(30, '[ROUTER] x'), line(30, '[ANALYTICS] y'), line(50, '[ROUTER] failed')]);
    expect(warned.status).toBe('warn');
    expect(warned.summary).toMatch(/no \[BOOKING\] lines.*1 error line\(s\) without a stack trace \(lines 3\)/);
  });
  it('fails when the configured log file does not exist', async () => {
    const result = await runCheck(logTags, depsFor(checkConfig('postgres://unused@127.0.0.1/unused', { ROUTERGPT_LOG_FILE: path.join(tempDir(), 'nope.log') })));
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/ENOENT/);
  });
});
