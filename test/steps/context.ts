import path from 'node:path';
import { loadConfig } from '../../src/config/resolve.js';
import type { EnvironmentConfig } from '../../src/config/types.js';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { loadMigrations } from '../../src/db/migrator/files.js';
import { migrateUp } from '../../src/db/migrator/migrator.js';
import { seedDemo } from '../../src/db/seed.js';
import type { StepContext } from '../../src/steps/define-step.js';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';

/** A staging-like environment on a real PostgreSQL database, with backups under a temp dir. */
export function realConfig(url: string, dir = tempDir('routergpt-steps-')): EnvironmentConfig {
  return loadConfig({ flags: { env: 'staging' }, cwd: dir, env: { DATABASE_URL: url, ROUTERGPT_BACKUP_DIR: path.join(dir, 'backups') } }).config;
}

/** The local environment: the embedded database in a temp dir (this process owns it). */
export function embeddedConfig(dir = tempDir('routergpt-embedded-steps-')): EnvironmentConfig {
  return loadConfig({ flags: { env: 'local' }, cwd: dir, env: { ROUTERGPT_BACKUP_DIR: path.join(dir, 'backups') } }).config;
}

export async function openMigrated(config: EnvironmentConfig, { seed = true } = {}): Promise<Database> {
  const db = await openDatabase(config, { applicationName: 'routergpt-test' });
  await migrateUp({ pool: db.pool, migrations: loadMigrations(path.join(REPO_ROOT, 'migrations')), lockTimeoutMs: 5000, lockWaitMs: 10_000 });
  if (seed) await seedDemo(db.pool);
  return db;
}

export interface TestContext extends StepContext {
  logged: string[];
  confirmations: string[];
}

export function stepContext(config: EnvironmentConfig, db: Database, overrides: Partial<StepContext> = {}): TestContext {
  const logged: string[] = [];
  const confirmations: string[] = [];
  return {
    config,
    db,
    runDir: tempDir('routergpt-run-'),
    runId: 'run-test-1',
    outputs: {},
    params: {},
    confirm: async (message) => {
      confirmations.push(message);
    },
    checkpoint: async () => {},
    log: (line) => logged.push(line),
    now: () => new Date(),
    ...overrides,
    logged,
    confirmations,
  };
}

/** Some chat, booking and analytics rows for the test shops, so cascades have work to do. */
export async function addActivity(db: Database, slug: string): Promise<void> {
  await db.pool.query(
    `WITH s AS (SELECT id FROM shops WHERE slug = $1),
          sess AS (INSERT INTO chat_sessions (shop_id, source, intent, router_context) SELECT id, 'search', 'haircut', '{"city":"Tempe"}' FROM s RETURNING id, shop_id),
          msg AS (INSERT INTO chat_messages (session_id, role, content) SELECT id, 'user', 'Hi, a haircut tomorrow at 10?' FROM sess RETURNING id),
          svc AS (SELECT id, shop_id FROM services WHERE shop_id = (SELECT id FROM s) ORDER BY id LIMIT 1),
          bk AS (INSERT INTO bookings (shop_id, service_id, session_id, customer_name, starts_at, ends_at, idempotency_key)
                 SELECT svc.shop_id, svc.id, sess.id, 'Pat Example', '2030-01-02 17:00:00+00', '2030-01-02 17:30:00+00', 'idem-' || $1
                   FROM svc, sess RETURNING id, shop_id),
          slots AS (INSERT INTO booking_slots (shop_id, slot_start, booking_id)
                    SELECT bk.shop_id, t, bk.id FROM bk, generate_series('2030-01-02 17:00:00+00'::timestamptz, '2030-01-02 17:15:00+00', interval '15 minutes') t RETURNING 1)
     INSERT INTO router_analytics (event_type, shop_id, session_id, payload)
     SELECT 'delegate', shop_id, id, '{"from":"test"}' FROM sess`,
    [slug],
  );
}
