/**
 * The configuration file's validator is compiled at build time (scripts/build-validators.mjs →
 * dist/config/file-schema.validate.cjs), so no command pays ajv's compile at start-up. It must be
 * made from the current schema (its hash), and it must say exactly what ajv compiling the schema
 * says — the same verdict and the same errors, which the problems shown to the user are made of.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONFIG_AJV_OPTIONS, configFileSchema, configSchemaHash } from '../../src/config/file-schema.js';
import { CONFIG_TEMPLATE } from '../../src/commands/init/templates.js';
import { REPO_ROOT } from '../helpers/cli.js';

type Validate = ((data: unknown) => boolean) & { errors?: unknown[] | null; schemaHash?: string };
const built = createRequire(import.meta.url)(path.join(REPO_ROOT, 'dist', 'config', 'file-schema.validate.cjs')) as Validate;
const compiled = new Ajv(CONFIG_AJV_OPTIONS).compile(configFileSchema) as Validate;

const env = (e: Record<string, unknown>) => ({ version: 1, environments: { prod: e } });
const CASES: Array<[string, unknown]> = [
  ['the init template', YAML.parse(CONFIG_TEMPLATE)],
  ['an empty file', {}],
  ['a wrong version', { version: 2 }],
  ['an unknown key', { version: 1, colour: 'blue' }],
  ['a database of the wrong shape', env({ database: { url_env: 5, port: 5432 } })],
  ['a duration of the wrong type', env({ lock_timeout: true, deploy: { timeout: [] } })],
  ['hosts with bad members', env({ deploy: { hosts: [{ name: 1 }, { via: 'ssh' }], strategy: { batch: 0, max_fail: -1, canary: 'yes' } } })],
  ['many problems at once', { version: 1, environments: { a: { rate_limits: { search_per_minute: 'fast' }, watch: { min_requests: 0 } }, b: 7 } }],
];

describe('the precompiled configuration validator', () => {
  it('was built from the current schema and options', () => {
    expect(built.schemaHash).toBe(configSchemaHash());
  });

  it.each(CASES)('says what ajv compiling the schema says: %s', (_name, data) => {
    const ok = compiled(structuredClone(data));
    expect(built(structuredClone(data))).toBe(ok);
    expect(built.errors ?? null).toEqual(compiled.errors ?? null);
  });

  it('every case after the first two is invalid, so there are errors to compare', () => {
    const failing = CASES.filter(([, data]) => !compiled(structuredClone(data)));
    expect(failing.map(([name]) => name)).toEqual(CASES.slice(2).map(([name]) => name));
  });
});
