import type { IO } from '../../cli/io.js';
import type { EnvironmentConfig } from '../../config/types.js';
import { openDatabase } from '../../db/connect.js';
import { UsageError } from '../../errors.js';
import { readApprovals, recordApproval, waitingApprovalItem } from '../../runbook/approvals.js';
import { resolveIdentity, type Identity } from '../../runbook/identity.js';
import { RunRepository } from '../../runbook/runs.js';

export interface ApproveOptions {
  config: EnvironmentConfig;
  io: IO;
  cwd: string;
  /** The run to approve (as `routergpt status` lists it). */
  run: string;
  /** `--as ID` (default: git config user.email, else the CI actor, else the OS account). */
  as?: string;
  identity?: Identity;
  note?: string;
  now?: () => Date;
}

export interface ApproveResult {
  run: string;
  item: string;
  by: string;
  identitySource: Identity['source'];
  /** false: this person had already approved (nothing recorded again). */
  recorded: boolean;
  approvals: number;
  required: number;
  where: string[];
}

/**
 * `routergpt approve RUN --as ID`: an approval for a deploy waiting in `waiting-approval`,
 * recorded where the waiting process looks (routergpt.runs, and the journal files on this
 * machine). Refused: an unknown run, a run that is not waiting, the deployer (unless the
 * environment allows self-approval). A second approval by the same person changes nothing.
 */
export async function runApprove(options: ApproveOptions): Promise<ApproveResult> {
  const { config } = options;
  const identity = options.identity ?? (await resolveIdentity({ flag: options.as, env: options.io.env, cwd: options.cwd }));
  const db = await openDatabase(config, { applicationName: 'routergpt approve', poolSize: 1 });
  try {
    const runs = new RunRepository(config, db.pool, db.kind === 'embedded');
    const record = await runs.get(options.run);
    const view = await runs.view(record);
    const env = config.name;
    if (view.state !== 'waiting-approval') {
      const why = view.state === 'interrupted' ? 'was interrupted (its process is gone)' : `is ${view.state}`;
      throw new UsageError(`Run ${record.id} ${why}; only a run waiting for approval (waiting-approval) can be approved.`, view.state === 'interrupted' || view.state === 'failed' || view.state === 'cancelled' ? `Its deployer resumes it (\`routergpt deploy --env ${env} --resume ${record.id}\`); approve it when \`routergpt status --env ${env}\` shows it waiting-approval.` : `See \`routergpt status --env ${env}\`.`);
    }
    const item = waitingApprovalItem(record);
    if (!item) throw new UsageError(`Run ${record.id} is not at an approval item.`, `See \`routergpt status --env ${env} --run ${record.id}\`.`);
    const policy = config.approvals.value;
    const deployers = new Set([record.startedBy.trim().toLowerCase()]);
    if (deployers.has(identity.id) && !policy.allowSelfApproval) {
      throw new UsageError(`${identity.id} (${identity.origin}) started run ${record.id} and cannot approve it on ${env} (approvals.allow_self_approval is false).`, `Ask another person to run \`routergpt approve ${record.id} --as THEIR-ID --env ${env}\`; nothing was recorded.`);
    }
    const store = { dir: runs.dir, db: db.pool };
    const already = [...(item.approvals ?? []), ...(await readApprovals(store, record.id))].some((a) => a.item === item.id && a.by === identity.id);
    const approval = { by: identity.id, at: (options.now ?? (() => new Date()))().toISOString(), source: 'approve' as const, item: item.id, ...(options.note ? { note: options.note } : {}) };
    const { recorded, where } = already ? { recorded: false, where: [] } : await recordApproval(store, record.id, approval);
    const approvals = new Set([...(item.approvals ?? []), ...(await readApprovals(store, record.id))].filter((a) => a.item === item.id && (policy.allowSelfApproval || !deployers.has(a.by))).map((a) => a.by)).size;
    return { run: record.id, item: item.id, by: identity.id, identitySource: identity.source, recorded, approvals, required: policy.required, where };
  } finally {
    await db.close();
  }
}

