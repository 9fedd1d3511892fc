import { CHECKS } from '../checks/registry.js';
import type { EnvironmentConfig } from '../config/types.js';
import { STEPS } from '../steps/registry.js';
import { checklistFileFor, loadChecklist, type Checklist, type KnownIds } from './checklist.js';

/** The ids and parameters a checklist may name: the check and step registries. */
export const KNOWN_IDS: KnownIds = { checks: new Set(CHECKS.map((c) => c.id)), steps: new Set(STEPS.map((s) => s.id)), stepParams: new Map(STEPS.map((s) => [s.id, s.params ?? []])), checkParams: new Map(CHECKS.map((c) => [c.id, c.params ?? []])) };

/** The environment's checklist (checklists/<env>.yaml, or `--checklist FILE`), validated strictly. */
export function loadEnvChecklist(config: EnvironmentConfig, cwd: string, override?: string): Checklist {
  return loadChecklist(checklistFileFor(config.name, override, cwd), KNOWN_IDS);
}
