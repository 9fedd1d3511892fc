import { metricTargetsOf } from '../../config/metric-targets.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { withDatabase } from '../../db/connect.js';
import { loadAnalytics } from '../../db/analytics/load.js';
import { successMetrics, type SuccessMetricsReport } from '../../db/analytics/metrics.js';
import { readAnalyticsRollupState } from '../../db/analytics/rollups.js';
import { ANALYTICS_REPORT_SCHEMA, type AnalyticsReport } from '../../report/analytics.js';
import type { HtmlReportModel, Missing } from '../../report/html.js';
import type { HtmlRunInput } from '../../report/html/run-section.js';
import { describeState, RunRepository } from '../../runbook/runs.js';

export interface ReportOptions {
  config: EnvironmentConfig;
  /** The analytics and metrics window: since … now. */
  since: Date;
  now: Date;
  /** A run id; default: the environment's latest deploy run. */
  run?: string;
  funnelWindowHours: number;
  /** How many popular shops. */
  shops: number;
}

/** PostgreSQL's undefined_table and undefined_column: a database older than the analytics migrations. */
const UNMIGRATED = new Set(['42P01', '42703']);

/** A part that cannot be computed on a database not migrated that far says so (and how to fix it); anything else is thrown. */
function unmigrated(error: unknown, what: string, env: string): Missing {
  if (!UNMIGRATED.has((error as { code?: string }).code ?? '')) throw error;
  return { missing: `${what} could not be computed: ${(error as Error).message} — the database is not migrated (\`routergpt migrate up --env ${env}\`).` };
}

/**
 * Everything the HTML report shows, read-only, on one connection: the run (from the one run
 * repository, as `routergpt status`), the analytics review and the Success Metrics over the
 * window. An unknown --run is a usage error before anything is rendered.
 */
export async function runReport(options: ReportOptions): Promise<HtmlReportModel> {
  const { config } = options;
  const window = { since: options.since, until: options.now };
  return withDatabase(
    config,
    async (db) => {
      const runs = new RunRepository(config, db.pool, db.kind === 'embedded');
      let run: HtmlRunInput | Missing;
      const record = options.run ? await runs.get(options.run) : (await runs.list()).find((r) => r.kind === 'deploy');
      if (record) run = { record, state: describeState(await runs.view(record)) };
      else run = { missing: `no deploy run recorded for ${config.name} yet (\`routergpt deploy --env ${config.name} --dry-run\` shows the plan)` };
      // Read-only: the rollups as far as the last metrics/analytics refresh took them (the rest raw, the same answers).
      const rollups = await readAnalyticsRollupState(db.pool);
      const analytics: AnalyticsReport | Missing = await loadAnalytics(db.pool, window, { funnelWindowHours: options.funnelWindowHours, shops: options.shops, ...(rollups ? { rollups } : {}) }).then(
        (data): AnalyticsReport => ({ schema: ANALYTICS_REPORT_SCHEMA, env: config.name, database: db.display, since: window.since.toISOString(), until: window.until.toISOString(), ...data }),
        (error: unknown) => unmigrated(error, 'the analytics', config.name),
      );
      const metrics: SuccessMetricsReport | Missing = await successMetrics(db.pool, { since: window.since, until: window.until, targets: metricTargetsOf(config.metrics), funnelWindowHours: options.funnelWindowHours, ...(rollups ? { rollups } : {}) }).catch((error: unknown) =>
        unmigrated(error, 'the success metrics', config.name),
      );
      return { env: config.name, generatedAt: options.now.toISOString(), database: db.display, run, analytics, metrics };
    },
    { poolSize: 1, applicationName: 'routergpt report' },
  );
}
