import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/resolve.js';
import { runCli, tempDir } from '../helpers/cli.js';

type Row = { key: string; value: string; source: string; origin: string; missing?: string };
const rows = (stdout: string): Record<string, Row> => Object.fromEntries((JSON.parse(stdout).values as Row[]).map((v) => [v.key, v]));

function dir(files: Record<string, string>): string {
  const cwd = tempDir();
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(cwd, name), text);
  return cwd;
}

describe('config show asks only for what it needs (issue 10 part 6)', () => {
  it('--env prod without DATABASE_URL shows the configuration, marks the missing value, exit 0', async () => {
    const result = await runCli(['config', 'show', '--env', 'prod']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('DATABASE_URL  (not set — required for prod: set it in the environment or .env)');
    expect(result.stdout).toContain('rate_limits.search_per_minute');
    expect(result.stderr).not.toContain('Fix the values above');
    const json = await runCli(['config', 'show', '--env', 'prod', '--json']);
    expect(json.exitCode).toBe(0);
    expect(rows(json.stdout).database).toMatchObject({ source: 'default', missing: 'set DATABASE_URL in the environment or .env' });
    expect(JSON.parse(json.stdout).missing).toEqual([{ key: 'DATABASE_URL', fix: 'set DATABASE_URL in the environment or .env' }]);
  });

  it('--check exits 2 for the missing value, after printing the values it refers to', async () => {
    const result = await runCli(['config', 'show', '--env', 'prod', '--check']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toContain('DATABASE_URL  (not set — required for prod');
    expect(result.stderr).toContain('DATABASE_URL is not set (required for prod): set DATABASE_URL in the environment or .env.');
    expect(result.stderr).toContain('→ Fix the values above, then run `routergpt config show --env prod --check` again.');
    const ok = await runCli(['config', 'show', '--env', 'prod', '--check'], { env: { DATABASE_URL: 'postgres://h/db' } });
    expect(ok.exitCode).toBe(0);
    const json = await runCli(['config', 'show', '--env', 'prod', '--check', '--json']);
    expect(json.exitCode).toBe(2);
    // One JSON document: the values, with the missing one in it.
    expect(JSON.parse(json.stdout).missing).toHaveLength(1);
  });

  it('an invalid value is listed after the table, and "Fix the values above" refers to it', async () => {
    const result = await runCli(['config', 'show'], { env: { PORT: 'eighty' } });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toMatch(/server\.port\s.*│ PORT \(from the environment\)/);
    expect(result.stderr).toContain('PORT (from the environment) is "eighty": the port must be a whole number from 0 to 65535.');
    expect(result.stderr).toContain('→ Fix the values above');
  });
});

describe('the hint names the fix when no values are printed above it', () => {
  it('a command that needs the database and has none', async () => {
    const result = await runCli(['migrate', 'status', '--env', 'prod']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('Set DATABASE_URL in the environment or .env, or use --env local');
    expect(result.stderr).not.toContain('Fix the values above');
    expect(result.stderr).toContain('→ Fix it as said, then run `routergpt config show --env prod` to check.');
  });

  it('a bad file names the file', async () => {
    const cwd = dir({ 'routergpt.config.yaml': 'version: 2\n' });
    const result = await runCli(['migrate', 'status'], { cwd });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).not.toContain('Fix the values above');
    expect(result.stderr).toContain(`→ Fix ${path.join(cwd, 'routergpt.config.yaml')} (see docs/configuration.md)`);
  });
});

describe('config errors quote the value and give the allowed ones', () => {
  it('schema problems: the value written and what is allowed', async () => {
    const cwd = dir({ 'routergpt.config.yaml': 'version: 2\nenvironments:\n  prod:\n    databse: embedded\n    server: { port: "eighty", host: 7 }\n    rate_limits: { search_per_minute: -3 }\n    database: { url_env: lower_case }\n    approvals: { required: 11 }\n    lock_timeout: true\n' });
    const result = await runCli(['config', 'show', '--env', 'prod'], { cwd });
    expect(result.exitCode).toBe(2);
    for (const line of [
      'version: must be 1 (got 2)',
      'environments.prod: unknown key "databse" (did you mean "database"?); allowed: database, protected, public_api_base',
      'environments.prod.server.port: must be a whole number (got "eighty")',
      'environments.prod.server.host: must be text (got 7)',
      'environments.prod.rate_limits.search_per_minute: must be ≥ 1 (got -3)',
      'environments.prod.database.url_env: must be an environment variable name (A–Z, 0–9, _) (got "lower_case")',
      'environments.prod.approvals.required: must be from 0 to 10 (got 11)',
      'environments.prod.lock_timeout: must be a duration (30s, 5m, 2h) or a whole number of milliseconds (got true)',
    ]) expect(result.stderr).toContain(`  - ${line}`);
    expect(result.stderr).toContain('routergpt.config.yaml has 8 problems:');
  });

  it('database: neither "embedded" nor a mapping', async () => {
    const cwd = dir({ 'routergpt.config.yaml': 'version: 1\nenvironments:\n  staging:\n    database: embeded\n' });
    const result = await runCli(['migrate', 'status', '--env', 'staging'], { cwd });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('environments.staging.database: must be "embedded" or a mapping with url_env, url or data_dir (got "embeded")');
  });

  it('schema and value problems in one error, values from .env said to be', async () => {
    const cwd = dir({
      'routergpt.config.yaml': 'version: 2\n',
      '.env': 'DATABASE_URL=mysql://app:pw1234secret@db/app\nPUBLIC_API_BASE=api.example.com\nRATE_LIMIT_DELEGATE_PER_MIN=lots\n', // routergpt:allow-secret (a test fixture, not a credential)
    });
    const result = await runCli(['migrate', 'status', '--env', 'prod'], { cwd, env: { RATE_LIMIT_SEARCH_PER_MIN: 'many' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('5 configuration problems:');
    expect(result.stderr).toContain('  - routergpt.config.yaml: version: must be 1 (got 2)');
    expect(result.stderr).toContain('  - DATABASE_URL (from .env) has scheme "mysql://"; it must be postgres:// or postgresql://.');
    expect(result.stderr).toContain('  - PUBLIC_API_BASE (from .env) is "api.example.com", not a URL: it must be an absolute http(s) URL.');
    expect(result.stderr).toContain('  - RATE_LIMIT_SEARCH_PER_MIN (from the environment) is "many": a rate limit must be a whole number ≥ 1.');
    expect(result.stderr).toContain('  - RATE_LIMIT_DELEGATE_PER_MIN (from .env) is "lots": a rate limit must be a whole number ≥ 1.');
    expect(result.stderr).not.toContain('pw1234secret');
  });

  it('a database URL that does not parse is quoted, its password masked', async () => {
    const result = await runCli(['migrate', 'status', '--env', 'prod'], { env: { DATABASE_URL: 'postgres://app:pw1234secret@db:notaport/app' } }); // routergpt:allow-secret (a test fixture, not a credential)
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('DATABASE_URL (from the environment) is "postgres://app:*****@db:notaport/app", not a valid URL');
    expect(result.stderr).not.toContain('pw1234secret');
  });
});

describe('each value keeps its own source, field by field', () => {
  it('RATE_LIMIT_SEARCH_PER_MIN alone: the delegate limit keeps its own source', async () => {
    const result = await runCli(['config', 'show', '--json'], { env: { RATE_LIMIT_SEARCH_PER_MIN: '7' } });
    expect(result.exitCode).toBe(0);
    const r = rows(result.stdout);
    expect(r['rate_limits.search_per_minute']).toMatchObject({ value: '7', source: 'env', origin: 'RATE_LIMIT_SEARCH_PER_MIN (from the environment)' });
    expect(r['rate_limits.delegate_per_minute']).toMatchObject({ value: '10', source: 'default', origin: 'built-in default' });
    const cwd = dir({ 'routergpt.config.yaml': 'version: 1\nenvironments:\n  local:\n    rate_limits: { delegate_per_minute: 3 }\n' });
    const file = rows((await runCli(['config', 'show', '--json'], { cwd, env: { RATE_LIMIT_SEARCH_PER_MIN: '7' } })).stdout);
    expect(file['rate_limits.delegate_per_minute']).toMatchObject({ value: '3', source: 'file', origin: 'routergpt.config.yaml: environments.local.rate_limits.delegate_per_minute' });
  });

  it('PORT alone: the host keeps its own source; a value from .env says so', async () => {
    const cwd = dir({ '.env': 'HOST=0.0.0.0\n' });
    const r = rows((await runCli(['config', 'show', '--json'], { env: { PORT: '9100' } })).stdout);
    expect(r['server.port']).toMatchObject({ value: '9100', source: 'env' });
    expect(r['server.host']).toMatchObject({ value: '127.0.0.1', source: 'default' });
    const dotenv = rows((await runCli(['config', 'show', '--json'], { cwd })).stdout);
    expect(dotenv['server.host']).toMatchObject({ value: '0.0.0.0', source: 'env', origin: 'HOST (from .env)' });
    expect(dotenv['server.port']).toMatchObject({ source: 'default' });
  });

  it('--host alone (serve): a bad PORT is still said to come from the environment', async () => {
    const result = await runCli(['serve', '--host', '127.0.0.1'], { env: { PORT: 'abc' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('PORT (from the environment) is "abc"');
    expect(result.stderr).not.toContain('--host');
  });

  it('--port alone: the host does not claim to come from the flags', () => {
    const c = loadConfig({ flags: { port: 9200 }, cwd: tempDir(), env: { HOST: '0.0.0.0' } }).config;
    expect(c.server.parts.port).toMatchObject({ value: 9200, source: 'flag', origin: '--port' });
    expect(c.server.parts.host).toMatchObject({ value: '0.0.0.0', source: 'env', origin: 'HOST (from the environment)' });
    expect(c.server.value).toEqual({ host: '0.0.0.0', port: 9200 });
    const d = loadConfig({ flags: { port: 9200 }, cwd: tempDir(), env: {} }).config;
    expect(d.server.parts.host).toMatchObject({ source: 'default', origin: 'built-in default' });
  });
});
