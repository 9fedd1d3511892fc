/**
 * One schema, one type (issue 14, A14; STYLE.md §19): the TypeScript types of the API's bodies
 * are generated from openapi/openapi_chatgpt.yaml into src/openapi/contract-types.ts, and the
 * routes' request types (src/server/schemas.ts) are those types. This test regenerates them and
 * fails when the committed file is stale, so a changed field or bound in the document cannot go
 * without its type — like the migration sum and the schema snapshot.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

describe('src/openapi/contract-types.ts is generated from the OpenAPI document', () => {
  it('matches what openapi-typescript makes of openapi/openapi_chatgpt.yaml (else run npm run openapi:types)', async () => {
    const ast = await openapiTS(pathToFileURL(path.join(REPO_ROOT, 'openapi', 'openapi_chatgpt.yaml')));
    const committed = readFileSync(path.join(REPO_ROOT, 'src', 'openapi', 'contract-types.ts'), 'utf8');
    const body = (text: string) => text.replace(/^\/\*\*[\s\S]*?\*\/\s*/, '').trim();
    expect(body(committed), 'src/openapi/contract-types.ts is stale: run npm run openapi:types').toBe(body(astToString(ast)));
  });
});
