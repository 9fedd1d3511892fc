import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_DURATION_MS, parseDuration, parseDurationOrMs, parseSince } from '../../src/config/duration.js';
import { loadConfig } from '../../src/config/resolve.js';
import { UsageError } from '../../src/errors.js';
import { runCli, tempDir } from '../helpers/cli.js';

const GRAMMAR = 'use a number with ms, s, m, h, d or w (e.g. 30s, 5m)';

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseDuration: \\d+(ms|s|m|h|d|w)', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['0s', 0],
    ['0ms', 0],
    ['  45s\t', 45_000],
    ['007s', 7_000],
  ])('%j is %i ms', (text, ms) => {
    expect(parseDuration(text, '--lock-wait')).toBe(ms);
  });

  it.each(['5', '5 m', '5min', '-5s', '1.5h', '', '   ', 's', '5S', '5ms5', '1e3ms', '5 minutes', '+5s', '0x10s'])('%j is refused with one message naming it, the grammar and an example', (text) => {
    const error = usageError(() => parseDuration(text, '--lock-wait'));
    expect(error.message).toBe(`--lock-wait ${JSON.stringify(text)} is not a duration: ${GRAMMAR}`);
    expect(error.message).not.toContain('\n');
  });

  it('the message is the one from the brief', () => {
    expect(usageError(() => parseDuration('5 minutes', '--lock-wait')).message).toBe('--lock-wait "5 minutes" is not a duration: use a number with ms, s, m, h, d or w (e.g. 30s, 5m)');
  });

  it('the bound is what a timer can hold: 24d passes, 25d, 4w and overflow are refused', () => {
    expect(parseDuration('24d', '--timeout')).toBe(24 * 86_400_000);
    expect(parseDuration(`${MAX_DURATION_MS}ms`, '--timeout')).toBe(MAX_DURATION_MS);
    for (const text of ['25d', '4w', `${MAX_DURATION_MS + 1}ms`, '99999999999999999999w', `${'9'.repeat(400)}s`]) {
      const error = usageError(() => parseDuration(text, '--timeout'));
      expect(error.message).toBe(`--timeout ${JSON.stringify(text)} is too long: use at most 24d (e.g. 30s, 5m)`);
    }
  });
});

describe('parseDurationOrMs: the bare milliseconds lock_timeout and deploy.timeout took before', () => {
  it('a bare number (YAML number or string) is milliseconds; the grammar works too', () => {
    expect(parseDurationOrMs(5000, 'lock_timeout')).toBe(5000);
    expect(parseDurationOrMs('5000', 'lock_timeout')).toBe(5000);
    expect(parseDurationOrMs(0, 'lock_timeout')).toBe(0);
    expect(parseDurationOrMs('2m', 'lock_timeout')).toBe(120_000);
  });

  it.each([[-1], [1.5], ['5 m'], ['1.5h'], ['']])('%j is still refused', (value) => {
    expect(usageError(() => parseDurationOrMs(value, 'lock_timeout')).message).toContain('is not a duration: use a number with ms, s, m, h, d or w');
  });

  it('and bounded like the rest', () => {
    expect(usageError(() => parseDurationOrMs(2 ** 31, 'lock_timeout')).message).toContain('is too long');
  });
});

describe('parseSince: a duration before now, or an ISO 8601 date', () => {
  const now = new Date('2026-12-01T10:00:00.000Z');

  it('a duration is that long before now — longer than 24d too', () => {
    expect(parseSince('7d', now).toISOString()).toBe('2026-11-24T10:00:00.000Z');
    expect(parseSince('90m', now).toISOString()).toBe('2026-12-01T08:30:00.000Z');
    expect(parseSince('0s', now).toISOString()).toBe(now.toISOString());
    expect(parseSince('52w', now).toISOString()).toBe('2025-12-02T10:00:00.000Z');
  });

  it('a date is midnight UTC; a date-time keeps its offset, and without one is UTC', () => {
    expect(parseSince('2026-11-30', now).toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(parseSince('2026-11-30T12:00:00Z', now).toISOString()).toBe('2026-11-30T12:00:00.000Z');
    expect(parseSince('2026-11-30T12:00:00+02:00', now).toISOString()).toBe('2026-11-30T10:00:00.000Z');
    expect(parseSince('2026-11-30T12:00-05:30', now).toISOString()).toBe('2026-11-30T17:30:00.000Z');
    expect(parseSince('2026-11-30T12:00:00.25Z', now).toISOString()).toBe('2026-11-30T12:00:00.250Z');
    expect(parseSince('2026-11-30T12:00:00', now).toISOString()).toBe('2026-11-30T12:00:00.000Z');
    expect(parseSince(' 2024-02-29 ', now).toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  it.each(['2026-02-30', '2025-02-29', '2026-13-01', '2026-11-30T24:00:00Z', '2026-11-30T12:60Z', '2026-11-30T12:00:00+25:00', '30/11/2026', 'yesterday', '5', '2026-11-30 12:00', ''])('%j is refused naming both forms', (text) => {
    expect(usageError(() => parseSince(text, now, '--since')).message).toBe(
      `--since ${JSON.stringify(text)} is not a duration or a date: use a number with ms, s, m, h, d or w (e.g. 7d) or an ISO 8601 date (e.g. 2026-11-30 or 2026-11-30T12:00:00Z)`,
    );
  });

  it('a duration further back than a Date can go is refused', () => {
    expect(usageError(() => parseSince('99999999999w', now)).message).toContain('"99999999999w" is too long ago');
  });
});

describe('config keys and environment variables use the grammar', () => {
  function configDir(yaml: string): string {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, 'routergpt.config.yaml'), yaml);
    return cwd;
  }

  it('lock_timeout and deploy.timeout take every unit; a bare number is still milliseconds', () => {
    const cwd = configDir('version: 1\nenvironments:\n  local:\n    lock_timeout: 2h\n    deploy: { timeout: 1w, commands: [echo deployed] }\n  staging:\n    lock_timeout: 5000\n    deploy: { timeout: "300000" }\n');
    const local = loadConfig({ flags: {}, cwd, env: {} }).config;
    expect(local.lockTimeoutMs).toMatchObject({ value: 7_200_000, source: 'file' });
    expect(local.deploy.value.timeoutMs).toBe(604_800_000);
    const staging = loadConfig({ flags: { env: 'staging' }, cwd, env: { DATABASE_URL: 'postgres://h/db' } }).config;
    expect(staging.lockTimeoutMs.value).toBe(5000);
    expect(staging.deploy.value.timeoutMs).toBe(300_000);
    expect(loadConfig({ flags: {}, cwd, env: { ROUTERGPT_LOCK_TIMEOUT: '750ms' } }).config.lockTimeoutMs).toMatchObject({ value: 750, source: 'env' });
    expect(loadConfig({ flags: {}, cwd, env: { ROUTERGPT_LOCK_TIMEOUT: '750' } }).config.lockTimeoutMs.value).toBe(750);
  });

  it('a bad duration in any environment is reported with the others, naming the key', () => {
    const cwd = configDir('version: 1\nenvironments:\n  prod:\n    lock_timeout: 5min\n    deploy: { timeout: 1.5h }\n    databse: embedded\n');
    const error = (() => {
      try {
        loadConfig({ flags: {}, cwd, env: {} });
      } catch (e) {
        return e as Error & { problems: string[] };
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.problems).toEqual([
      expect.stringMatching(/^routergpt\.config\.yaml: environments\.prod: unknown key "databse" \(did you mean "database"\?\); allowed: database, /),
      `routergpt.config.yaml: environments.prod.lock_timeout "5min" is not a duration: ${GRAMMAR}`,
      `routergpt.config.yaml: environments.prod.deploy.timeout "1.5h" is not a duration: ${GRAMMAR}`,
    ]);
  });

  it('a bad ROUTERGPT_LOCK_TIMEOUT is named', () => {
    expect(() => loadConfig({ flags: {}, cwd: tempDir(), env: { ROUTERGPT_LOCK_TIMEOUT: '5 s' } })).toThrow(`ROUTERGPT_LOCK_TIMEOUT "5 s" is not a duration: ${GRAMMAR}`);
  });
});

describe('the CLI', () => {
  it('a flag: migrate up --lock-wait "5 minutes" exits 2 with the one-line message; verify --timeout 2m is accepted', async () => {
    const bad = await runCli(['migrate', 'up', '--lock-wait', '5 minutes']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toBe(`routergpt: --lock-wait "5 minutes" is not a duration: ${GRAMMAR}\n`);
    const bare = await runCli(['verify', '--timeout', '20', '--list']);
    expect(bare.exitCode).toBe(2);
    expect(bare.stderr).toContain(`--timeout "20" is not a duration: ${GRAMMAR}`);
    const good = await runCli(['verify', '--timeout', '2m', '--list']);
    expect(good.exitCode).toBe(0);
    expect(good.stdout).toContain('db.');
  });

  it('a config key: config show refuses lock_timeout "5 m" and shows lock_timeout 2h', async () => {
    const cwd = tempDir();
    writeFileSync(path.join(cwd, 'routergpt.config.yaml'), 'version: 1\nenvironments:\n  local:\n    lock_timeout: 5 m\n');
    const bad = await runCli(['config', 'show'], { cwd });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(`routergpt.config.yaml has 1 problem:\n  - environments.local.lock_timeout "5 m" is not a duration: ${GRAMMAR}`);
    expect(bad.stderr).toContain('→ Fix');
    writeFileSync(path.join(cwd, 'routergpt.config.yaml'), 'version: 1\nenvironments:\n  local:\n    lock_timeout: 2h\n');
    const good = await runCli(['config', 'show', '--json'], { cwd });
    expect(good.exitCode).toBe(0);
    const lock = JSON.parse(good.stdout).values.find((v: { key: string }) => v.key === 'lock_timeout');
    expect(lock).toMatchObject({ value: '7200000ms', source: 'file' });
  });
});
