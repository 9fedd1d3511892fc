import type { EnvironmentConfig } from '../../config/types.js';
import { withDatabase } from '../../db/connect.js';
import { successMetrics, type MetricId } from '../../db/analytics/metrics.js';
import { refreshAnalyticsRollupsOf, SLOW_ROLLUP_NOTE } from '../../db/analytics/rollups.js';
import { metricTargetsOf } from '../../config/metric-targets.js';
import { METRICS_REPORT_SCHEMA, type MetricsReport } from '../../report/metrics.js';

export interface MetricsOptions {
  config: EnvironmentConfig;
  since: Date;
  /** End of the window (exclusive). */
  until: Date;
  /** Only these (default: all five). */
  metrics?: readonly MetricId[];
  funnelWindowHours: number;
  /** Progress for a person (stderr): a slow rollup refresh. */
  onNote?: (line: string) => void;
}

/**
 * The checklist's Success Metrics over a window, on one connection: brings the analytics rollups
 * up to date (their only writes: derived data, docs/metrics.md "Rollups"), then reads.
 */
export async function runMetrics(options: MetricsOptions): Promise<MetricsReport> {
  return withDatabase(
    options.config,
    async (db) => {
      const rollups = await refreshAnalyticsRollupsOf(db.pool, options.onNote ? { onSlow: () => options.onNote!(SLOW_ROLLUP_NOTE) } : {});
      return {
        schema: METRICS_REPORT_SCHEMA,
        env: options.config.name,
        database: db.display,
        ...(await successMetrics(db.pool, {
          since: options.since,
          until: options.until,
          targets: metricTargetsOf(options.config.metrics),
          funnelWindowHours: options.funnelWindowHours,
          ...(options.metrics ? { metrics: options.metrics } : {}),
          ...(rollups ? { rollups } : {}),
        })),
      };
    },
    { poolSize: 1, applicationName: 'routergpt metrics' },
  );
}
