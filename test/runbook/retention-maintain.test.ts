/**
 * Retention through the real CLI (docs/maintenance.md#retention): refused settings (delete at or
 * before archive; delete shorter than the watch's baseline) exit 2 naming both settings and
 * change nothing; on the embedded database `maintain daily --dry-run` counts, `maintain daily`
 * archives, `maintain weekly` backs up and then deletes and anonymises — and without a backup in
 * the run, deleting is refused by the backup gate.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/runbook/journal.js';
import { runCli, tempDir } from '../helpers/cli.js';

function writeConfig(dir: string, env: string, body: string): void {
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), `version: 1\nenvironments:\n  ${env}:\n${body}`);
}

describe('retention settings that cannot work are refused', () => {
  it('analytics_delete_days at or below analytics_archive_days: exit 2, both named, nothing run', async () => {
    const dir = tempDir();
    writeConfig(dir, 'staging', '    retention: { analytics_archive_days: 30, analytics_delete_days: 30 }\n');
    const result = await runCli(['maintain', 'daily', '--env', 'staging'], { cwd: dir, env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('environments.staging.retention.analytics_delete_days (30) must be more than retention.analytics_archive_days (30)');
    expect(result.stderr).toContain('set analytics_delete_days above 30');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir)).toEqual(['routergpt.config.yaml']);
  });

  it('analytics_delete_days shorter than the watch baseline (a week back + watch.for): exit 2 naming both', async () => {
    const dir = tempDir();
    writeConfig(dir, 'staging', '    retention: { analytics_delete_days: 7 }\n');
    const byDefault = await runCli(['config', 'show', '--env', 'staging'], { cwd: dir, env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' } });
    expect(byDefault.exitCode).toBe(2);
    expect(byDefault.stderr).toContain("retention.analytics_delete_days (7) is shorter than routergpt watch's baseline needs");
    expect(byDefault.stderr).toContain('7 days + watch.for 15m (watch.for, built-in default) = 8 days back');
    writeConfig(dir, 'staging', '    watch: { for: 2d, interval: 1h }\n    retention: { analytics_archive_days: 3, analytics_delete_days: 8 }\n');
    const longWatch = await runCli(['maintain', 'weekly', '--env', 'staging'], { cwd: dir, env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' } });
    expect(longWatch.exitCode).toBe(2);
    expect(longWatch.stderr).toContain('retention.analytics_delete_days (8) is shorter');
    expect(longWatch.stderr).toContain('watch.for 2d (routergpt.config.yaml: environments.staging.watch');
    expect(longWatch.stderr).toContain('set analytics_delete_days to at least 9, or shorten watch.for');
    expect(readdirSync(dir)).toEqual(['routergpt.config.yaml']);
  });

  it('config show lists each retention age with its source, and unset ones as kept forever', async () => {
    const dir = tempDir();
    writeConfig(dir, 'staging', '    retention: { analytics_archive_days: 30 }\n');
    const result = await runCli(['config', 'show', '--env', 'staging', '--json'], { cwd: dir, env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' } });
    expect(result.exitCode, result.stderr).toBe(0);
    const values = (JSON.parse(result.stdout) as { values: Array<{ key: string; value: string; origin: string }> }).values;
    expect(values.find((v) => v.key === 'retention.analytics_archive_days')).toMatchObject({ value: '30 days', origin: 'routergpt.config.yaml: environments.staging.retention.analytics_archive_days' });
    expect(values.find((v) => v.key === 'retention.analytics_delete_days')).toMatchObject({ value: '(not set: kept forever)' });
  });
});

const psql = (dir: string, sql: string) => runCli(['db', 'psql', '--', '-At', '-c', sql], { cwd: dir });
const countsSql = `SELECT (SELECT count(*) FROM router_analytics) || ',' || (SELECT count(*) FROM router_analytics_archive) || ',' || (SELECT count(*) FROM chat_messages)`;

function lastRun(dir: string): RunRecord {
  const runs = path.join(dir, '.routergpt', 'runs', 'local');
  const files = readdirSync(runs).filter((f) => f.endsWith('.json')).sort();
  return JSON.parse(readFileSync(path.join(runs, files.at(-1)!), 'utf8')) as RunRecord;
}

describe('maintain on the embedded database', () => {
  const dir = tempDir();

  beforeAll(async () => {
    writeConfig(dir, 'local', '    retention: { analytics_archive_days: 30, analytics_delete_days: 90, chat_anonymise_days: 60 }\n');
    expect((await runCli(['migrate', 'up'], { cwd: dir })).exitCode).toBe(0);
    expect((await runCli(['db', 'seed', '--demo'], { cwd: dir })).exitCode).toBe(0);
    // One event a day for 120 days; one chat session 70 days old with two messages.
    const seeded = await psql(
      dir,
      `INSERT INTO router_analytics (event_type, latency_ms, created_at) SELECT 'search', 100, now() - d * interval '1 day' - interval '1 hour' FROM generate_series(1, 120) d;
       WITH s AS (INSERT INTO chat_sessions (shop_id, source, intent, created_at) SELECT id, 'search', 'haircut', now() - interval '70 days' FROM shops ORDER BY id LIMIT 1 RETURNING id)
       INSERT INTO chat_messages (session_id, role, content) SELECT id, r, 'hello' FROM s, unnest(ARRAY['user', 'assistant']) r;
       ${countsSql}`,
    );
    expect(seeded.stdout.trim().split('\n').at(-1)).toBe('120,0,2');
  }, 180_000);

  it('daily --dry-run counts what would be archived and changes nothing', async () => {
    const result = await runCli(['maintain', 'daily', '--dry-run'], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    // Days 30…120 (each an hour past the day): 91 events.
    expect(result.stdout + result.stderr).toContain('Move 91 events created before');
    expect((await psql(dir, countsSql)).stdout.trim()).toBe('120,0,2');
  }, 120_000);

  it('daily archives them, journaled; weekly without a backup in the run is refused by the backup gate', async () => {
    const daily = await runCli(['maintain', 'daily'], { cwd: dir });
    expect(daily.exitCode, daily.stderr).toBe(0);
    expect(lastRun(dir).items.find((i) => i.id === 'retention.archive-analytics')).toMatchObject({ state: 'done', outputs: { archived: 91, batches: 1 } });
    expect((await psql(dir, countsSql)).stdout.trim()).toBe('29,91,2');

    const noBackup = path.join(dir, 'no-backup.yaml');
    writeFileSync(noBackup, 'name: t\nphases:\n  - id: weekly\n    run: maintenance\n    cadence: weekly\n    items:\n      - step: retention.delete-analytics\n');
    const refused = await runCli(['maintain', 'weekly', '--checklist', noBackup], { cwd: dir });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('retention.delete-analytics changes user data, and this run has no verified backup (db.backup is not in the checklist)');
    expect((await psql(dir, countsSql)).stdout.trim()).toBe('29,91,2');
  }, 180_000);

  it('weekly takes a verified backup, then deletes past analytics_delete_days and anonymises old chats', async () => {
    const weekly = await runCli(['maintain', 'weekly'], { cwd: dir });
    expect(weekly.exitCode, weekly.stderr).toBe(0);
    const run = lastRun(dir);
    expect(run.items.find((i) => i.id === 'db.backup')?.state).toBe('done');
    const deleted = run.items.find((i) => i.id === 'retention.delete-analytics');
    expect(deleted?.state).toBe('done');
    // Days 90 (or 91, by where the hour falls)…120 go: 30 or 31 events.
    const gone = Number((deleted?.outputs as { deletedArchived: number }).deletedArchived);
    expect([30, 31]).toContain(gone);
    expect(run.items.find((i) => i.id === 'retention.anonymise-chats')).toMatchObject({ state: 'done', outputs: { sessions: 1, messages: 2 } });
    expect((await psql(dir, countsSql)).stdout.trim()).toBe(`29,${91 - gone},0`);
    expect((await psql(dir, 'SELECT count(*) FROM chat_sessions WHERE anonymised_at IS NOT NULL')).stdout.trim()).toBe('1');
    expect(existsSync(path.join(dir, '.routergpt', 'backups', 'local'))).toBe(true);
  }, 240_000);
});
