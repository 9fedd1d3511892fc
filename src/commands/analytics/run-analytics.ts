import type { EnvironmentConfig } from '../../config/types.js';
import { withDatabase } from '../../db/connect.js';
import { loadAnalytics } from '../../db/analytics/load.js';
import { refreshAnalyticsRollupsOf, SLOW_ROLLUP_NOTE } from '../../db/analytics/rollups.js';
import { ANALYTICS_REPORT_SCHEMA, type AnalyticsReport } from '../../report/analytics.js';

export interface AnalyticsOptions {
  config: EnvironmentConfig;
  since: Date;
  now: Date;
  /** How long after a search (and a delegation) the next funnel stage still counts. */
  funnelWindowHours: number;
  shops: number;
  /** Progress for a person (stderr): a slow rollup refresh. */
  onNote?: (line: string) => void;
}

/**
 * The checklist's analytics review over a window: five queries on one connection, after bringing
 * the analytics rollups up to date (their only writes: derived data, docs/metrics.md "Rollups").
 */
export async function runAnalytics(options: AnalyticsOptions): Promise<AnalyticsReport> {
  const window = { since: options.since, until: options.now };
  return withDatabase(
    options.config,
    async (db) => {
      const rollups = await refreshAnalyticsRollupsOf(db.pool, options.onNote ? { onSlow: () => options.onNote!(SLOW_ROLLUP_NOTE) } : {});
      return {
        schema: ANALYTICS_REPORT_SCHEMA,
        env: options.config.name,
        database: db.display,
        since: window.since.toISOString(),
        until: window.until.toISOString(),
        ...(await loadAnalytics(db.pool, window, { funnelWindowHours: options.funnelWindowHours, shops: options.shops, ...(rollups ? { rollups } : {}) })),
      };
    },
    { poolSize: 1, applicationName: 'routergpt analytics' },
  );
}
