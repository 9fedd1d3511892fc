/**
 * Journaled runs as `src/runbook/journal.ts` writes them, one per scenario the run reporters
 * must get right. The check items carry the outcomes and the summary/details the executor makes.
 */
import type { CheckOutcome } from '../../src/checks/run-checks.js';
import type { ItemRecord, RunRecord } from '../../src/runbook/journal.js';

const pass = (id: string, title: string, summary: string): CheckOutcome => ({ id, title, status: 'pass', summary, durationMs: 12.5 });

function item(partial: Partial<ItemRecord> & Pick<ItemRecord, 'id' | 'kind' | 'phase' | 'title' | 'state'>): ItemRecord {
  const ran = partial.state !== 'pending';
  return { attempts: ran ? 1 : 0, ...(ran ? { startedAt: '2026-11-25T18:00:01.000Z', finishedAt: '2026-11-25T18:00:02.000Z', durationMs: 1000 } : {}), ...partial };
}

function run(partial: Partial<RunRecord> & Pick<RunRecord, 'id' | 'kind' | 'status' | 'items'>): RunRecord {
  return {
    schema: 'routergpt.run/v1',
    env: 'staging',
    checklist: { name: 'staging', file: 'checklists/staging.yaml' },
    startedAt: '2026-11-25T18:00:00.000Z',
    finishedAt: '2026-11-25T18:00:42.500Z',
    startedBy: 'ana@ci-runner',
    host: 'ci-runner',
    pid: 4242,
    resumes: [],
    ...partial,
  };
}

const envChecks = [pass('config.env-vars', 'Required environment variables set', 'DATABASE_URL, OPENAI_API_KEY, PUBLIC_API_BASE set'), pass('db.reachable', 'Database reachable', 'PostgreSQL 16.4 in 4 ms')];
const schemaChecks = [pass('db.migrations-applied', 'Migrations applied', '9 of 9 applied'), pass('db.indexes-valid', 'Location indexes valid', 'idx_shops_lat, idx_shops_lng valid')];

export const allPassedDeploy: RunRecord = run({
  id: '20261125T180000Z-deploy-a11d',
  kind: 'deploy',
  status: 'succeeded',
  items: [
    item({ id: 'checks:config.env-vars+db.reachable', kind: 'check', phase: 'pre-deployment', title: 'Environment and database', state: 'done', checks: envChecks, warnings: 0, summary: '2 passed' }),
    item({ id: 'db.backup', kind: 'step', phase: 'database', title: 'Back up the database', state: 'done', summary: 'backup 2026-11-25T180003Z.dump (2.1 MB), verified', outputs: { manifest: '/var/backups/x.json' } }),
    item({ id: 'db.migrate', kind: 'step', phase: 'database', title: 'Apply migrations', state: 'done', summary: 'applied 006–009' }),
    item({ id: 'checks:db.migrations-applied+db.indexes-valid', kind: 'check', phase: 'database', title: 'Verify migrations succeeded', state: 'done', checks: schemaChecks, warnings: 0, summary: '2 passed' }),
    item({ id: 'final', kind: 'signoff', phase: 'post-deployment', title: 'Final sign-off', state: 'done', summary: 'signed off', signedBy: 'ana', signedAt: '2026-11-25T18:00:40.000Z' }),
  ],
  signoff: { deployedBy: 'ana', approver: 'ben', date: '2026-11-25', source: 'prompt' },
});

const geocoded: CheckOutcome = { id: 'db.shops-geocoded', title: 'Shops geocoded', status: 'warn', summary: '3 of 120 shops have no coordinates', details: ['shop 17: "Café, Ost"', 'shop 18: 100% unknown'], hint: 'Run `routergpt deploy --resume` after db.geocode-shops', durationMs: 30 };

export const failedAtMigrateDeploy: RunRecord = run({
  id: '20261125T180000Z-deploy-fa11',
  kind: 'deploy',
  status: 'failed',
  error: 'db.migrate failed',
  items: [
    item({ id: 'checks:config.env-vars+db.reachable+db.shops-geocoded', kind: 'check', phase: 'pre-deployment', title: 'Environment, database, geocoding', state: 'done', checks: [...envChecks, geocoded], warnings: 1, summary: '2 passed, 1 warning(s)', details: [`warn db.shops-geocoded: ${geocoded.summary} → ${geocoded.hint}`] }),
    item({ id: 'db.backup', kind: 'step', phase: 'database', title: 'Back up the database', state: 'done', summary: 'backup verified' }),
    item({
      id: 'db.migrate',
      kind: 'step',
      phase: 'database',
      title: 'Apply migrations',
      state: 'failed',
      errorKind: 'OperationError',
      summary: '007_location_indexes.sql failed: relation "idx_shops_lat" already exists',
      details: ['at line 3: CREATE INDEX idx_shops_lat ON shops (lat);', '→ Drop the index by hand, or fix 007 and resume: routergpt deploy --env staging --resume 20261125T180000Z-deploy-fa11'],
    }),
    item({ id: 'db.seed-demo', kind: 'step', phase: 'database', title: 'Seed the demo shops', state: 'pending' }),
    item({ id: 'checks:db.migrations-applied+db.indexes-valid', kind: 'check', phase: 'database', title: 'Verify migrations succeeded', state: 'pending' }),
    item({ id: 'api.wait-healthy', kind: 'step', phase: 'deploy', title: 'Wait for the API to be healthy', state: 'pending' }),
    item({ id: 'final', kind: 'signoff', phase: 'post-deployment', title: 'Final sign-off', state: 'pending' }),
  ],
});

export const cancelledRollback: RunRecord = run({
  id: '20261125T190000Z-rollback-cacc',
  kind: 'rollback',
  status: 'cancelled',
  checklist: { name: 'rollback', file: '(built in)' },
  target: failedAtMigrateDeploy.id,
  tiers: ['toggle', 'code', 'migrations', 'restore'],
  error: 'Cancelled at a prompt.',
  items: [
    item({ id: 'router.disable', kind: 'step', phase: 'rollback (toggle)', title: 'Turn the router off', state: 'done', summary: 'router disabled' }),
    item({ id: 'code.rollback', kind: 'step', phase: 'rollback (code)', title: 'Deploy the previous release', state: 'skipped', summary: 'no code deploy in the target run' }),
    item({ id: 'db.migrations-down', kind: 'step', phase: 'rollback (migrations)', title: 'Run the down migrations', state: 'failed', errorKind: 'CancelledError', summary: 'Cancelled at a prompt.' }),
    item({ id: 'db.restore', kind: 'step', phase: 'rollback (restore)', title: 'Restore the pre-deploy backup', state: 'pending' }),
  ],
});
