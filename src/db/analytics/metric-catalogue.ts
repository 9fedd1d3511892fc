/**
 * The checklist's Success Metrics table ("After 1 month in production, evaluate:"), as data: one
 * entry per metric with its stable id (`--metric`, JSON, JUnit), its config key
 * (`metrics.targets.<key>` / `metrics.min_sample.<key>`), which way the target points, and the
 * checklist's target. Definitions and formulas: docs/metrics.md. No imports, so the config
 * resolver can read the defaults without loading the database layer.
 */
export const METRIC_IDS = ['usage-rate', 'search-to-booking', 'response-time', 'error-rate', 'satisfaction'] as const;
export type MetricId = (typeof METRIC_IDS)[number];

/** `above`: the actual must be strictly greater than the target (the checklist's "> 10 %"); `below`: strictly less. */
export type MetricComparison = 'above' | 'below';
export type MetricUnit = '%' | 'ms' | '/5';

export interface MetricDefinition {
  id: MetricId;
  /** The checklist's name for it. */
  name: string;
  /** Key under `metrics.targets` and `metrics.min_sample` in routergpt.config.yaml. */
  configKey: string;
  comparison: MetricComparison;
  unit: MetricUnit;
  /** The checklist's target. */
  target: number;
  /**
   * Below this many observations the verdict is inconclusive, not pass or fail: one error in 50
   * requests is 2 % and says nothing about a 1 % budget.
   */
  minSample: number;
  /** What the sample counts, plural ("bookings"). */
  sampleOf: string;
}

export const METRIC_CATALOGUE: Readonly<Record<MetricId, MetricDefinition>> = {
  'usage-rate': { id: 'usage-rate', name: 'RouterGPT usage rate', configKey: 'usage_rate', comparison: 'above', unit: '%', target: 10, minSample: 20, sampleOf: 'bookings' },
  'search-to-booking': { id: 'search-to-booking', name: 'Search to booking conversion', configKey: 'search_to_booking', comparison: 'above', unit: '%', target: 25, minSample: 30, sampleOf: 'searches' },
  'response-time': { id: 'response-time', name: 'Average response time', configKey: 'response_time', comparison: 'below', unit: 'ms', target: 500, minSample: 30, sampleOf: 'timed requests' },
  'error-rate': { id: 'error-rate', name: 'Error rate', configKey: 'error_rate', comparison: 'below', unit: '%', target: 1, minSample: 100, sampleOf: 'requests' },
  satisfaction: { id: 'satisfaction', name: 'Custom GPT user satisfaction', configKey: 'satisfaction', comparison: 'above', unit: '/5', target: 4, minSample: 10, sampleOf: 'ratings' },
};

/** Where a default target and minimum sample come from, as the report says it. */
export const CHECKLIST_ORIGIN = 'the checklist (Success Metrics)';
export const BUILT_IN_MIN_SAMPLE_ORIGIN = 'built-in minimum';

export const isMetricId = (value: string): value is MetricId => (METRIC_IDS as readonly string[]).includes(value);
