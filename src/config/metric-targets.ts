/**
 * `metrics:` of an environment — the Success Metrics' targets and minimum samples
 * (docs/metrics.md#targets). Each metric's target and minimum sample keep their own source: a
 * file that sets only `metrics.targets.error_rate` leaves the other targets the checklist's.
 */
import { BUILT_IN_MIN_SAMPLE_ORIGIN, CHECKLIST_ORIGIN, METRIC_CATALOGUE, METRIC_IDS, type MetricId } from '../db/analytics/metric-catalogue.js';
import type { MetricTargets } from '../db/analytics/metrics.js';
import type { Sourced } from './types.js';

export interface RawMetrics {
  /** Percentages (0–100) for the rates, a duration for response_time, 1–5 for satisfaction. */
  targets?: Partial<Record<string, number | string>>;
  min_sample?: Partial<Record<string, number>>;
}

export interface MetricSetting {
  target: Sourced<number>;
  minSample: Sourced<number>;
}
export type MetricSettings = Record<MetricId, MetricSetting>;

const percent = { type: 'number', minimum: 0, maximum: 100 };
const targetSchemas: Record<MetricId, object> = {
  'usage-rate': percent,
  'search-to-booking': percent,
  // The grammar is resolve.ts's to check (DURATION_KEYS), as every other duration.
  'response-time': { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string' }] },
  'error-rate': percent,
  satisfaction: { type: 'number', minimum: 1, maximum: 5 },
};

/** The JSON schema of `metrics:` (file-schema.ts): unknown metric keys are errors, as everywhere. */
export const metricsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    targets: { type: 'object', additionalProperties: false, properties: Object.fromEntries(METRIC_IDS.map((id) => [METRIC_CATALOGUE[id].configKey, targetSchemas[id]])) },
    min_sample: { type: 'object', additionalProperties: false, properties: Object.fromEntries(METRIC_IDS.map((id) => [METRIC_CATALOGUE[id].configKey, { type: 'integer', minimum: 1 }])) },
  },
} as const;

/** The duration keys inside `metrics:` (for DURATION_KEYS). */
export const METRIC_DURATION_KEYS = [['metrics', 'targets', 'response_time']] as const;

/**
 * File > the checklist's target (and the built-in minimum sample), per metric. `responseTimeMs` is
 * the file's response_time already parsed (resolve.ts parses every duration the same way).
 */
export function resolveMetricSettings(raw: RawMetrics | undefined, responseTimeMs: number | undefined, fileLabel: (key: string) => string): MetricSettings {
  return Object.fromEntries(
    METRIC_IDS.map((id): [MetricId, MetricSetting] => {
      const def = METRIC_CATALOGUE[id];
      const fileTarget = id === 'response-time' ? responseTimeMs : (raw?.targets?.[def.configKey] as number | undefined);
      const fileMin = raw?.min_sample?.[def.configKey];
      return [
        id,
        {
          target: fileTarget === undefined
            ? { value: def.target, source: 'default', origin: CHECKLIST_ORIGIN }
            : { value: fileTarget, source: 'file', origin: fileLabel(`metrics.targets.${def.configKey}`) },
          minSample: fileMin === undefined
            ? { value: def.minSample, source: 'default', origin: BUILT_IN_MIN_SAMPLE_ORIGIN }
            : { value: fileMin, source: 'file', origin: fileLabel(`metrics.min_sample.${def.configKey}`) },
        },
      ];
    }),
  ) as MetricSettings;
}

/** The environment's targets and minimum samples as successMetrics takes them (routergpt metrics, routergpt report). */
export function metricTargetsOf(settings: MetricSettings): MetricTargets {
  return Object.fromEntries(
    METRIC_IDS.map((id) => {
      const s = settings[id];
      return [id, { value: s.target.value, origin: s.target.origin, minSample: s.minSample.value, minSampleOrigin: s.minSample.origin }];
    }),
  ) as MetricTargets;
}
