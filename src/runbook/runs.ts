import os from 'node:os';
import { plural } from '../lib/plural.js';
import type { EnvironmentConfig } from '../config/types.js';
import type { Queryable } from '../db/pool.js';
import { UsageError } from '../errors.js';
import { isProcessAlive } from '../lib/process-alive.js';
import { commandOf, listRunFiles, resumeCommand, listRunsFromDb, parseRunId, readRunFile, runsDir, type RunKind, type RunRecord, type RunStatus } from './journal.js';
import { isRunLockHeld } from './lock.js';

/** What a reader sees: the stored status, or `interrupted` when the owner is gone and the lock is free. */
export type RunState = RunStatus | 'interrupted';

/** A run as `status`, `--resume`, `rollback` and `checklist render` see it. */
export interface RunView {
  record: RunRecord;
  state: RunState;
  /** For an interrupted run: the item it stopped at. */
  stoppedAt?: string;
  /** The rollback runs that undid this deploy (newest first). */
  rolledBackBy: string[];
}

/** A waiting run saves its record every APPROVAL_POLL (≤ 5 s); three minutes of silence means it is gone. */
export const WAITING_HEARTBEAT_MS = 3 * 60_000;

/** Whether the record updated last is `a` (files and table can each hold a newer copy). */
function newer(a: RunRecord, b: RunRecord): boolean {
  const stamp = (r: RunRecord) => r.updatedAt ?? r.finishedAt ?? r.startedAt;
  return stamp(a) >= stamp(b);
}

/**
 * The one repository of runs (DESIGN.md "Runbook"): this machine's journal files under
 * `<stateDir>/runs/<env>/` merged with the `routergpt.runs` table (every operator's runs).
 */
export class RunRepository {
  readonly dir: string;
  /** Set when the database could not be read: the view is this machine's files only. */
  dbProblem: string | undefined;

  constructor(
    private readonly config: EnvironmentConfig,
    private readonly db: Queryable | undefined,
    private readonly embedded: boolean,
  ) {
    this.dir = runsDir(config.stateDir.value, config.name);
  }

  private async fromDb(limit: number): Promise<RunRecord[]> {
    if (!this.db) return [];
    try {
      return await listRunsFromDb(this.db, this.config.name, limit);
    } catch (error) {
      this.dbProblem = (error as Error).message.split('\n')[0];
      return [];
    }
  }

  /** Every run of the environment, newest first, one record per id (the later update wins). */
  async list(limit = 500): Promise<RunRecord[]> {
    const byId = new Map<string, RunRecord>();
    for (const r of [...(await this.fromDb(limit)), ...listRunFiles(this.dir)]) {
      if (r.env !== this.config.name) continue;
      const seen = byId.get(r.id);
      if (!seen || newer(r, seen)) byId.set(r.id, r);
    }
    return [...byId.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** One run by id (validated first); unknown ids and runs of another environment are usage errors. */
  async get(value: string, kind?: RunKind): Promise<RunRecord> {
    const id = parseRunId(value, this.config.name);
    const file = readRunFile(this.dir, id);
    const fromDb = await this.byId(id);
    const record = file && fromDb ? (newer(file, fromDb) ? file : fromDb) : (file ?? fromDb);
    if (!record) throw new UsageError(`Unknown run id "${id}" for ${this.config.name}.`, `See \`routergpt status --env ${this.config.name}\` for run ids.`);
    // The table is shared by every environment on the database: another one's run is named as such.
    if (record.env !== this.config.name) throw new UsageError(`Run ${id} belongs to ${record.env}, not ${this.config.name}.`, `Pass --env ${record.env}.`);
    if (kind && record.kind !== kind) throw new UsageError(`Run ${id} is a ${record.kind}, not a ${kind}.`, `See \`routergpt status --env ${this.config.name}\`.`);
    return record;
  }

  /** One record from the table, whatever its environment (one indexed lookup, not a listing). */
  private async byId(id: string): Promise<RunRecord | undefined> {
    if (!this.db) return undefined;
    const { rows } = await this.db
      .query<{ record: RunRecord }>(`SELECT record FROM routergpt.runs WHERE id = $1`, [id])
      .catch((error: Error) => {
        // No journal table yet (a fresh database) is not a problem; anything else is reported by status.
        if (!/does not exist/.test(error.message)) this.dbProblem = error.message.split('\n')[0];
        return { rows: [] as Array<{ record: RunRecord }> };
      });
    return rows[0]?.record;
  }

  /** Whether the process that owns a `running` (or `waiting-approval`) record is still at it. */
  async isLive(record: RunRecord): Promise<boolean> {
    if (record.status !== 'running' && record.status !== 'waiting-approval') return false;
    if (record.host === os.hostname() && !isProcessAlive(record.pid)) return false;
    if (record.host === os.hostname() && record.pid === process.pid) return true;
    // A run waiting for approval holds no lock (nothing has changed yet): it saves its record
    // every few seconds while it waits, so a recent save is its heartbeat.
    if (record.status === 'waiting-approval') return record.host === os.hostname() || Date.now() - Date.parse(record.updatedAt ?? record.startedAt) < WAITING_HEARTBEAT_MS;
    // Another machine's run: alive while the environment's run lock is held.
    return isRunLockHeld({ pool: this.db, embedded: this.embedded, env: this.config.name, dir: this.dir });
  }

  async view(record: RunRecord, all?: RunRecord[]): Promise<RunView> {
    const runs = all ?? (await this.list());
    const rolledBackBy = record.kind === 'deploy' ? runs.filter((r) => r.kind === 'rollback' && r.target === record.id && r.status === 'succeeded' && (r.tiers ?? []).some((t) => t !== 'toggle')).map((r) => r.id) : [];
    if ((record.status === 'running' || record.status === 'waiting-approval') && !(await this.isLive(record))) {
      const stopped = record.items.find((i) => i.state === 'running') ?? record.items.find((i) => i.state === 'pending');
      return { record, state: 'interrupted', ...(stopped ? { stoppedAt: stopped.id } : {}), rolledBackBy };
    }
    return { record, state: record.status, rolledBackBy };
  }

  async views(limit: number): Promise<RunView[]> {
    const all = await this.list(Math.max(limit, 200));
    return Promise.all(all.slice(0, limit).map((r) => this.view(r, all)));
  }

  /** The run `--resume` continues: the given one, or the newest unfinished run of that kind. */
  async resumable(kind: RunKind, value: string | true): Promise<RunRecord> {
    const env = this.config.name;
    const record = value === true ? (await this.list()).find((r) => r.kind === kind && r.status !== 'succeeded') : await this.get(value, kind);
    if (!record) throw new UsageError(`There is no unfinished ${commandOf(kind)} of ${env} to resume.`, `See \`routergpt status --env ${env}\` for run ids.`);
    if (record.status === 'succeeded') throw new UsageError(`Run ${record.id} already succeeded; there is nothing to resume.`, `Start a new ${commandOf(kind)} without --resume.`);
    if ((record.status === 'running' || record.status === 'waiting-approval') && (await this.isLive(record))) throw new UsageError(`Run ${record.id} is still running (pid ${record.pid} on ${record.host}).`, `Wait for it, or stop it with Ctrl-C; \`routergpt status --env ${env}\` shows it.`);
    return record;
  }
}

/** `interrupted at db.migrate — resume with …`: the hint status prints for a dead run. */
export function resumeHint(view: RunView): string | undefined {
  if (view.state !== 'interrupted' && view.state !== 'failed' && view.state !== 'cancelled') return undefined;
  const { record } = view;
  if (record.kind === 'rollback') return `run \`routergpt rollback --env ${record.env}${record.target ? ` --run ${record.target}` : ''}\` again for the tiers not done`;
  return resumeCommand(record.kind, record.env, record.id, record.cadence);
}

/** The status column: `interrupted at db.migrate`, `failed at api.smoke`, `succeeded, rolled back by …`. */
export function describeState(view: RunView): string {
  const { record } = view;
  const failed = record.items.find((i) => i.state === 'failed');
  let text: string = view.state;
  if (view.state === 'interrupted' && view.stoppedAt) text += ` at ${view.stoppedAt}`;
  else if (view.state === 'running') text += ` ${record.items.filter((i) => i.state !== 'pending' && i.state !== 'running').length}/${record.items.length}`;
  else if (view.state === 'waiting-approval') {
    const waiting = record.items.find((i) => i.kind === 'approval' && i.state === 'running');
    text += `${waiting ? ` at ${waiting.id} (${plural(waiting.approvals?.length ?? 0, 'approval')} so far)` : ''}${record.waitingUntil ? ` until ${record.waitingUntil.replace('T', ' ').slice(0, 19)}` : ''}`;
  }
  else if (failed && view.state !== 'succeeded') text += ` at ${failed.id}`;
  if (record.interrupts) text += `, while ${record.interrupts} ran`;
  if (view.rolledBackBy.length) text += `, rolled back by ${view.rolledBackBy[0]}`;
  return text;
}
