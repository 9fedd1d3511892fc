import type { EnvironmentConfig } from '../../config/types.js';
import { withDatabase } from '../../db/connect.js';
import { METRIC_IDS, successMetrics, type MetricId, type MetricTargets } from '../../db/analytics/metrics.js';
import { METRICS_REPORT_SCHEMA, type MetricsReport } from '../../report/metrics.js';

export interface MetricsOptions {
  config: EnvironmentConfig;
  since: Date;
  /** End of the window (exclusive). */
  until: Date;
  /** Only these (default: all five). */
  metrics?: readonly MetricId[];
  funnelWindowHours: number;
}

/** The environment's targets and minimum samples (`metrics:` over the checklist's), as successMetrics takes them. */
export function metricTargetsOf(config: EnvironmentConfig): MetricTargets {
  return Object.fromEntries(
    METRIC_IDS.map((id) => {
      const s = config.metrics[id];
      return [id, { value: s.target.value, origin: s.target.origin, minSample: s.minSample.value, minSampleOrigin: s.minSample.origin }];
    }),
  ) as MetricTargets;
}

/** The checklist's Success Metrics over a window, read-only, on one connection. */
export async function runMetrics(options: MetricsOptions): Promise<MetricsReport> {
  return withDatabase(
    options.config,
    async (db) => ({
      schema: METRICS_REPORT_SCHEMA,
      env: options.config.name,
      database: db.display,
      ...(await successMetrics(db.pool, {
        since: options.since,
        until: options.until,
        targets: metricTargetsOf(options.config),
        funnelWindowHours: options.funnelWindowHours,
        ...(options.metrics ? { metrics: options.metrics } : {}),
      })),
    }),
    { poolSize: 1, applicationName: 'routergpt metrics' },
  );
}
