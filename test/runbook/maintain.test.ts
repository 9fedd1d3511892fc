import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/registry.js';
import { loadChecklist } from '../../src/runbook/checklist.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import { STEPS } from '../../src/steps/registry.js';
import { newestRun, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { createMigratedDatabase, type MigratedDatabase } from '../helpers/migrated-db.js';

const known = { checks: new Set(CHECKS.map((c) => c.id)), steps: new Set(STEPS.map((s) => s.id)), checkParams: new Map(CHECKS.map((c) => [c.id, c.params ?? []])), stepParams: new Map(STEPS.map((s) => [s.id, s.params ?? []])) };

function checklistFile(body: string): string {
  const file = path.join(tempDir(), 'list.yaml');
  writeFileSync(file, `name: t\nphases:\n${body}`);
  return file;
}

describe('maintenance phases carry a cadence', () => {
  it('every shipped checklist has daily and weekly phases, and every maintenance phase a cadence', () => {
    for (const name of ['production', 'staging', 'local']) {
      const list = loadChecklist(path.join(REPO_ROOT, 'checklists', `${name}.yaml`), known);
      const maintenance = list.phases.filter((p) => p.run === 'maintenance');
      expect(maintenance.every((p) => p.cadence !== undefined), name).toBe(true);
      expect(new Set(maintenance.map((p) => p.cadence)), name).toEqual(new Set(name === 'local' ? ['daily', 'weekly'] : ['daily', 'weekly', 'monthly']));
    }
  });

  it('the production daily and weekly phases ask nobody anything (cron-safe)', () => {
    const list = loadChecklist(path.join(REPO_ROOT, 'checklists', 'production.yaml'), known);
    for (const cadence of ['daily', 'weekly']) {
      const items = list.phases.filter((p) => p.run === 'maintenance' && p.cadence === cadence).flatMap((p) => p.items);
      expect(items.filter((i) => i.kind === 'manual' || i.kind === 'approval' || i.kind === 'signoff'), cadence).toEqual([]);
    }
  });

  it('a maintenance phase without cadence, a wrong one, or one on a deploy phase are refused, each named', () => {
    const file = checklistFile(
      '  - id: a\n    run: maintenance\n    items: [{check: db.reachable}]\n' +
        '  - id: b\n    run: maintenance\n    cadence: dialy\n    items: [{check: db.reachable}]\n' +
        '  - id: c\n    cadence: weekly\n    items: [{check: db.reachable}]\n',
    );
    expect(() => loadChecklist(file, known)).toThrow(/3 problems/);
    try {
      loadChecklist(file, known);
    } catch (error) {
      const text = (error as Error).message;
      expect(text).toContain('phases[0] (a): a maintenance phase needs cadence: daily|weekly|monthly');
      expect(text).toContain('phases[1] (b): cadence must be');
      expect(text).toContain('did you mean "daily"');
      expect(text).toContain('phases[2] (c): cadence is for maintenance phases');
    }
  });
});

describe('routergpt maintain <cadence>', () => {
  it('bare, or with an unknown cadence, is a usage error listing the cadences (exit 2), nothing run', async () => {
    const dir = tempDir();
    const bare = await runCli(['maintain'], { cwd: dir });
    expect(bare.exitCode).toBe(2);
    expect(bare.stderr).toContain('Say which maintenance to run: daily, weekly, monthly.');
    const typo = await runCli(['maintain', 'dialy'], { cwd: dir });
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain('Unknown maintenance cadence "dialy" — did you mean "daily"?');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('daily on local runs without a terminal and without --yes, journaled with its cadence', async () => {
    const dir = tempDir();
    expect((await runCli(['migrate', 'up'], { cwd: dir })).exitCode).toBe(0);
    const result = await runCli(['maintain', 'daily'], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('Plan: local checklist, daily maintenance, on local (2 items)');
    const runs = readdirSync(path.join(dir, '.routergpt', 'runs', 'local')).filter((f) => f.endsWith('.json'));
    const record = JSON.parse(readFileSync(path.join(dir, '.routergpt', 'runs', 'local', runs[0]!), 'utf8')) as RunRecord;
    expect(record).toMatchObject({ kind: 'maintenance', cadence: 'daily', status: 'succeeded' });
    expect(record.items.map((i) => i.id)).toEqual(['checks:analytics.errors-by-route+analytics.response-times+analytics.rate-limit-hits+db.analytics-recent-events', 'retention.archive-analytics']);
    // No retention: configured on local: the archive step skips, saying analytics are kept.
    expect(record.items[1]).toMatchObject({ state: 'skipped', summary: expect.stringContaining('retention.analytics_archive_days is not set') });
  });

  it('schedule prints three crontab lines or a service and a timer per cadence; both formats at once is exit 2', async () => {
    const dir = tempDir();
    const cron = await runCli(['maintain', 'schedule', '--env', 'prod'], { cwd: dir });
    expect(cron.exitCode, cron.stderr).toBe(0);
    const lines = cron.stdout.split('\n').filter((l) => /^\d/.test(l));
    expect(lines.map((l) => l.split('  ')[0])).toEqual(['15 3 * * *', '30 3 * * 1', '45 3 1 * *']);
    for (const [i, c] of ['daily', 'weekly', 'monthly'].entries()) expect(lines[i]).toContain(`cd ${dir} && ${process.execPath} ${path.join(REPO_ROOT, 'bin', 'routergpt.js')} maintain ${c} --env prod --reporter junit=`);
    const systemd = await runCli(['maintain', 'schedule', '--systemd', '--env', 'prod'], { cwd: dir });
    expect(systemd.stdout.match(/^OnCalendar=/gm)).toHaveLength(3);
    expect(systemd.stdout.match(/^ExecStart=.* maintain (daily|weekly|monthly) --env prod /gm)).toHaveLength(3);
    expect(systemd.stdout).toContain(`WorkingDirectory=${dir}`);
    const both = await runCli(['maintain', 'schedule', '--cron', '--systemd'], { cwd: dir });
    expect(both.exitCode).toBe(2);
  });
});

describe('the daily findings, on hand-counted traffic (real PostgreSQL)', () => {
  let db: MigratedDatabase;
  // The server's log (pino JSON): one error in the window, one info line, one error of 2 days ago.
  const logFile = path.join(tempDir(), 'server.log');
  writeFileSync(logFile, [
    { level: 50, time: Date.now() - 3_600_000, msg: 'search failed', err: { message: 'relation "shops" is busy' }, reqId: 'req-3' },
    { level: 30, time: Date.now() - 60_000, msg: 'request completed' },
    { level: 50, time: Date.now() - 2 * 86_400_000, msg: 'an old failure' },
  ].map((l) => JSON.stringify(l)).join('\n') + '\nnot json\n');
  const verify = (only: string) => runCli(['verify', '--env', 'prod', '--only', only, '--json'], { env: { DATABASE_URL: db.url, ROUTERGPT_LOG_FILE: logFile } });
  const outcome = async (only: string) => {
    const result = await verify(only);
    const report = JSON.parse(result.stdout) as { checks: Array<{ id: string; status: string; summary: string; details?: string[]; data?: Record<string, unknown> }> };
    return { exitCode: result.exitCode, ...report.checks.find((c) => c.id === only)! };
  };

  beforeAll(async () => {
    db = await createMigratedDatabase({ prefix: 'maint' });
    // The last 24 h: 97 searches (latency 1…97 ms: p95 = 92.2 ms) and 3 search errors; 40 delegations
    // at 250 ms (over the 200 ms budget); 10 429s on search from 2 clients. Synthetic rows and rows of
    // 2 days ago would change every figure if counted.
    await db.pool.query(`INSERT INTO router_analytics (event_type, latency_ms, created_at) SELECT 'search', g, now() - interval '1 hour' FROM generate_series(1, 97) g`);
    await db.pool.query(`INSERT INTO router_analytics (event_type, latency_ms, payload, created_at) SELECT 'error', 5, ('{"route": "/router/search-by-location", "status": 500, "request_id": "req-' || g || '"}')::jsonb, now() - interval '2 hours' + g * interval '1 minute' FROM generate_series(1, 3) g`);
    await db.pool.query(`INSERT INTO router_analytics (event_type, latency_ms, created_at) SELECT 'delegate', 250, now() - interval '3 hours' FROM generate_series(1, 40)`);
    await db.pool.query(`INSERT INTO router_analytics (event_type, latency_ms, synthetic, created_at) SELECT 'error', 5, true, now() FROM generate_series(1, 50)`);
    await db.pool.query(`INSERT INTO router_analytics (event_type, latency_ms, created_at) SELECT 'error', 5, now() - interval '2 days' FROM generate_series(1, 50)`);
    await db.pool.query(`INSERT INTO router_refusals (minute, route, policy, status, client_hmac, count) VALUES
      (date_trunc('minute', now() - interval '30 minutes'), '/router/search-by-location', 'search', 429, 'aaaa', 7),
      (date_trunc('minute', now() - interval '30 minutes'), '/router/search-by-location', 'search', 429, 'bbbb', 3),
      (date_trunc('minute', now() - interval '2 days'), '/router/search-by-location', 'search', 429, 'cccc', 500)`);
    // Client bbbb, limited 30 minutes ago, opened a session 10 minutes ago that booked: a legitimate
    // client blocked. Client aaaa's session booked an hour BEFORE its 429s (not "later"); a synthetic
    // session of cccc's that booked proves nothing either.
    const shop = (await db.pool.query<{ id: number }>(`INSERT INTO shops (slug, name, category) VALUES ('rl-shop', 'RL', 'barbershop') RETURNING id::int AS id`)).rows[0]!.id;
    const service = (await db.pool.query<{ id: number }>(`INSERT INTO services (shop_id, name, duration_minutes, price_cents) VALUES ($1, 'Cut', 30, 2000) RETURNING id::int AS id`, [shop])).rows[0]!.id;
    for (const [client, ago, synthetic, hour] of [['bbbb', '10 minutes', false, 10], ['aaaa', '90 minutes', false, 11], ['cccc', '1 day', true, 12]] as const) {
      await db.pool.query(
        `WITH s AS (INSERT INTO chat_sessions (shop_id, client_hmac, synthetic, created_at) VALUES ($1, $3, $5, now() - $4::interval) RETURNING id)
         INSERT INTO bookings (shop_id, service_id, session_id, customer_name, starts_at, ends_at, synthetic, created_at)
         SELECT $1, $2, id, 'Pat', date_trunc('day', now()) + interval '30 days' + $6 * interval '1 hour', date_trunc('day', now()) + interval '30 days' + $6 * interval '1 hour' + interval '30 minutes', $5, now() - $4::interval FROM s`,
        [shop, service, client, ago, synthetic, hour],
      );
    }
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  it('analytics.errors-by-route: 3 errors in 150 requests (2.00 %) fails the 1 % budget; the newest request ids named', async () => {
    // requests = 97 searches + 3 errors + 10 refusals (search) + 40 delegations = 150; errors 3.
    const o = await outcome('analytics.errors-by-route');
    expect(o.status).toBe('fail');
    expect(o.exitCode).toBe(1);
    expect(o.summary).toContain('error rate 2.00 % over the last 24 h (3 errors in 150 requests); budget 1.00 %, over it on search');
    expect(o.details).toContain('search: 3 errors in 110 requests (2.73 %)');
    expect(o.details).toContain('delegate: 0 errors in 40 requests (0.00 %)');
    const newest = o.details?.filter((d) => d.startsWith('newest: ')) ?? [];
    expect(newest).toHaveLength(3);
    expect(newest[0]).toContain('req-3');
    // The log file's error lines of the window only.
    expect(o.details?.filter((d) => d.startsWith('log: '))).toEqual([expect.stringMatching(/^log: \S+ search failed — relation "shops" is busy \(request req-3\)$/)]);
  });

  it('analytics.response-times: delegate p95 250 ms over its 200 ms budget warns; search p95 within', async () => {
    const o = await outcome('analytics.response-times');
    expect(o.status).toBe('warn');
    expect(o.summary).toBe('p95 over budget on delegate (250 ms ≥ 200 ms) over the last 24 h');
    // percentile_cont(0.95) of 1…97 = 1 + 0.95 × 96 = 92.2
    expect(o.details).toContain('search: p50 49 ms, p95 92.2 ms over 97 requests (budget 500 ms)');
  });

  it('analytics.rate-limit-hits: 10 429s of 150 requests (6.67 %) to 2 clients, one of which later booked, warns', async () => {
    const o = await outcome('analytics.rate-limit-hits');
    expect(o.status).toBe('warn');
    expect(o.summary).toBe('10 429s (6.67 % of 150 requests) over the last 24 h: over 5.00 %; 1 limited client later booked');
    expect(o.details).toEqual([
      '/router/search-by-location (search policy): 10 429s to 2 clients',
      '1 limited client later booked (1 booking): legitimate clients were blocked',
      // search: 97 + 3 errors + 10 refused = 110 requests; the default limit is 20/min.
      'search policy (20/min): 9.09 % of its 110 requests limited → raise it to about 30/min (rate_limits.search_per_minute): 1 client limited here later booked',
    ]);
    expect(o.data).toMatchObject({ legitimateBlocked: 1, hits: 10, requests: 150 });
  });

  it('analytics.rate-limit-hits: a window that holds no 429 passes, whatever was booked in it', async () => {
    // 20 minutes back: the 429s of 30 minutes ago (and bbbb's booking after them) are outside it.
    const dir = tempDir();
    const list = checklistFile('  - id: daily\n    run: maintenance\n    cadence: daily\n    items:\n      - check: analytics.rate-limit-hits\n        params: { window: 20m }\n        on_fail: continue\n');
    const result = await runCli(['maintain', 'daily', '--env', 'prod', '--checklist', list], { cwd: dir, env: { DATABASE_URL: db.url } });
    expect(result.exitCode, result.stderr).toBe(0);
    const runs = path.join(dir, '.routergpt', 'runs', 'prod');
    const record = JSON.parse(readFileSync(path.join(runs, readdirSync(runs).find((f) => f.endsWith('.json'))!), 'utf8')) as RunRecord;
    const check = record.items[0]!.checks![0]!;
    expect(check.status).toBe('pass');
    expect(check.summary).toMatch(/^no request rate-limited in the last 20 min/);
  });

  it('the monthly rate-limit review looks back 30 days (a window over the 24-day timer bound)', async () => {
    // 30 d: the 24 h figures + 50 errors and 500 429s (a third client) of 2 days ago: 700 requests, 510 429s.
    const list = checklistFile('  - id: monthly\n    run: maintenance\n    cadence: monthly\n    items:\n      - check: analytics.rate-limit-hits\n        params: { window: 30d }\n        on_fail: continue\n');
    const dir = tempDir();
    const result = await runCli(['maintain', 'monthly', '--env', 'prod', '--checklist', list], { cwd: dir, env: { DATABASE_URL: db.url } });
    expect(result.exitCode, result.stderr).toBe(0);
    const runs = path.join(dir, '.routergpt', 'runs', 'prod');
    const record = JSON.parse(readFileSync(path.join(runs, readdirSync(runs).find((f) => f.endsWith('.json'))!), 'utf8')) as RunRecord;
    const check = record.items[0]!.checks![0]!;
    expect(check.summary).toBe('510 429s (72.86 % of 700 requests) over the last 30 d: over 5.00 %; 1 limited client later booked');
    // cccc's booking was synthetic and aaaa's came before its 429s: only bbbb was a legitimate client blocked.
    expect(check.details).toEqual([
      '/router/search-by-location (search policy): 510 429s to 3 clients',
      '1 limited client later booked (1 booking): legitimate clients were blocked',
      'search policy (20/min): 83.61 % of its 610 requests limited → raise it to about 30/min (rate_limits.search_per_minute): 1 client limited here later booked',
    ]);
  });

  it('verify runs none of them unless asked (they have no stage)', async () => {
    const result = await runCli(['verify', '--env', 'prod', '--list'], { env: { DATABASE_URL: db.url } });
    expect(result.stdout).toContain('analytics.errors-by-route');
    const all = await runCli(['verify', '--env', 'prod', '--json', '--skip', 'api'], { env: { DATABASE_URL: db.url } });
    const ids = (JSON.parse(all.stdout) as { checks: Array<{ id: string }> }).checks.map((c) => c.id);
    expect(ids.filter((id) => id.startsWith('analytics.') || id === 'backup.age')).toEqual([]);
  });
});

/** The summary of the first check of the newest run's first item, from its journal. */
function latestSummary(dir: string): string {
  const runs = path.join(dir, '.routergpt', 'runs', 'local');
  return newestRun(runs)!.items[0]!.checks![0]!.summary;
}

describe('backup.age', () => {
  it('no verified backup fails; a fresh one passes; one older than max_age fails', async () => {
    const dir = tempDir();
    const list = checklistFile('  - id: weekly\n    run: maintenance\n    cadence: weekly\n    items:\n      - check: backup.age\n        params: { max_age: 1h }\n');
    const none = await runCli(['maintain', 'weekly', '--checklist', list, '--json'], { cwd: dir });
    expect(none.exitCode).toBe(1);
    expect(none.stdout).toContain('no verified backup of local');
    expect((await runCli(['migrate', 'up'], { cwd: dir })).exitCode).toBe(0);
    expect((await runCli(['backup'], { cwd: dir })).exitCode).toBe(0);
    const fresh = await runCli(['maintain', 'weekly', '--checklist', list], { cwd: dir });
    expect(fresh.exitCode, fresh.stderr).toBe(0);
    expect(latestSummary(dir)).toMatch(/^newest verified backup .* \((\d+s|\d+ms) old; limit 1h\)$/);
    // Two hours later (the manifest's time moved back): over the limit.
    const backups = path.join(dir, '.routergpt', 'backups', 'local');
    for (const f of readdirSync(backups).filter((n) => n.endsWith('.manifest.json'))) {
      const m = JSON.parse(readFileSync(path.join(backups, f), 'utf8')) as { createdAt: string };
      m.createdAt = new Date(Date.parse(m.createdAt) - 2 * 3_600_000).toISOString();
      writeFileSync(path.join(backups, f), JSON.stringify(m));
    }
    const old = await runCli(['maintain', 'weekly', '--checklist', list], { cwd: dir });
    expect(old.exitCode).toBe(1);
    expect(latestSummary(dir)).toMatch(/\(2h old; limit 1h\)$/);
  }, 120_000);
});

describe('weekly housekeeping', () => {
  it('runs.prune removes finished runs older than older_than, never the newest deploy or the newest successful one', async () => {
    const dir = tempDir();
    expect((await runCli(['migrate', 'up'], { cwd: dir })).exitCode).toBe(0);
    const runs = path.join(dir, '.routergpt', 'runs', 'local');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(runs, { recursive: true });
    const old = (id: string, kind: string, status: string, daysAgo: number) => {
      const at = new Date(Date.now() - daysAgo * 86_400_000).toISOString();
      writeFileSync(path.join(runs, `${id}.json`), JSON.stringify({ schema: 'routergpt.run/v1', id, kind, env: 'local', checklist: { name: 'local', file: 'x' }, status, startedAt: at, finishedAt: at, startedBy: 't', host: 'h', pid: 1, resumes: [], items: [] }));
      mkdirSync(path.join(runs, id), { recursive: true });
    };
    old('20260101T000000Z-deploy-aaa1', 'deploy', 'succeeded', 200); // the newest successful deploy: stays
    old('20260102T000000Z-deploy-aaa2', 'deploy', 'failed', 199); // the newest deploy: stays
    old('20260101T000000Z-backup-aaa3', 'backup', 'succeeded', 200); // old: goes
    old('20260101T000000Z-rollback-aaa4', 'rollback', 'failed', 120); // old: goes
    old('20261101T000000Z-backup-aaa5', 'backup', 'succeeded', 10); // recent: stays
    const list = checklistFile('  - id: weekly\n    run: maintenance\n    cadence: weekly\n    items:\n      - step: runs.prune\n        params: { older_than: 90d }\n');
    const result = await runCli(['maintain', 'weekly', '--checklist', list], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('pruned 2 runs finished more than 90d ago');
    const left = readdirSync(runs).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
    expect(left.filter((id) => id.includes('aaa'))).toEqual(['20260101T000000Z-deploy-aaa1', '20260102T000000Z-deploy-aaa2', '20261101T000000Z-backup-aaa5']);
    expect(readdirSync(runs)).not.toContain('20260101T000000Z-backup-aaa3');
  }, 60_000);
});

describe('db.slow-queries (monthly review)', () => {
  it('with pg_stat_statements loaded: the statements averaging over the budget, normalised; without it: the location search explained', async () => {
    const { startThrowawayCluster } = await import('../helpers/pg-cluster.js');
    const cluster = await startThrowawayCluster({ settings: ['shared_preload_libraries=pg_stat_statements'] });
    try {
      const env = { DATABASE_URL: cluster.url };
      expect((await runCli(['migrate', 'up', '--env', 'prod', '--yes'], { env })).exitCode).toBe(0);
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: cluster.url });
      await client.connect();
      try {
        // Before the extension exists: the fallback, saying how to enable it.
        const before = await runCli(['verify', '--env', 'prod', '--only', 'db.slow-queries', '--json'], { env });
        const fallback = (JSON.parse(before.stdout) as { checks: Array<{ summary: string; details?: string[] }> }).checks[0]!;
        expect(fallback.summary).toContain('pg_stat_statements is not enabled (CREATE EXTENSION pg_stat_statements): the location search explained instead');
        expect(fallback.details?.every((d) => /^location search, (any category|category "barbershop"): [\d.]+ ms, \d+ rows?$/.test(d))).toBe(true);
        await client.query('CREATE EXTENSION pg_stat_statements');
        // 12 calls of a 120 ms statement (over the 100 ms budget, over min_calls 10), with a value that must not be shown.
        for (let i = 0; i < 12; i += 1) await client.query(`SELECT pg_sleep(0.12), 'secret-customer-${i}' AS who`);
      } finally {
        await client.end();
      }
      const result = await runCli(['verify', '--env', 'prod', '--only', 'db.slow-queries', '--json'], { env });
      const check = (JSON.parse(result.stdout) as { checks: Array<{ status: string; summary: string; details?: string[] }> }).checks[0]!;
      expect(check.status).toBe('warn');
      expect(check.summary).toMatch(/^pg_stat_statements: \d+ statements? average over 100 ms$/);
      const line = check.details?.find((d) => d.includes('pg_sleep'));
      expect(line).toMatch(/^\d+(\.\d+)? ms mean × 12 calls \(\d+ ms total\): SELECT pg_sleep\(\$1\), \$2 AS who$/);
      expect(result.stdout).not.toContain('secret-customer');
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});
