/**
 * analytics.archive (the monthly review's "Archive old analytics data") on real PostgreSQL:
 * retention unset warns; events days past the archive age left in router_analytics fail (the
 * daily archive is not running), a day past warns; archived, it passes with the archive's size;
 * archived events a week past analytics_delete_days fail (the weekly delete is not running).
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import check from '../../src/checks/analytics/archive.js';
import { loadConfig } from '../../src/config/resolve.js';
import { tempDir } from '../helpers/cli.js';
import { createMigratedDatabase, type MigratedDatabase } from '../helpers/migrated-db.js';

let db: MigratedDatabase;
const now = new Date();

function run(retention: string) {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'routergpt.config.yaml'), `version: 1\nenvironments:\n  staging:\n    retention: ${retention}\n`);
  const config = loadConfig({ flags: { env: 'staging' }, cwd: dir, env: { DATABASE_URL: db.url } }).config;
  return check.run({ config, db: db.pool, fetch, now: () => now });
}

const events = (table: string, daysAgo: number[]) =>
  db.pool.query(`INSERT INTO ${table} (${table === 'router_analytics' ? '' : 'id, '}event_type, created_at) SELECT ${table === 'router_analytics' ? '' : '1000000 + (d * 10)::int, '}'search', $1::timestamptz - d * interval '1 day' FROM unnest($2::float8[]) d`, [now, daysAgo]);

beforeAll(async () => {
  db = await createMigratedDatabase({ prefix: 'arch' });
});
afterAll(async () => {
  await db?.close();
});

describe('analytics.archive', () => {
  it('warns when no archive age is set (kept forever), saying which setting', async () => {
    const result = await run('{}');
    expect(result.status).toBe('warn');
    expect(result.summary).toBe('retention.analytics_archive_days is not set: analytics are kept in router_analytics forever');
    expect(result.hint).toContain('environments.staging.retention.analytics_archive_days');
  });

  it('fails with events days past the age in the hot table, warns a day past, passes when only today\'s crossing is left', async () => {
    await events('router_analytics', [5, 30.5]);
    expect((await run('{ analytics_archive_days: 30 }')).status).toBe('pass');
    await events('router_analytics', [31.5]);
    const late = await run('{ analytics_archive_days: 30 }');
    expect(late.status).toBe('warn');
    expect(late.summary).toBe('1 event older than 31 days still in router_analytics: the last daily archive was missed or stopped early');
    await events('router_analytics', [40]);
    const stale = await run('{ analytics_archive_days: 30 }');
    expect(stale.status).toBe('fail');
    expect(stale.summary).toBe('1 event older than 32 days still in router_analytics: the daily archive has not run for days');
    expect(stale.hint).toContain('routergpt maintain daily --env staging');
    await db.pool.query(`DELETE FROM router_analytics WHERE created_at < $1::timestamptz - interval '31 days'`, [now]);
  });

  it('passes with the archive\'s size and span; fails when archived events are a week past the delete age', async () => {
    await events('router_analytics_archive', [60, 95]);
    const ok = await run('{ analytics_archive_days: 30, analytics_delete_days: 90 }');
    expect(ok.status).toBe('pass');
    expect(ok.summary).toMatch(/^analytics older than 30 days are archived \(1 event crossed the age since the last daily run\); router_analytics_archive: 2 events \(\d+(\.\d)? kB\), \d{4}-\d\d-\d\d … \d{4}-\d\d-\d\d$/);
    await events('router_analytics_archive', [99]);
    const overdue = await run('{ analytics_archive_days: 30, analytics_delete_days: 90 }');
    expect(overdue.status).toBe('fail');
    expect(overdue.summary).toContain('more than a week past retention.analytics_delete_days (90): the weekly delete has not run');
  });
});
