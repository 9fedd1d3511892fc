import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CODE_TABLE } from '../../src/cli/exit-codes.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

describe('exit codes are documented where users look', () => {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'exit-codes.md'), 'utf8');
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

  it.each(EXIT_CODE_TABLE)('code $code is in docs/exit-codes.md and the README', ({ code, meaning }) => {
    expect(doc).toContain(`| ${code} | ${meaning} |`);
    expect(readme).toMatch(new RegExp(`\\| ${code} \\| `));
  });

  it('and in --help', async () => {
    const help = await runCli(['--help']);
    expect(help.exitCode).toBe(0);
    for (const { code, meaning } of EXIT_CODE_TABLE) expect(help.stdout).toContain(`${String(code).padEnd(4)} ${meaning}`);
  });
});

describe('this repository passes its own secrets check', () => {
  it('security.secrets-not-committed is green on the repository (fixtures carry routergpt:allow-secret)', async () => {
    const { findCheck } = await import('../../src/checks/registry.js');
    const { runChecks } = await import('../../src/checks/run-checks.js');
    const { loadConfig } = await import('../../src/config/resolve.js');
    const config = loadConfig({ flags: {}, cwd: REPO_ROOT, env: {} }).config;
    const [outcome] = await runChecks({ checks: [findCheck('security.secrets-not-committed')!], deps: { config, repoDir: REPO_ROOT, fetch, now: () => new Date() } });
    expect(outcome?.details ?? []).toEqual([]);
    expect(outcome?.status).toBe('pass');
  });
});
