import { findStep } from '../steps/registry.js';
import { plural } from '../lib/plural.js';
import { stepContext, type ExecutorDeps } from './executor.js';
import { titleOf, type RunItem } from './items.js';

export interface PlanEntry {
  id: string;
  kind: RunItem['kind'];
  phase: string;
  title: string;
  lines: string[];
}

function approvalPlan(deps: ExecutorDeps): string {
  const { required, allowSelfApproval } = deps.config.approvals.value;
  if (required === 0) return `no approval required on ${deps.config.name} (approvals.required: 0)`;
  const given = deps.signoff?.approvals.length ? `${deps.signoff.approvals.length} from ${deps.signoff.file}; ` : '';
  return `${plural(required, 'approval')}${allowSelfApproval ? '' : ` by someone other than ${deps.startedBy}`}: ${given}${deps.prompter && !deps.signoff ? 'asked at the prompt, or ' : ''}\`routergpt approve RUN --as ID\` while the run waits`;
}

/** What each item would do: the --dry-run text, and the plan shown before the confirmation. */
export async function buildPlan(deps: ExecutorDeps, items: RunItem[], apiLabel: string | undefined): Promise<PlanEntry[]> {
  const plan: PlanEntry[] = [];
  for (const item of items) {
    const entry: PlanEntry = { id: item.id, kind: item.kind, phase: item.phase, title: titleOf(item), lines: [] };
    try {
      if (item.kind === 'step') entry.lines = await findStep(item.id)!.plan({ ...stepContext(deps, item, apiLabel), outputs: { ...deps.baseOutputs } });
      else if (item.kind === 'undo') entry.lines = await findStep(item.step)!.undo!.plan(stepContext(deps, item, apiLabel), item.source);
      else if (item.kind === 'check') entry.lines = [`check ${item.checks.join(', ')}${item.onFail === 'continue' ? ' (failures reported, do not stop)' : ' (a failure stops the run)'}`];
      else if (item.kind === 'manual') entry.lines = [deps.signoff ? `answered by ${deps.signoff.file}` : 'asked at the prompt'];
      else if (item.kind === 'approval') entry.lines = [approvalPlan(deps)];
      else entry.lines = [`records the deployer (${deps.startedBy}) and the date${deps.signoff ? `, signed off by ${deps.signoff.file}` : deps.config.name === 'local' ? '' : ', confirmed at the prompt'}`];
    } catch (error) {
      entry.lines = [`(cannot plan yet: ${(error as Error).message.split('\n')[0]})`];
    }
    plan.push(entry);
  }
  return plan;
}
