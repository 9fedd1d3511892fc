import { formatDuration } from './duration.js';
import type { RawEnvironment } from './file-schema.js';
import type { Sourced, WatchSettings } from './types.js';

const DAY_MS = 86_400_000;
/** How far back `routergpt watch` may read for its week-earlier baseline (src/runbook/watch/baseline.ts WEEK_MS). */
const WATCH_BASELINE_WEEK_MS = 7 * DAY_MS;

/**
 * `retention:` of an environment (docs/maintenance.md#retention), each age in whole days; unset
 * means kept forever. The retention steps of `routergpt maintain` read it:
 * - analytics_archive_days: events older than this are moved from router_analytics to
 *   router_analytics_archive (the readers read both: figures do not change);
 * - analytics_delete_days: events older than this are deleted (archive and hot table);
 * - chat_anonymise_days: chat transcripts older than this are anonymised (messages removed, the
 *   session and its booking kept).
 */
export interface RetentionSettings {
  analyticsArchiveDays: Sourced<number | undefined>;
  analyticsDeleteDays: Sourced<number | undefined>;
  chatAnonymiseDays: Sourced<number | undefined>;
}

export const RETENTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    analytics_archive_days: { type: 'integer', minimum: 1 },
    analytics_delete_days: { type: 'integer', minimum: 1 },
    chat_anonymise_days: { type: 'integer', minimum: 1 },
  },
} as const;

/**
 * The oldest analytics `routergpt watch` reads, in whole days: its week-earlier baseline is the
 * watched window one week back, read while the watch lasts (watch.for), so a row younger than
 * 7 days + watch.for must still exist when a watch starts. (The previous release's first window
 * may be older: it is read from the archive too, and is gone only once deleted.)
 */
export function watchBaselineDays(watch: WatchSettings): number {
  return Math.ceil((WATCH_BASELINE_WEEK_MS + watch.forMs) / DAY_MS);
}

/**
 * `retention:` resolved; the rules between its values and against the watch's baseline are
 * small functions (STYLE.md §20), each problem with its fix, all reported at once.
 */
export function resolveRetention(raw: RawEnvironment['retention'], watch: Sourced<WatchSettings>, fileLabel: (key: string) => string, problems: string[]): RetentionSettings {
  const days = (key: keyof NonNullable<RawEnvironment['retention']>, what: string): Sourced<number | undefined> => {
    const value = raw?.[key];
    return value === undefined ? { value: undefined, source: 'default', origin: `not set: ${what} kept forever` } : { value, source: 'file', origin: fileLabel(`retention.${key}`) };
  };
  const settings: RetentionSettings = {
    analyticsArchiveDays: days('analytics_archive_days', 'analytics stay in router_analytics,'),
    analyticsDeleteDays: days('analytics_delete_days', 'analytics'),
    chatAnonymiseDays: days('chat_anonymise_days', 'chat transcripts'),
  };
  for (const rule of RETENTION_RULES) rule({ settings, watch, fileLabel, problems });
  return settings;
}

interface RuleContext {
  settings: RetentionSettings;
  watch: Sourced<WatchSettings>;
  fileLabel: (key: string) => string;
  problems: string[];
}
type Rule = (ctx: RuleContext) => void;

/** Deleting at or before archiving would delete what was just moved (or never archive): the order is archive, then delete. */
const deleteAfterArchive: Rule = ({ settings, fileLabel, problems }) => {
  const archive = settings.analyticsArchiveDays.value;
  const del = settings.analyticsDeleteDays.value;
  if (archive === undefined || del === undefined || del > archive) return;
  problems.push(`${fileLabel('retention.analytics_delete_days')} (${del}) must be more than retention.analytics_archive_days (${archive}): events are archived first and deleted later — set analytics_delete_days above ${archive}, or lower analytics_archive_days.`);
};

/**
 * The watch compares a release with the same window one week earlier: deleting analytics younger
 * than that leaves it without a baseline (archiving does not: the watch reads the archive too).
 */
const deleteCoversWatchBaseline: Rule = ({ settings, watch, fileLabel, problems }) => {
  const del = settings.analyticsDeleteDays.value;
  if (del === undefined) return;
  const need = watchBaselineDays(watch.value);
  if (del >= need) return;
  const forSource = watch.source === 'default' ? 'watch.for, built-in default' : watch.origin;
  problems.push(
    `${fileLabel('retention.analytics_delete_days')} (${del}) is shorter than routergpt watch's baseline needs: it compares with the same window one week earlier, 7 days + watch.for ${formatDuration(watch.value.forMs)} (${forSource}) = ${need} days back — set analytics_delete_days to at least ${need}, or shorten watch.for.`,
  );
};

const RETENTION_RULES: readonly Rule[] = [deleteAfterArchive, deleteCoversWatchBaseline];
