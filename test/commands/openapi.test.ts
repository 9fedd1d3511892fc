import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { checkGptActionsRules } from '../../src/openapi/gpt-actions-rules.js';
import { OPENAPI_TEMPLATE_PATH } from '../../src/openapi/document.js';
import { runCli, tempDir } from '../helpers/cli.js';

// `openapi build --env prod` resolves the prod config, which needs a database URL even though
// the command never connects; any well-formed URL does.
const PROD_ENV = { DATABASE_URL: 'postgres://app@127.0.0.1:1/routergpt' };

type Doc = { servers: Array<{ url: string }>; security: unknown; paths: Record<string, Record<string, Record<string, unknown>>> };

describe('routergpt openapi build', () => {
  it("writes openapi_chatgpt_prod.yaml with the environment's PUBLIC_API_BASE, which then validates", async () => {
    const cwd = tempDir();
    const built = await runCli(['openapi', 'build', '--env', 'prod'], { cwd, env: { ...PROD_ENV, PUBLIC_API_BASE: 'https://api.example.com/' } });
    expect(built.stderr).toContain('https://api.example.com');
    expect(built.exitCode).toBe(0);
    const file = path.join(cwd, 'openapi_chatgpt_prod.yaml');
    expect(built.stdout.trim()).toBe(file);
    const doc = YAML.parse(readFileSync(file, 'utf8')) as Doc;
    expect(doc.servers).toEqual([{ url: 'https://api.example.com', description: 'prod (from PUBLIC_API_BASE (from the environment))', 'x-internal': false }]);
    expect(doc.security).toEqual([{}, { bearerAuth: [] }]); // no API key in this environment: optional

    const validated = await runCli(['openapi', 'validate', 'openapi_chatgpt_prod.yaml'], { cwd });
    expect(validated.exitCode).toBe(0);
    expect(validated.stdout).not.toContain('✖');
    for (const id of ['openapi-schema', 'openapi-version', 'single-server', 'operation-ids', 'summary-length', 'description-length', 'parameter-description-length', 'is-consequential', 'spectral']) {
      expect(validated.stdout).toMatch(new RegExp(`✔ pass {2}${id} `));
    }
  });

  it('needs no database: --env prod without DATABASE_URL builds the document', async () => {
    const cwd = tempDir();
    const built = await runCli(['openapi', 'build', '--env', 'prod'], { cwd, env: { PUBLIC_API_BASE: 'https://api.example.com', DATABASE_URL: undefined } });
    expect(built.exitCode, built.stderr).toBe(0);
    expect(built.stderr).not.toContain('DATABASE_URL');
    expect(YAML.parse(readFileSync(path.join(cwd, 'openapi_chatgpt_prod.yaml'), 'utf8')).servers[0].url).toBe('https://api.example.com');
  });

  it('makes the bearer key mandatory when the environment sets ROUTERGPT_API_KEY, and honours --output', async () => {
    const cwd = tempDir();
    const r = await runCli(['openapi', 'build', '--env', 'staging', '--output', 'out/gpt.yaml'], {
      cwd,
      env: { ...PROD_ENV, PUBLIC_API_BASE: 'https://staging.example.com', ROUTERGPT_API_KEY: 'k-abcdef123456' },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = YAML.parse(readFileSync(path.join(cwd, 'out', 'gpt.yaml'), 'utf8')) as Doc;
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(r.stdout + r.stderr).not.toContain('k-abcdef123456');
  }, 30_000);

  it('refuses, with exit 2 and the fix, when PUBLIC_API_BASE is unset or not https', async () => {
    const unset = await runCli(['openapi', 'build', '--env', 'prod'], { env: PROD_ENV });
    expect(unset.exitCode).toBe(2);
    expect(unset.stderr).toContain('PUBLIC_API_BASE is not set for environment "prod"');
    expect(unset.stderr).toContain('→ Set PUBLIC_API_BASE=https://');

    const http = await runCli(['openapi', 'build', '--env', 'prod'], { env: { ...PROD_ENV, PUBLIC_API_BASE: 'http://api.example.com' } });
    expect(http.exitCode).toBe(2);
    expect(http.stderr).toContain('only call https servers');
  });

  it('builds the local document with the loopback default', async () => {
    const cwd = tempDir();
    const r = await runCli(['openapi', 'build'], { cwd });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = YAML.parse(readFileSync(path.join(cwd, 'openapi_chatgpt_local.yaml'), 'utf8')) as Doc;
    expect(doc.servers[0]!.url).toBe('http://127.0.0.1:8787');
  });
});

describe('routergpt openapi validate', () => {
  it('passes on the packaged template by default, and prints JSON with --json', async () => {
    const r = await runCli(['openapi', 'validate', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { status: string; rules: Array<{ id: string; status: string }> };
    expect(result.status).toBe('pass');
    expect(result.rules.map((x) => x.id)).toContain('is-consequential');
  });

  it('reports every broken rule with where it is, and exits 1', async () => {
    const doc = YAML.parse(readFileSync(OPENAPI_TEMPLATE_PATH, 'utf8')) as Doc;
    doc.servers = [{ url: 'http://api.example.com' }];
    delete doc.paths['/chat']!.post!.operationId;
    doc.paths['/router/delegate']!.post!.summary = 'x'.repeat(301);
    delete doc.paths['/router/search-by-location']!.post!['x-openai-isConsequential'];
    const file = path.join(tempDir(), 'broken.yaml');
    writeFileSync(file, YAML.stringify(doc));
    const r = await runCli(['openapi', 'validate', file]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/✖ fail {2}single-server/);
    expect(r.stdout).toContain('servers[0].url http://api.example.com is not https');
    expect(r.stdout).toMatch(/✖ fail {2}operation-ids[^\n]*\n\s+POST \/chat: no operationId/);
    expect(r.stdout).toContain('POST /router/delegate: summary is 301 characters (max 300)');
    expect(r.stdout).toContain('POST /router/search-by-location: x-openai-isConsequential is not set');
    expect(r.stdout).toMatch(/✔ pass {2}description-length/);
  });

  it('A14: runs Spectral (oas + OWASP API Security): the template has 0 errors and 0 warnings; an unbounded string fails with the rule named', async () => {
    const ok = await runCli(['openapi', 'validate', '--json']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const result = JSON.parse(ok.stdout) as { spectral: { errors: number; warnings: number; counts: Record<string, { errors: number; warnings: number }> } };
    expect(result.spectral).toMatchObject({ errors: 0, warnings: 0, counts: { oas: { errors: 0, warnings: 0 }, owasp: { errors: 0, warnings: 0 } } });

    const doc = YAML.parse(readFileSync(OPENAPI_TEMPLATE_PATH, 'utf8')) as Doc & { components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> } };
    delete doc.components.schemas.FeedbackRequest!.properties.comment!.maxLength;
    const file = path.join(tempDir(), 'unbounded.yaml');
    writeFileSync(file, YAML.stringify(doc));
    const r = await runCli(['openapi', 'validate', file]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/✖ fail {2}spectral — Spectral oas \+ OWASP API Security rulesets \(oas 0 errors, 0 warnings; owasp 1 error, 0 warnings\)\n\s+error owasp:api4:2023-string-limit components\.schemas\.FeedbackRequest\.properties\.comment \(line \d+\): Schema of type string must specify maxLength, enum, or const\./);
    expect(r.stdout).toMatch(/✔ pass {2}openapi-schema/);
  }, 60_000);

  it('fails openapi-schema on a structurally invalid document (swagger-parser)', async () => {
    const file = path.join(tempDir(), 'bad.yaml');
    writeFileSync(file, 'openapi: 3.1.0\ninfo: { title: x }\npaths:\n  /a:\n    get:\n      responses: { "200": { $ref: "#/components/responses/Nope" } }\n');
    const r = await runCli(['openapi', 'validate', file]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/✖ fail {2}openapi-schema/);
  });

  it('a missing file is a usage error (exit 2)', async () => {
    const r = await runCli(['openapi', 'validate', 'nope.yaml']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('No such file');
  });
});

describe('GPT Actions rules (pure)', () => {
  const template = YAML.parse(readFileSync(OPENAPI_TEMPLATE_PATH, 'utf8')) as Doc;

  it('the template passes every rule', () => {
    expect(checkGptActionsRules(template).filter((r) => r.status === 'fail')).toEqual([]);
  });

  it('sets x-openai-isConsequential deliberately: only /chat (it can book) is consequential', () => {
    const flags = Object.fromEntries(
      Object.entries(template.paths).flatMap(([p, item]) => Object.entries(item).map(([m, op]) => [`${m.toUpperCase()} ${p}`, op['x-openai-isConsequential']])),
    );
    expect(flags).toEqual({ 'GET /health': false, 'POST /router/search-by-location': false, 'POST /router/delegate': false, 'POST /chat': true, 'POST /router/feedback': false });
  });

  it('flags long parameter descriptions (700) and duplicate operationIds', () => {
    const doc = structuredClone(template);
    (doc as unknown as { components: { schemas: { SearchRequest: { properties: { category: { description: string } } } } } }).components.schemas.SearchRequest.properties.category.description = 'y'.repeat(701);
    doc.paths['/chat']!.post!.operationId = 'delegateToShop';
    const failed = Object.fromEntries(checkGptActionsRules(doc).filter((r) => r.status === 'fail').map((r) => [r.id, r.problems]));
    expect(failed['parameter-description-length']).toEqual(['POST /router/search-by-location body field category: description is 701 characters (max 700)']);
    expect(failed['operation-ids']).toEqual(['POST /chat: operationId delegateToShop is also used by POST /router/delegate']);
  });
});

describe('the documented examples survive the deploy', () => {
  /** Every `slug` / `shop_slug` value in the document's examples, with where it appears. */
  function exampleSlugs(node: unknown, at: string, out: Array<{ at: string; slug: string }>): void {
    if (Array.isArray(node)) node.forEach((v, i) => exampleSlugs(v, `${at}[${i}]`, out));
    else if (typeof node === 'object' && node !== null) {
      for (const [k, v] of Object.entries(node)) {
        if ((k === 'slug' || k === 'shop_slug') && typeof v === 'string') out.push({ at: `${at}.${k}`, slug: v });
        else exampleSlugs(v, `${at}.${k}`, out);
      }
    }
  }

  it('name demo shops that db.purge-test-data keeps (the Custom GPT imports these examples)', async () => {
    const { DEMO_SHOPS, TEST_SHOP_SLUGS } = await import('../../src/db/seed.js');
    const doc = YAML.parse(readFileSync(OPENAPI_TEMPLATE_PATH, 'utf8')) as unknown;
    const found: Array<{ at: string; slug: string }> = [];
    exampleSlugs(doc, '', found);
    expect(found.length).toBeGreaterThanOrEqual(3);
    const kept = new Set(DEMO_SHOPS.map((s) => s.slug).filter((s) => !(TEST_SHOP_SLUGS as readonly string[]).includes(s)));
    for (const { at, slug } of found) expect(kept.has(slug), `${at}: ${slug} is deleted by the purge or is not a demo shop`).toBe(true);
    // The not-found example names a shop that exists nowhere.
    expect(JSON.stringify(doc)).not.toMatch(new RegExp(TEST_SHOP_SLUGS.join('|')));
  });
});
