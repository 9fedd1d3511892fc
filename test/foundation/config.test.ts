import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { holdsCredential } from '../../src/config/mask.js';
import { loadConfig } from '../../src/config/resolve.js';
import { runCli, tempDir } from '../helpers/cli.js';

describe('configuration precedence and sources', () => {
  it('without a file, local is embedded and prod takes DATABASE_URL', () => {
    const cwd = tempDir();
    const local = loadConfig({ flags: {}, cwd, env: {} }).config;
    expect(local.name).toBe('local');
    expect(local.database.value.kind).toBe('embedded');
    const prod = loadConfig({ flags: { env: 'prod' }, cwd, env: { DATABASE_URL: 'postgres://u:p@h/db' } }).config;
    expect(prod.database).toMatchObject({ value: { kind: 'url', url: 'postgres://u:p@h/db' }, source: 'env', origin: 'DATABASE_URL (from the environment)' });
    expect(prod.protected.value).toBe(true);
  });

  it('flag > environment > file > default, each with its source', () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, 'routergpt.config.yaml'), 'version: 1\nenvironments:\n  staging:\n    public_api_base: https://file.example.com\n    server: { port: 9000 }\n    rate_limits: { search_per_minute: 5 }\n');
    const env = { DATABASE_URL: 'postgres://h/db', PORT: '9100' };
    const c = loadConfig({ flags: { env: 'staging', port: 9200 }, cwd, env }).config;
    expect(c.server).toMatchObject({ value: { port: 9200 }, source: 'flag' });
    expect(loadConfig({ flags: { env: 'staging' }, cwd, env }).config.server).toMatchObject({ value: { port: 9100 }, source: 'env' });
    expect(loadConfig({ flags: { env: 'staging' }, cwd, env: { DATABASE_URL: 'postgres://h/db' } }).config.server).toMatchObject({ value: { port: 9000 }, source: 'file' });
    expect(c.publicApiBase).toMatchObject({ value: 'https://file.example.com', source: 'file' });
    expect(loadConfig({ flags: { env: 'staging' }, cwd, env: { ...env, PUBLIC_API_BASE: 'https://env.example.com' } }).config.publicApiBase).toMatchObject({ value: 'https://env.example.com', source: 'env' });
    expect(c.rateLimits.value).toEqual({ searchPerMinute: 5, delegatePerMinute: 10 });
    expect(c.allowedOrigins.source).toBe('default');
  });

  it('.env is read, and real environment variables win over it', () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, '.env'), 'DATABASE_URL=postgres://from-dotenv/db\nPUBLIC_API_BASE=https://dotenv.example.com\n');
    const c = loadConfig({ flags: { env: 'prod' }, cwd, env: { PUBLIC_API_BASE: 'https://real.example.com' } }).config;
    expect(c.database.value).toMatchObject({ url: 'postgres://from-dotenv/db' });
    expect(c.publicApiBase.value).toBe('https://real.example.com');
  });

  it('the checklist\'s SQLAlchemy-style URL (postgresql+asyncpg://) is accepted', () => {
    const c = loadConfig({ flags: { env: 'prod' }, cwd: tempDir(), env: { DATABASE_URL: 'postgresql+asyncpg://u:p@h:5432/db' } }).config;
    expect(c.database.value.kind).toBe('url');
  });
});

describe('routergpt init and config show', () => {
  it('init writes the config and .env.example, git-ignores .env, and keeps existing files', async () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, '.gitignore'), 'node_modules/\n');
    const first = await runCli(['init'], { cwd });
    expect(first.exitCode).toBe(0);
    expect(readFileSync(path.join(cwd, '.gitignore'), 'utf8')).toMatch(/^\.env$/m);
    expect(readFileSync(path.join(cwd, 'routergpt.config.yaml'), 'utf8')).toContain('prod:');
    expect(readFileSync(path.join(cwd, '.env.example'), 'utf8')).toContain('DATABASE_URL=');
    const second = await runCli(['init'], { cwd });
    expect(second.stderr).toContain('kept routergpt.config.yaml');
    // The written file is valid config for every environment.
    const show = await runCli(['config', 'show', '--env', 'prod', '--json'], { cwd, env: { DATABASE_URL: 'postgres://admin:hunter2secret@db.internal:5432/app', OPENAI_API_KEY: 'sk-live-abcdefghijklmnop' } }); // routergpt:allow-secret (a test fixture, not a credential)
    expect(show.exitCode).toBe(0);
    const values = Object.fromEntries(JSON.parse(show.stdout).values.map((v: { key: string }) => [v.key, v]));
    expect(values.database).toMatchObject({ value: 'postgres://admin:*****@db.internal:5432/app', source: 'env' });
    expect(values.public_api_base).toMatchObject({ value: 'https://api.yourdomain.com', source: 'file' });
    expect(show.stdout).not.toContain('hunter2secret');
    expect(show.stdout).not.toContain('sk-live-abcdefghijklmnop');
  });

  it('config show (human) masks secrets too', async () => {
    const result = await runCli(['config', 'show', '--env', 'staging'], { env: { DATABASE_URL: 'postgres://admin:hunter2secret@db:5432/app', ROUTERGPT_API_KEY: 'topsecretapikey' } }); // routergpt:allow-secret (a test fixture, not a credential)
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('DATABASE_URL (from the environment)');
    expect(result.stdout + result.stderr).not.toMatch(/hunter2secret|topsecretapikey/);
  });
});

describe('the configuration file through the YAML cache', () => {
  // A fresh process each time: within one, small texts are parsed directly once yaml is loaded.
  const stored = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).map((f) => readFileSync(path.join(dir, f), 'utf8')) : []);
  const show = (cwd: string, cache: string, env: Record<string, string> = {}) => runCli(['config', 'show', '--env', 'staging'], { cwd, env: { XDG_CACHE_HOME: cache, ...env } });

  it('keeps the parse of a file that names its secrets by variable, and reads it back the same', async () => {
    const cwd = tempDir();
    const cache = tempDir();
    writeFileSync(path.join(cwd, 'routergpt.config.yaml'), 'version: 1\nenvironments:\n  staging:\n    database: { url_env: STAGING_DB }\n    public_api_base: https://staging.example.com\n');
    const env = { STAGING_DB: 'postgres://u:pw-from-env@h/db' }; // routergpt:allow-secret
    const first = await show(cwd, cache, env);
    expect(first.exitCode).toBe(0);
    const entries = stored(path.join(cache, 'routergpt', 'yaml'));
    expect(entries).toHaveLength(1);
    expect(JSON.parse(entries[0]!).value).toEqual({ version: 1, environments: { staging: { database: { url_env: 'STAGING_DB' }, public_api_base: 'https://staging.example.com' } } });
    const again = await show(cwd, cache, env);
    expect(again).toEqual(first);
    expect(first.stdout).toContain('https://staging.example.com');
  });

  it('never writes a file that holds a credential, and still reads it', async () => {
    const cwd = tempDir();
    const cache = tempDir();
    writeFileSync(path.join(cwd, 'routergpt.config.yaml'), 'version: 1\nenvironments:\n  staging:\n    database: { url: "postgres://app:hunter2-literal@db.internal/app" }\n'); // routergpt:allow-secret
    const r = await show(cwd, cache);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('db.internal');
    expect(stored(path.join(cache, 'routergpt', 'yaml'))).toEqual([]);
  });

  it('tells a credential from a name, conservatively', () => {
    const plain = { version: 1, environments: { prod: { database: { url_env: 'DATABASE_URL' }, public_api_base: 'https://api.example.com/v1', approvals: { approvers: ['alice@example.com'] }, watch: { interval: '5m' }, notify: [{ url_env: 'SLACK_WEBHOOK' }], rate_limits: { search_per_minute: 60 }, allow_test_bookings: false } } };
    expect(holdsCredential(plain)).toBe(false);
    for (const secret of [
      { database: { url: 'postgres://u:p4ss@h/db' } }, // routergpt:allow-secret
      { database: { url: 'postgresql+asyncpg://u:p4ss@h/db' } }, // routergpt:allow-secret
      { database: { url: 'postgres://u:123/x@h/db' } }, // a password that parses as a port; routergpt:allow-secret
      { database: { url: 'postgres://u@h/db?p%61ssword=x' } },
      { database: { url: 'host=db user=app password=x dbname=app' } }, // routergpt:allow-secret
      { database: { url: 'host=h sslpassword=x' } },
      { hosts: [{ name: 'a', url: 'http://h:8080/?token=abc' }] },
      { hosts: [{ name: 'a', url: 'https://ghp_abc123@github.com/org/repo' }] }, // a token as the user name
      { deploy: { commands: ['PGPASSWORD=hunter2 pg_dump app'] } }, // routergpt:allow-secret
      { deploy: { commands: ['curl -u admin:s3cret https://h/hook'] } },
      { backup: { copy_command: 'aws s3 cp {file} s3://b/ --profile x' } }, // any command: not plainly safe
      { notify: { api_key: 'abc' } },
      { x: 'AWS_SECRET_ACCESS_KEY=abc' },
      { x: 'admin:s3cret@db.internal' },
    ]) expect(holdsCredential(secret), JSON.stringify(secret)).toBe(true);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(holdsCredential(cyclic)).toBe(true); // a YAML alias loop: never cached, and no stack overflow
  });
});
