import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { formatDuration, parseAge } from '../../config/duration.js';
import { plural } from '../../lib/plural.js';
import { RunRepository } from '../../runbook/runs.js';
import type { RunRecord } from '../../runbook/journal.js';
import { defineStep, type StepContext } from '../define-step.js';

const DEFAULT_AGE = '90d';

/**
 * The runs old enough to go: finished (never running or waiting), older than `older_than`, and
 * never what a rollback or a resume may still read — the newest deploy, the newest successful
 * deploy, and this run.
 */
async function prunable(ctx: StepContext): Promise<{ runs: RunRecord[]; ageMs: number; repo: RunRepository }> {
  const ageMs = parseAge(String(ctx.params.older_than ?? DEFAULT_AGE), 'runs.prune params.older_than');
  const repo = new RunRepository(ctx.config, ctx.db.pool, ctx.db.kind === 'embedded');
  const all = await repo.list(100_000);
  const deploys = all.filter((r) => r.kind === 'deploy');
  const keep = new Set([ctx.runId, deploys[0]?.id, deploys.find((r) => r.status === 'succeeded')?.id].filter(Boolean));
  const cutoff = ctx.now().getTime() - ageMs;
  const runs = all.filter((r) => !keep.has(r.id) && r.status !== 'running' && r.status !== 'waiting-approval' && Date.parse(r.finishedAt ?? r.startedAt) < cutoff);
  return { runs, ageMs, repo };
}

/**
 * Weekly housekeeping: run journals (`.routergpt/runs/<env>/ID.json` and the run's directory of
 * purge records and kept writes) and their `routergpt.runs` rows older than `older_than`
 * (default 90d) go; the newest deploy and the newest successful one always stay.
 */
export const runsPruneStep = defineStep({
  id: 'runs.prune',
  title: 'Prune old run journals and records',
  changesData: 'derived',
  needs: ['db'],
  params: ['older_than'],
  async plan(ctx) {
    const { runs, ageMs } = await prunable(ctx);
    return [`Delete ${plural(runs.length, 'run')} finished more than ${formatDuration(ageMs)} ago (journal files, run directories, routergpt.runs rows); the newest deploy and the newest successful deploy stay`];
  },
  async run(ctx) {
    const { runs, ageMs, repo } = await prunable(ctx);
    if (runs.length === 0) return { status: 'skipped', summary: `no run finished more than ${formatDuration(ageMs)} ago`, outputs: { pruned: [] } };
    const ids = runs.map((r) => r.id);
    for (const id of ids) {
      for (const p of [path.join(repo.dir, `${id}.json`), path.join(repo.dir, id)]) if (existsSync(p)) rmSync(p, { recursive: true, force: true });
    }
    const hasTable = await ctx.db.pool.query<{ ok: boolean }>(`SELECT to_regclass('routergpt.runs') IS NOT NULL AS ok`);
    if (hasTable.rows[0]?.ok) await ctx.db.pool.query('DELETE FROM routergpt.runs WHERE env = $1 AND id = ANY($2::text[])', [ctx.config.name, ids]);
    ctx.log(`pruned ${ids.join(', ')}`);
    return { status: 'done', summary: `pruned ${plural(ids.length, 'run')} finished more than ${formatDuration(ageMs)} ago`, outputs: { pruned: ids } };
  },
});

export default runsPruneStep;
