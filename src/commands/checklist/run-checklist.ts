import type { EnvironmentConfig } from '../../config/types.js';
import type { Checklist } from '../../runbook/checklist.js';
import { openDatabase, type Database } from '../../db/connect.js';
import { approversOfRun, type RunRecord } from '../../runbook/journal.js';
import { RunRepository } from '../../runbook/runs.js';
import { loadEnvChecklist } from '../../runbook/known-ids.js';

const MARK = { done: '✅', warn: '⚠️', skipped: '⏭', failed: '❌', running: '⏳', pending: '⬜' } as const;

export function runChecklistShow({ config, cwd, file }: { config: EnvironmentConfig; cwd: string; file?: string }): Checklist {
  return loadEnvChecklist(config, cwd, file);
}

/** The checklist as Markdown, each item marked with its state in the latest run (deploy, or given). */
export function renderChecklistMarkdown(checklist: Checklist, run: RunRecord | undefined): string {
  const lines = [`# ${checklist.description || checklist.name}`, ''];
  lines.push(run ? `Latest ${run.kind}: \`${run.id}\` — **${run.status}** (started ${run.startedAt} by ${run.startedBy})` : 'No run recorded yet: every item is unchecked.', '');
  for (const phase of checklist.phases) {
    lines.push(`## ${phase.title}${phase.run !== 'deploy' ? ` _(routergpt maintain ${phase.cadence ?? 'daily'})_` : ''}`, '');
    for (const item of phase.items) {
      const record = run?.items.find((i) => i.id === item.id);
      // Items of phases another command runs (rollback, maintain) are listed, not checked off.
      const inRun = !run || (phase.run === 'deploy' ? run.kind === 'deploy' : run.kind === phase.run);
      const mark = record ? MARK[record.state] : inRun ? '⬜' : '•';
      const what = item.kind === 'check' ? `check ${item.checks.map((c) => `\`${c}\``).join(', ')}` : item.kind === 'step' ? `step \`${item.id}\`` : item.kind === 'manual' ? 'manual' : item.kind === 'approval' ? 'approval' : 'sign-off';
      const title = item.title ?? (item.kind === 'step' || item.kind === 'check' ? '' : item.id);
      lines.push(`- ${mark} ${title ? `**${title}** — ` : ''}${what}${record?.summary ? `: ${record.summary.replace(/\n/g, ' ')}` : ''}${record?.signedBy ? ` (signed by ${record.signedBy})` : ''}`);
    }
    lines.push('');
  }
  // The checklist's own Sign-off block, filled in: who deployed and when, and who approved — a
  // line is left out rather than drawn as "—" when there is nothing to put in it.
  if (run?.signoff) {
    const approvers = approversOfRun(run);
    lines.push(`**Deployment date:** ${run.signoff.date.slice(0, 10)}  `, `**Deployed by:** ${run.signoff.deployedBy}  `, ...(approvers.length ? [`**Approved by:** ${approvers.join(', ')}  `] : []), `**Signed off:** ${run.signoff.source === 'signoff-file' ? 'in the sign-off file' : run.signoff.source === 'local' ? 'local rehearsal' : 'at the prompt'}, ${run.signoff.date}`, '');
  }
  return `${lines.join('\n')}\n`;
}

/** The run to mark: the given one, or the latest deploy — from the one repository of runs (files and table). */
export async function latestRun(config: EnvironmentConfig, id?: string): Promise<RunRecord | undefined> {
  let db: Database | undefined;
  try {
    db = await openDatabase(config, { applicationName: 'routergpt checklist', poolSize: 1 });
  } catch {
    db = undefined; // the files alone still answer
  }
  try {
    const runs = new RunRepository(config, db?.pool, db?.kind === 'embedded');
    return id ? await runs.get(id) : (await runs.list()).find((r) => r.kind === 'deploy');
  } finally {
    await db?.close();
  }
}
