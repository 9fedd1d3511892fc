import type { EnvironmentConfig } from '../../config/types.js';
import { withDatabase } from '../../db/connect.js';
import { dailyActivity, orderedFunnel, popularShops, recentEvents, timeBetweenEvents } from '../../db/analytics/queries.js';
import { ANALYTICS_REPORT_SCHEMA, type AnalyticsReport } from '../../report/analytics.js';

export interface AnalyticsOptions {
  config: EnvironmentConfig;
  since: Date;
  now: Date;
  /** How long after a search (and a delegation) the next funnel stage still counts. */
  funnelWindowHours: number;
  shops: number;
}

/** The checklist's analytics review over a window, read-only: five queries on one connection. */
export async function runAnalytics(options: AnalyticsOptions): Promise<AnalyticsReport> {
  const window = { since: options.since, until: options.now };
  return withDatabase(
    options.config,
    async (db) => ({
      schema: ANALYTICS_REPORT_SCHEMA,
      env: options.config.name,
      database: db.display,
      since: window.since.toISOString(),
      until: window.until.toISOString(),
      daily: await dailyActivity(db.pool, window),
      funnel: await orderedFunnel(db.pool, window, options.funnelWindowHours),
      shops: await popularShops(db.pool, window, options.shops),
      lastHour: await recentEvents(db.pool, '1 hour'),
      timeBetweenEvents: await timeBetweenEvents(db.pool, window),
    }),
    { poolSize: 1, applicationName: 'routergpt analytics' },
  );
}
