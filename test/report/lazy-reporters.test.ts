import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir } from '../helpers/cli.js';

/**
 * Issue 16: `verify --reporter json|junit` (CI's runs) does not load the human renderer —
 * chalk, wrap-ansi and its emoji tables, ≈ 30 ms — and `--reporter human` still does. An ESM
 * resolve hook records every module the process resolves (ESM is not in require.cache).
 */
describe('verify loads the human renderer only for the human reporter', () => {
  const dir = tempDir();
  const hooks = path.join(dir, 'record-hooks.mjs');
  writeFileSync(hooks, `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.RECORD_RESOLVED, resolved.url + '\\n');
  return resolved;
}\n`);
  const register = `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`;

  const resolved = (reporter: string): { stdout: string; modules: string[] } => {
    const record = path.join(dir, `resolved-${reporter}.txt`);
    writeFileSync(record, '');
    const child = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, BIN, 'verify', '--only', 'openapi.valid', '--reporter', reporter], {
      cwd: dir,
      env: cleanEnv({ RECORD_RESOLVED: record }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.status, child.stderr).toBe(0);
    return { stdout: child.stdout, modules: readFileSync(record, 'utf8').split('\n').filter(Boolean) };
  };
  const renderer = (modules: string[]) => modules.filter((m) => /\/node_modules\/(wrap-ansi|chalk)\/|\/dist\/report\/human\.js$/.test(m));

  it('json and junit resolve none of it; human resolves it and prints the table', () => {
    const [json] = ['json', 'junit'].map((reporter) => {
      const run = resolved(reporter);
      expect(run.modules.some((m) => m.endsWith('/dist/report/emit.js')), 'the recorder saw the reporters load').toBe(true);
      expect(renderer(run.modules), reporter).toEqual([]);
      return run;
    });
    expect((JSON.parse(json!.stdout) as { checks: { id: string; status: string }[] }).checks).toEqual([expect.objectContaining({ id: 'openapi.valid', status: 'pass' })]);
    const human = resolved('human');
    expect(renderer(human.modules)).toEqual(expect.arrayContaining([expect.stringMatching(/\/node_modules\/wrap-ansi\//), expect.stringMatching(/\/dist\/report\/human\.js$/)]));
    expect(human.stdout).toMatch(/pass\W+openapi\.valid/);
  });
});
