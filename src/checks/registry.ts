import type { Check, CheckStage } from './define-check.js';
import configEnvVars from './config/env-vars.js';
import dbAnalyticsRecentEvents from './db/analytics-recent-events.js';
import dbAnalyticsViews from './db/analytics-views.js';
import dbGeocodingCache from './db/geocoding-cache.js';
import dbIndexesValid from './db/indexes-valid.js';
import dbMigrationsApplied from './db/migrations-applied.js';
import dbReachable from './db/reachable.js';
import dbSchemaDrift from './db/schema-drift.js';
import dbSearchQueryPlan from './db/search-query-plan.js';
import dbShopsGeocoded from './db/shops-geocoded.js';
import dbShopsLocationColumns from './db/shops-location-columns.js';
import dbTablesExist from './db/tables-exist.js';
import dbTestDataAbsent from './db/test-data-absent.js';
import securitySecretsNotCommitted from './security/secrets-not-committed.js';
import securityBackupsNotInRepo from './security/backups-not-in-repo.js';
import hostDiskSpace from './host/disk-space.js';
import analyticsArchive from './analytics/archive.js';
import analyticsErrorsByRoute from './analytics/errors-by-route.js';
import analyticsRateLimitHits from './analytics/rate-limit-hits.js';
import analyticsResponseTimes from './analytics/response-times.js';
import analyticsWeeklyReview from './analytics/weekly-review.js';
import backupAge from './backup/age.js';
import dbSlowQueries from './db/slow-queries.js';
import { API_CHECKS } from './api/index.js';
import apiSchemaMatches from './api/schema-matches.js';
import apiFleetConsistent from './api/fleet-consistent.js';

// api.schema-matches and api.fleet-consistent read what api.health reads (/health), so they are listed right after it.
const afterHealth = API_CHECKS.findIndex((c) => c.id === 'api.health') + 1;

/**
 * The one list of check ids (STYLE.md §5). Ids are stable and never reused; each has an entry
 * in docs/checks.md, and test/checks/registry.test.ts keeps the two in step.
 */
export const CHECKS: readonly Check[] = [
  configEnvVars,
  securitySecretsNotCommitted,
  securityBackupsNotInRepo,
  dbReachable,
  dbMigrationsApplied,
  dbSchemaDrift,
  dbTablesExist,
  dbShopsLocationColumns,
  dbIndexesValid,
  dbAnalyticsViews,
  dbGeocodingCache,
  dbTestDataAbsent,
  dbShopsGeocoded,
  dbSearchQueryPlan,
  dbAnalyticsRecentEvents,
  hostDiskSpace,
  // The maintenance findings (no stage: `routergpt maintain` runs them; verify only with --only).
  analyticsErrorsByRoute,
  analyticsResponseTimes,
  analyticsRateLimitHits,
  analyticsWeeklyReview,
  analyticsArchive,
  backupAge,
  dbSlowQueries,
  ...API_CHECKS.slice(0, afterHealth),
  apiSchemaMatches,
  apiFleetConsistent,
  ...API_CHECKS.slice(afterHealth),
];

export function findCheck(id: string): Check | undefined {
  return CHECKS.find((c) => c.id === id);
}

export function tagsOf(check: Check): string[] {
  return [check.id.split('.')[0]!, ...(check.tags ?? []), ...check.stages];
}

export interface SelectOptions {
  stage: CheckStage | 'all';
  only?: string[];
  skip?: string[];
  env: string;
}

export interface Selection {
  checks: Check[];
  /** Ids/tags in --only or --skip that match nothing: a usage error. */
  unknown: string[];
}

/** Pick checks by stage, then --only (ids or tags), then --skip; off-by-default checks need --only. */
export function selectChecks({ stage, only, skip, env }: SelectOptions): Selection {
  const matches = (check: Check, token: string) => check.id === token || tagsOf(check).includes(token);
  const unknown = [...(only ?? []), ...(skip ?? [])].filter((t) => !CHECKS.some((c) => matches(c, t)));
  // A check of no stage is a maintenance finding: chosen by a checklist or --only, never by default.
  let checks = CHECKS.filter((c) => (stage === 'all' ? c.stages.length > 0 : c.stages.includes(stage)));
  if (only && only.length > 0) checks = CHECKS.filter((c) => only.some((t) => matches(c, t)));
  else checks = checks.filter((c) => !c.defaultOffIn?.includes(env));
  if (skip && skip.length > 0) checks = checks.filter((c) => !skip.some((t) => matches(c, t)));
  return { checks, unknown };
}
