import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Queryable } from '../db/pool.js';
import type { Approval, RunRecord } from './journal.js';

/**
 * Where `routergpt approve` leaves an approval for a deploy that waits in another process: the
 * `approvals` column of `routergpt.runs` (every operator's machine sees it), and, when the run's
 * journal is on this machine, one file per approver beside it (`<run>.approvals/`). The waiting
 * deploy reads both; neither is written by the deploy's own saves, so no approval is lost to one.
 */
export interface ApprovalStore {
  /** The runs directory of the environment (journal files). */
  dir: string;
  db: Queryable | undefined;
}

function approvalsDir(dir: string, runId: string): string {
  return path.join(dir, `${runId}.approvals`);
}

/** One file per (item, approver): created exclusively, so a second `approve` by the same person is a no-op. */
function approvalFile(dir: string, runId: string, approval: Pick<Approval, 'item' | 'by'>): string {
  const key = createHash('sha256').update(`${approval.item}\n${approval.by}`).digest('hex').slice(0, 24);
  return path.join(approvalsDir(dir, runId), `${key}.json`);
}

/**
 * Record an approval; `false` when that person had already approved that item (idempotent).
 * The file is written when the run's journal file is on this machine; the table whenever a
 * database is given (and holds the run).
 */
export async function recordApproval(store: ApprovalStore, runId: string, approval: Approval): Promise<{ recorded: boolean; where: string[] }> {
  const where: string[] = [];
  let recorded = false;
  if (existsSync(path.join(store.dir, `${runId}.json`))) {
    mkdirSync(approvalsDir(store.dir, runId), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(approvalFile(store.dir, runId, approval), `${JSON.stringify(approval)}\n`, { flag: 'wx', mode: 0o600 });
      recorded = true;
      where.push('journal files');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if (store.db) {
    const { rows } = await store.db.query<{ id: string }>(
      `UPDATE routergpt.runs SET approvals = approvals || jsonb_build_array($2::jsonb)
        WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(approvals) a WHERE a->>'item' = $3 AND a->>'by' = $4)
        RETURNING id`,
      [runId, JSON.stringify(approval), approval.item, approval.by],
    );
    if (rows.length) {
      recorded = true;
      where.push('routergpt.runs');
    }
  }
  // New in either place counts (a file on this machine, the table for the others); neither: a duplicate.
  return { recorded, where };
}

/** Every approval recorded for a run by `routergpt approve` (files and table merged, one per item and person). */
export async function readApprovals(store: ApprovalStore, runId: string): Promise<Approval[]> {
  const found: Approval[] = [];
  const dir = approvalsDir(store.dir, runId);
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      try {
        found.push(JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Approval);
      } catch {
        /* a torn file: its writer will not write it again, the table has it */
      }
    }
  }
  if (store.db) {
    const { rows } = await store.db.query<{ approvals: Approval[] }>(`SELECT approvals FROM routergpt.runs WHERE id = $1`, [runId]).catch(() => ({ rows: [] as Array<{ approvals: Approval[] }> }));
    found.push(...(rows[0]?.approvals ?? []));
  }
  const seen = new Set<string>();
  return found
    .filter((a) => typeof a?.by === 'string' && typeof a.item === 'string')
    .sort((a, b) => a.at.localeCompare(b.at))
    .filter((a) => {
      const key = `${a.item}\n${a.by}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** The approval item a run is waiting at (the one `approve` answers). */
export function waitingApprovalItem(record: RunRecord) {
  return record.items.find((i) => i.kind === 'approval' && i.state === 'running');
}
