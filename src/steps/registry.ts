import { apiWaitHealthyStep } from './api/wait-healthy.js';
import { apiWatchStep } from './api/watch.js';
import { codeDeployStep } from './code/deploy.js';
import { dbBackupStep } from './db/backup.js';
import { dbCleanupGeocodingCacheStep } from './db/cleanup-geocoding-cache.js';
import { dbGeocodeRefreshStep } from './db/geocode-refresh.js';
import { dbGeocodeShopsStep } from './db/geocode-shops.js';
import { dbMigrateStep } from './db/migrate.js';
import { dbPurgeTestDataStep } from './db/purge-test-data.js';
import { dbRestoreStep } from './db/restore.js';
import { dbSeedDemoStep } from './db/seed-demo.js';
import type { Step } from './define-step.js';
import { dbDropStaleRestoreTestsStep } from './housekeeping/drop-restore-tests.js';
import { runsPruneStep } from './housekeeping/prune-runs.js';
import { retentionAnonymiseChatsStep } from './retention/anonymise-chats.js';
import { retentionArchiveAnalyticsStep } from './retention/archive-analytics.js';
import { retentionDeleteAnalyticsStep } from './retention/delete-analytics.js';
import { routerDisableStep, routerEnableStep } from './router/toggle.js';

/** Every step id a checklist may name (docs/steps.md). */
export const STEPS: readonly Step[] = [
  dbBackupStep,
  dbMigrateStep,
  dbSeedDemoStep,
  dbGeocodeShopsStep,
  dbPurgeTestDataStep,
  codeDeployStep,
  apiWaitHealthyStep,
  apiWatchStep,
  routerDisableStep,
  routerEnableStep,
  dbRestoreStep,
  dbCleanupGeocodingCacheStep,
  dbGeocodeRefreshStep,
  runsPruneStep,
  dbDropStaleRestoreTestsStep,
  retentionArchiveAnalyticsStep,
  retentionDeleteAnalyticsStep,
  retentionAnonymiseChatsStep,
];

export function findStep(id: string): Step | undefined {
  return STEPS.find((s) => s.id === id);
}
