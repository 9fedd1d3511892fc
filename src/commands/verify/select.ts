import type { CheckStage } from '../../checks/define-check.js';
import { CHECKS, selectChecks as selectFromRegistry, type Selection } from '../../checks/registry.js';

import { SMOKE_CHECK_IDS } from '../../checks/sets.js';

export { SMOKE_CHECK_IDS };

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
