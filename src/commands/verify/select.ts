import type { CheckStage } from '../../checks/define-check.js';
import { CHECKS, selectChecks as selectFromRegistry, type Selection } from '../../checks/registry.js';

/** The checklist's "Smoke Test Production" + post-deployment functional tests. */
export const SMOKE_CHECK_IDS = ['api.health', 'api.search', 'api.delegate', 'api.chat-router-context', 'api.invalid-coordinates-422', 'api.unknown-shop-404', 'api.empty-area', 'api.cors', 'api.hsts', 'api.performance'];

export function selectChecks(options: { command: 'verify' | 'smoke'; stage: CheckStage | 'all'; only?: string[]; skip?: string[]; env: string }): Selection {
  if (options.command === 'smoke') {
    const smoke = CHECKS.filter((c) => SMOKE_CHECK_IDS.includes(c.id));
    const selection = selectFromRegistry({ ...options, stage: 'all' });
    const allowed = new Set(smoke.map((c) => c.id));
    const picked = options.only?.length || options.skip?.length ? selection.checks.filter((c) => allowed.has(c.id)) : smoke;
    return { checks: picked, unknown: selection.unknown };
  }
  return selectFromRegistry(options);
}
