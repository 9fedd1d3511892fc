import { archiveCutoff, archiveStats, countArchivable } from '../../db/retention/analytics.js';
import { plural } from '../../lib/plural.js';
import { defineCheck, fail, pass, warn } from '../define-check.js';

const DAY_MS = 86_400_000;

/** "12.3 MB": the archive's size on disk. */
function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
/** The daily archive may miss a day (a reboot, a lock) before the hot table's leftovers warn; two, and it fails. */
const WARN_LATE_DAYS = 1;
const FAIL_LATE_DAYS = 2;
/** The weekly delete may miss a week plus a day before it fails. */
const DELETE_LATE_DAYS = 8;

/**
 * The monthly review's "Archive old analytics data", computed: the events past
 * retention.analytics_archive_days still in router_analytics (the daily
 * retention.archive-analytics step should have moved them), and the archive's size and oldest
 * event — past retention.analytics_delete_days by more than a week, the weekly delete has not run.
 */
export default defineCheck({
  id: 'analytics.archive',
  title: 'Old analytics archived (monthly review)',
  needs: ['db'],
  stages: [],
  tags: ['maintenance', 'retention'],
  async run({ db, config, now }) {
    const r = config.retention;
    const archiveDays = r.analyticsArchiveDays.value;
    const deleteDays = r.analyticsDeleteDays.value;
    const stats = await archiveStats(db!);
    const archiveLine = `router_analytics_archive: ${plural(stats.rows, 'event')} (${formatBytes(stats.bytes)})${stats.oldest ? `, ${stats.oldest.toISOString().slice(0, 10)} … ${stats.newest!.toISOString().slice(0, 10)}` : ''}`;
    const data: Record<string, unknown> = { archiveDays: archiveDays ?? null, deleteDays: deleteDays ?? null, archive: { rows: stats.rows, bytes: stats.bytes, oldest: stats.oldest?.toISOString() ?? null } };
    if (archiveDays === undefined) {
      return warn('retention.analytics_archive_days is not set: analytics are kept in router_analytics forever', {
        details: [archiveLine],
        data,
        hint: `Set environments.${config.name}.retention.analytics_archive_days (and analytics_delete_days) in routergpt.config.yaml; \`routergpt maintain daily\` then archives (docs/maintenance.md#retention).`,
      });
    }
    const at = now();
    const past = await countArchivable(db!, archiveCutoff(at, archiveDays));
    const late = (days: number) => countArchivable(db!, archiveCutoff(at, archiveDays + days));
    const failing = await late(FAIL_LATE_DAYS);
    const warning = failing.rows > 0 ? failing : await late(WARN_LATE_DAYS);
    data.hot = { pastArchiveAge: past.rows, oldest: past.oldest?.toISOString() ?? null };
    const hotLine = `router_analytics: ${plural(past.rows, 'event')} older than ${archiveDays} days${past.oldest ? ` (oldest ${past.oldest.toISOString().slice(0, 16).replace('T', ' ')})` : ''}`;
    const details = [hotLine, archiveLine];
    const run = `run \`routergpt maintain daily --env ${config.name}\` (its retention.archive-analytics step) and check the job that should have`;
    if (failing.rows > 0) return fail(`${plural(failing.rows, 'event')} older than ${archiveDays + FAIL_LATE_DAYS} days still in router_analytics: the daily archive has not run for days`, { details, data, hint: `${run[0]!.toUpperCase()}${run.slice(1)}.` });
    const overdueDelete = deleteDays !== undefined && stats.oldest !== null && stats.oldest.getTime() < at.getTime() - (deleteDays + DELETE_LATE_DAYS) * DAY_MS;
    if (overdueDelete) {
      return fail(`the archive holds events from ${stats.oldest!.toISOString().slice(0, 10)}, more than a week past retention.analytics_delete_days (${deleteDays}): the weekly delete has not run`, {
        details,
        data,
        hint: `Run \`routergpt maintain weekly --env ${config.name}\` (db.backup, then retention.delete-analytics) and check the job that should have.`,
      });
    }
    if (warning.rows > 0) return warn(`${plural(warning.rows, 'event')} older than ${archiveDays + WARN_LATE_DAYS} days still in router_analytics: the last daily archive was missed or stopped early`, { details, data, hint: `${run[0]!.toUpperCase()}${run.slice(1)}.` });
    return pass(`analytics older than ${archiveDays} days are archived${past.rows ? ` (${plural(past.rows, 'event')} crossed the age since the last daily run)` : ''}; ${archiveLine}`, { details, data });
  },
});
