import type { RunReport } from './run-report.js';
import type { VerifyReport } from './types.js';

/** The report object itself, pretty-printed: the documented schema (docs/report-schema.md). */
export function renderJson(report: VerifyReport | RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
