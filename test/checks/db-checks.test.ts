import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Check, CheckDeps } from '../../src/checks/define-check.js';
import { findCheck } from '../../src/checks/registry.js';
import { runChecks } from '../../src/checks/run-checks.js';
import { loadConfig } from '../../src/config/resolve.js';
import { tempDir } from '../helpers/cli.js';
import { createMigratedDatabase, type MigratedDatabase } from '../helpers/migrated-db.js';

/** Database checks: each passes on a healthy database and fails on its scenario, naming the problem. */
describe('database checks against a real PostgreSQL', () => {
  let db: MigratedDatabase;
  const config = loadConfig({ flags: { env: 'staging' }, cwd: tempDir(), env: { DATABASE_URL: 'postgres://unused/db' } }).config;

  async function run(id: string, extra: Partial<CheckDeps> = {}) {
    const check = findCheck(id) as Check;
    expect(check, id).toBeDefined();
    const [outcome] = await runChecks({ checks: [check], deps: { config, db: db.pool, fetch, now: () => new Date(), ...extra } });
    return outcome!;
  }

  async function runAllDb() {
    const ids = ['db.reachable', 'db.migrations-applied', 'db.tables-exist', 'db.shops-location-columns', 'db.indexes-valid', 'db.analytics-views', 'db.test-data-absent', 'db.search-query-plan'];
    const outcomes = await runChecks({ checks: ids.map((id) => findCheck(id)!), deps: { config, db: db.pool, fetch, now: () => new Date() } });
    return Object.fromEntries(outcomes.map((o) => [o.id, o.status]));
  }

  beforeAll(async () => {
    db = await createMigratedDatabase({ seed: true });
    await db.pool.query(`DELETE FROM shops WHERE slug IN ('bishops-barbershop-tempe','tempe-hair-salon','phoenix-beauty-studio','scottsdale-styles','mesa-cuts')`);
  });
  afterAll(async () => {
    await db.close();
  });

  describe('healthy', () => {
    it('every structural check passes', async () => {
      expect(await runAllDb()).toEqual({
        'db.reachable': 'pass',
        'db.migrations-applied': 'pass',
        'db.tables-exist': 'pass',
        'db.shops-location-columns': 'pass',
        'db.indexes-valid': 'pass',
        'db.analytics-views': 'pass',
        'db.test-data-absent': 'pass',
        'db.search-query-plan': 'pass',
      });
    });
  });

  describe('one thing broken → exactly its check fails', () => {
    beforeEach(async () => {
      // Each scenario starts healthy.
      await db.pool.query('CREATE INDEX IF NOT EXISTS idx_shops_lat ON shops (latitude, longitude)');
    });

    it('dropped index → only db.indexes-valid fails, naming it', async () => {
      await db.pool.query('DROP INDEX idx_shops_lat');
      const statuses = await runAllDb();
      expect(Object.entries(statuses).filter(([, s]) => s !== 'pass')).toEqual([['db.indexes-valid', 'fail']]);
      const outcome = await run('db.indexes-valid');
      expect(outcome.summary).toContain('idx_shops_lat');
      expect(outcome.hint).toMatch(/migrate/);
    });

    it('an invalid index is reported as invalid', async () => {
      await db.pool.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_shops_lon'::regclass`);
      try {
        const outcome = await run('db.indexes-valid');
        expect(outcome.status).toBe('fail');
        expect(outcome.details?.join('\n')).toContain('invalid (an interrupted CONCURRENTLY build): idx_shops_lon');
      } finally {
        await db.pool.query(`UPDATE pg_index SET indisvalid = true WHERE indexrelid = 'idx_shops_lon'::regclass`);
      }
    });

    it('a test slug → db.test-data-absent fails, listing it; a %tempe% look-alike only warns', async () => {
      await db.pool.query(`INSERT INTO shops (slug, name, category) VALUES ('mesa-cuts', 'Mesa Cuts', 'barbershop')`);
      try {
        const outcome = await run('db.test-data-absent');
        expect(outcome.status).toBe('fail');
        expect(outcome.summary).toContain('mesa-cuts');
      } finally {
        await db.pool.query(`DELETE FROM shops WHERE slug = 'mesa-cuts'`);
      }
      await db.pool.query(`INSERT INTO shops (slug, name, category) VALUES ('tempe-fade-lab', 'Tempe Fade Lab', 'barbershop')`);
      try {
        const outcome = await run('db.test-data-absent');
        expect(outcome.status).toBe('warn');
        expect(outcome.details).toEqual(['review: tempe-fade-lab']);
      } finally {
        await db.pool.query(`DELETE FROM shops WHERE slug = 'tempe-fade-lab'`);
      }
    });

    it('a missing table → db.tables-exist fails naming it', async () => {
      const c = await db.pool.connect();
      try {
        await c.query('ALTER TABLE geocoding_cache RENAME TO geocoding_cache_old');
        const outcome = await run('db.tables-exist');
        expect(outcome.status).toBe('fail');
        expect(outcome.summary).toBe('missing table(s): geocoding_cache');
      } finally {
        await c.query('ALTER TABLE geocoding_cache_old RENAME TO geocoding_cache');
        c.release();
      }
    });

    it('a missing location column → db.shops-location-columns fails', async () => {
      await db.pool.query('ALTER TABLE shops RENAME COLUMN geocode_accuracy TO accuracy_old');
      try {
        const outcome = await run('db.shops-location-columns');
        expect(outcome.status).toBe('fail');
        expect(outcome.summary).toContain('geocode_accuracy is missing');
      } finally {
        await db.pool.query('ALTER TABLE shops RENAME COLUMN accuracy_old TO geocode_accuracy');
      }
    });

    it('a broken view → db.analytics-views fails naming it', async () => {
      await db.pool.query('ALTER VIEW router_conversion_funnel RENAME COLUMN searches TO searches_renamed');
      try {
        const outcome = await run('db.analytics-views');
        expect(outcome.status).toBe('fail');
        expect(outcome.details).toEqual(['router_conversion_funnel: missing column(s) searches']);
      } finally {
        await db.pool.query('ALTER VIEW router_conversion_funnel RENAME COLUMN searches_renamed TO searches');
      }
    });

    it('a pending migration → db.migrations-applied fails', async () => {
      const { rows: saved } = await db.pool.query(`DELETE FROM routergpt_schema_migrations WHERE version = '010' RETURNING *`);
      try {
        const outcome = await run('db.migrations-applied');
        expect(outcome.status).toBe('fail');
        expect(outcome.details).toEqual(['pending: 010_synthetic_traffic']);
      } finally {
        const row = saved[0];
        await db.pool.query(`INSERT INTO routergpt_schema_migrations (version, name, checksum, applied_at, execution_ms, applied_by) VALUES ($1, $2, $3, $4, $5, $6)`, [row.version, row.name, row.checksum, row.applied_at, row.execution_ms, row.applied_by]);
      }
      expect((await run('db.migrations-applied')).status).toBe('pass');
    });

    it('no location index usable → db.search-query-plan fails', async () => {
      const c = await db.pool.connect();
      try {
        await c.query('BEGIN');
        await c.query('DROP INDEX idx_shops_location_category');
        await c.query('DROP INDEX idx_shops_location');
        await c.query('DROP INDEX idx_shops_lat');
        await c.query('DROP INDEX idx_shops_lon');
        await c.query('DROP INDEX idx_shops_lat_band');
        await c.query('DROP INDEX idx_shops_lat_band_category');
        const [outcome] = await runChecks({ checks: [findCheck('db.search-query-plan')!], deps: { config, db: { query: c.query.bind(c), connect: async () => ({ query: c.query.bind(c), release: () => {} }) } as never, fetch, now: () => new Date() } });
        expect(outcome!.status).toBe('fail');
        expect(outcome!.summary).toContain('sequential scan');
      } finally {
        await c.query('ROLLBACK').catch(() => {});
        c.release();
      }
    });

    it('shops without coordinates → db.shops-geocoded warns listing them; none → pass', async () => {
      const outcome = await run('db.shops-geocoded');
      expect(outcome.status).toBe('warn');
      expect(outcome.details).toEqual(['ocotillo-nail-studio: no coordinates', 'sunnyslope-style-house: no coordinates', 'val-vista-beauty-bar: no coordinates']);
      expect(outcome.hint).toContain('routergpt geocode --dry-run');
      const c = await db.pool.connect();
      try {
        await c.query('BEGIN');
        await c.query("UPDATE shops SET latitude = 33.5, longitude = -112, geocode_accuracy = 'rooftop' WHERE latitude IS NULL");
        const inner = async () => (await runChecks({ checks: [findCheck('db.shops-geocoded')!], deps: { config, db: { query: c.query.bind(c) } as never, fetch, now: () => new Date() } }))[0]!;
        expect((await inner()).status).toBe('pass');
        // Lapsed under the provider's terms (migration 014), and coarser than geocoding.accuracy_min (street).
        await c.query("UPDATE shops SET geocode_source = 'google', geocode_expires_at = now() - interval '1 day' WHERE slug = 'ocotillo-nail-studio'");
        await c.query("UPDATE shops SET geocode_accuracy = 'city' WHERE slug = 'val-vista-beauty-bar'");
        const lapsed = await inner();
        expect(lapsed.status).toBe('warn');
        expect(lapsed.details).toEqual(['ocotillo-nail-studio: coordinates lapsed (geocode_expires_at)', 'val-vista-beauty-bar: coarse:city']);
        expect(lapsed.data).toMatchObject({ missing: 0, expired: 1, coarse: 1 });
        expect(lapsed.hint).toContain('--refresh-expired');
      } finally {
        await c.query('ROLLBACK');
        c.release();
      }
    });

    it('geocoding cache: empty warns, entries pass, mostly expired warns', async () => {
      expect((await run('db.geocoding-cache')).status).toBe('warn');
      await db.pool.query(`INSERT INTO geocoding_cache (query_normalized, provider, latitude, longitude) VALUES ('85281 tempe az', 'offline', 33.42, -111.93)`);
      const ok = await run('db.geocoding-cache');
      expect(ok.status).toBe('pass');
      expect(ok.summary).toContain('offline 1');
      await db.pool.query(`INSERT INTO geocoding_cache (query_normalized, provider, latitude, longitude, expires_at) SELECT 'q' || g, 'google', 1, 1, now() - interval '1 day' FROM generate_series(1, 5) g`);
      const stale = await run('db.geocoding-cache');
      expect(stale.status).toBe('warn');
      expect(stale.hint).toContain('cleanup_expired_geocoding_cache');
      await db.pool.query('DELETE FROM geocoding_cache');
    });

    it('analytics: no recent events warns; synthetic events alone pass (tracking works), counted apart; real events pass with counts', async () => {
      expect((await run('db.analytics-recent-events')).status).toBe('warn');
      await db.pool.query(`INSERT INTO router_analytics (event_type, latency_ms, synthetic) VALUES ('search', 5, true), ('search', 6, true), ('delegate', 7, true)`);
      const onlySynthetic = await run('db.analytics-recent-events');
      expect(onlySynthetic.status).toBe('pass');
      expect(onlySynthetic.summary).toBe("tracking records events: 3 synthetic events from routergpt's own checks in the last 1 hour, no real one yet");
      expect(onlySynthetic.details).toEqual(["synthetic (routergpt's own requests, not counted): delegate 1, search 2"]);
      await db.pool.query(`INSERT INTO router_analytics (event_type, latency_ms) VALUES ('search', 12), ('search', 9), ('delegate', 30)`);
      const outcome = await run('db.analytics-recent-events');
      expect(outcome.status).toBe('pass');
      expect(outcome.summary).toBe('delegate 1, search 2');
      expect(outcome.data).toEqual({ real: { delegate: 1, search: 2 }, synthetic: { delegate: 1, search: 2 } });
    });

    it('db.reachable reports an unreachable database as a failure (no crash)', async () => {
      const [outcome] = await runChecks({ checks: [findCheck('db.reachable')!], deps: { config, dbError: 'Cannot reach the database at postgres://x@127.0.0.1:1/db: connection refused.', fetch, now: () => new Date() } });
      expect(outcome!.status).toBe('fail');
      expect(outcome!.summary).toContain('connection refused');
      // …and every other database check is skipped with the reason, not crashed.
      const [other] = await runChecks({ checks: [findCheck('db.indexes-valid')!], deps: { config, dbError: 'x', fetch, now: () => new Date() } });
      expect(other).toMatchObject({ status: 'skip', summary: 'database unreachable (see db.reachable)' });
    });
  });
});

describe('the runner', () => {
  const config = loadConfig({ flags: {}, cwd: tempDir(), env: {} }).config;
  const deps = { config, fetch, now: () => new Date() };

  it('a crashing check is `error`, a slow one times out as `error`, and order is preserved', async () => {
    const crash: Check = { id: 'x.crash', title: 'crash', needs: [], stages: ['pre'], run: async () => { throw new Error('boom'); } };
    const slow: Check = { id: 'x.slow', title: 'slow', needs: [], stages: ['pre'], timeoutMs: 50, run: () => new Promise(() => {}) };
    const ok: Check = { id: 'x.ok', title: 'ok', needs: [], stages: ['pre'], run: async () => ({ status: 'pass', summary: 'fine' }) };
    const outcomes = await runChecks({ checks: [crash, slow, ok], deps, concurrency: 3 });
    expect(outcomes.map((o) => [o.id, o.status])).toEqual([['x.crash', 'error'], ['x.slow', 'error'], ['x.ok', 'pass']]);
    expect(outcomes[0]!.summary).toBe('check crashed: boom');
    expect(outcomes[1]!.summary).toBe('check timed out after 50 ms');
  });

  it('never runs more than `concurrency` checks at once', async () => {
    let running = 0;
    let peak = 0;
    const make = (i: number): Check => ({ id: `x.c${i}`, title: '', needs: [], stages: ['pre'], run: async () => { running += 1; peak = Math.max(peak, running); await new Promise((r) => setTimeout(r, 20)); running -= 1; return { status: 'pass', summary: '' }; } });
    await runChecks({ checks: Array.from({ length: 10 }, (_, i) => make(i)), deps, concurrency: 3 });
    expect(peak).toBe(3);
  });

  it('unmet needs skip with the reason', async () => {
    const needsApi: Check = { id: 'x.api', title: '', needs: ['api'], stages: ['post'], run: async () => ({ status: 'pass', summary: '' }) };
    const [o] = await runChecks({ checks: [needsApi], deps: { ...deps, config: { ...config, publicApiBase: { ...config.publicApiBase, value: undefined } } } });
    expect(o).toMatchObject({ status: 'skip', summary: 'no API base URL (set PUBLIC_API_BASE or pass --base-url)' });
  });
});
