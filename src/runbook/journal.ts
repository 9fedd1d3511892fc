import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CheckOutcome } from '../checks/run-checks.js';
import type { Queryable } from '../db/pool.js';
import { UsageError } from '../errors.js';
import { noRoomError } from '../lib/disk-full.js';

/** The closed list of journaled run kinds; each is one command (`maintenance` is `routergpt maintain`). */
export const RUN_KINDS = ['deploy', 'rollback', 'maintenance', 'backup', 'watch', 'geocode', 'baseline', 'repair', 'privacy'] as const;
export type RunKind = (typeof RUN_KINDS)[number];
/** Stored states. `interrupted` is never stored: it is derived when the owner is gone (runbook/runs.ts). */
export type RunStatus = 'running' | 'waiting-approval' | 'succeeded' | 'failed' | 'cancelled';
export type ItemState = 'pending' | 'running' | 'done' | 'warn' | 'failed' | 'skipped';

/** The command that runs a kind, for hints (`routergpt maintain --resume …`). */
export function commandOf(kind: RunKind): string {
  return kind === 'maintenance' ? 'maintain' : kind;
}

/** The command that continues a run (`--resume`), or — for a kind whose command has none — runs it again. */
export function resumeCommand(kind: RunKind, env: string, id: string, cadence?: string): string {
  if (kind === 'deploy' || kind === 'backup') return `routergpt ${commandOf(kind)} --env ${env} --resume ${id}`;
  // A maintenance run starts again from its first item (its items are read-only or idempotent).
  if (kind === 'maintenance') return `routergpt maintain ${cadence ?? 'daily'} --env ${env}`;
  if (kind === 'baseline') return `routergpt migrate baseline --env ${env} --to NNN`;
  return `routergpt status --env ${env} --run ${id}`;
}

export interface ItemRecord {
  id: string;
  kind: 'check' | 'step' | 'undo' | 'manual' | 'approval' | 'signoff';
  phase: string;
  title: string;
  state: ItemState;
  /** How many times the item was started (a run killed mid-item starts it again on --resume). */
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  summary?: string;
  details?: string[];
  /** Step outputs (backup manifest, purge record…) — used by rollback. */
  outputs?: Record<string, unknown>;
  checks?: CheckOutcome[];
  warnings?: number;
  signedBy?: string;
  signedAt?: string;
  /** For an approval item: who approved, when, and how (in the order they came). */
  approvals?: Approval[];
  note?: string;
  /** The error class when the item failed by throwing (LockHeldError → exit 4). */
  errorKind?: string;
  /** A step's progress inside the item (`ctx.checkpoint`), read back on resume. */
  checkpoint?: Record<string, unknown>;
  /** For an undo item: the tier and the deploy item it undoes. */
  tier?: string;
  undoes?: string;
}

/** One approval of an approval item: an identity other than the deployer's (unless the config allows it). */
export interface Approval {
  /** Normalised identity (identity.ts). */
  by: string;
  at: string;
  source: 'prompt' | 'signoff-file' | 'approve';
  /** The approval item it answers (`approval.release`). */
  item: string;
  note?: string;
}

export interface SignOff {
  /** The deployer's identity (identity.ts), not a name typed at the sign-off. */
  deployedBy: string;
  /** Where the deployer's identity came from (--as, git, ci, os). */
  identitySource?: string;
  /** Runs from before approval items recorded an approver here; new runs never do (approvals live on approval items). */
  approver?: string | null;
  date: string;
  source: 'prompt' | 'signoff-file' | 'local';
}

export interface RunRecord {
  schema: 'routergpt.run/v1';
  id: string;
  kind: RunKind;
  env: string;
  checklist: { name: string; file: string };
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  /** The deployer's identity (identity.ts): --as > git user.email > CI actor > OS account. */
  startedBy: string;
  /** Where startedBy came from: flag, git, ci, or os (the last resort). */
  identitySource?: string;
  /** While waiting-approval: until when the run waits (ISO). */
  waitingUntil?: string;
  host: string;
  pid: number;
  /** Every save stamps it: where the file and the table disagree, the later record wins. */
  updatedAt?: string;
  /** For a rollback: the deploy run it undoes. */
  target?: string;
  tiers?: string[];
  /** A maintenance run's cadence (`routergpt maintain daily|weekly|monthly`). */
  cadence?: string;
  /** For a break-glass toggle: the deploy that was still running when the router was switched off. */
  interrupts?: string;
  /** The release shipped (commit, tag or image): recorded by every run. */
  release?: string;
  /** The commit sha the release named when the run started (`git rev-parse`), beside the id. */
  releaseCommit?: string;
  resumes: string[];
  items: ItemRecord[];
  signoff?: SignOff;
  error?: string;
}

/** Who approved the run: its approval items' approvers (older runs: the sign-off's approver). */
export function approversOfRun(run: RunRecord): string[] {
  const fromItems = [...new Set(run.items.flatMap((i) => i.approvals ?? []).map((a) => a.by))];
  return fromItems.length ? fromItems : run.signoff?.approver ? [run.signoff.approver] : [];
}

/** Journal in two places: a local JSON file (authoritative; survives a database restore) and a database table. */
export class Journal {
  readonly file: string;
  private dbWarned = false;

  constructor(
    readonly dir: string,
    public record: RunRecord,
    private readonly db: Queryable | undefined,
    private readonly onWarn: (message: string) => void = () => {},
  ) {
    // Never a path from file contents: a planted record with id "../x" must not choose where it is written.
    if (!RUN_ID.test(record.id)) throw new UsageError(`The run record's id "${String(record.id).slice(0, 80)}" is not a run id; it is not written.`, 'Move the file aside; run ids look like 20261125T184500Z-deploy-ab12.');
    this.file = path.join(dir, `${record.id}.json`);
  }

  /** Write the file atomically (temp + rename), then mirror to the database. */
  async save(): Promise<void> {
    this.record.updatedAt = new Date().toISOString();
    // Records hold step outputs (purge records, backup paths): owner-only, like the files beside them.
    const tmp = `${this.file}.${process.pid}.tmp`;
    let fileError: unknown;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileSync(tmp, `${JSON.stringify(this.record, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (error) {
      // A full disk must not leave the run "running" everywhere: the database copy below still
      // gets this state (failed, when the run is ending), and the error names the file.
      rmSync(tmp, { force: true });
      fileError = noRoomError(error, 'the run journal', this.file, `Free space in ${this.dir}; \`routergpt status\` reads the run from the database meanwhile.`) ?? error;
    }
    if (this.db) {
      try {
        await saveRunToDb(this.db, this.record);
      } catch (error) {
        // The file is the source of truth; the table is for `status` from other machines.
        if (!this.dbWarned) this.onWarn(`journal: could not write to the database (${(error as Error).message}); the local journal ${this.file} is complete`);
        this.dbWarned = true;
      }
    }
    if (fileError) throw fileError;
  }

  item(id: string): ItemRecord {
    const found = this.record.items.find((i) => i.id === id);
    if (!found) throw new Error(`no item ${id} in run ${this.record.id}`);
    return found;
  }
}

/**
 * Our own schema, outside `public`: backups (pg_dump -N routergpt) do not include it, so a
 * restore never rewinds the journal of the run that is doing the restore.
 */
export async function ensureJournalTable(db: Queryable): Promise<void> {
  await db.query(`CREATE SCHEMA IF NOT EXISTS routergpt`);
  await db.query(`CREATE TABLE IF NOT EXISTS routergpt.runs (
    id text PRIMARY KEY,
    kind text NOT NULL,
    env text NOT NULL,
    status text NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    started_by text NOT NULL,
    record jsonb NOT NULL
  )`);
  // Written by `routergpt approve` from another process while the deploy waits; the deploy's own
  // saves never touch the column, so an approval cannot be lost to a save racing it.
  await db.query(`ALTER TABLE routergpt.runs ADD COLUMN IF NOT EXISTS approvals jsonb NOT NULL DEFAULT '[]'::jsonb`);
}

export async function saveRunToDb(db: Queryable, record: RunRecord): Promise<void> {
  await db.query(
    `INSERT INTO routergpt.runs (id, kind, env, status, started_at, finished_at, started_by, record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, finished_at = EXCLUDED.finished_at, record = EXCLUDED.record`,
    [record.id, record.kind, record.env, record.status, record.startedAt, record.finishedAt ?? null, record.startedBy, JSON.stringify(record)],
  );
}

export function runsDir(stateDir: string, env: string): string {
  return path.join(stateDir, 'runs', env);
}

/** One journal file, or undefined when there is none; a file that is not a run record is a usage error. */
export function readRunFile(dir: string, id: string): RunRecord | undefined {
  const file = path.join(dir, `${id}.json`);
  if (!existsSync(file)) return undefined;
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
    if (record?.schema !== 'routergpt.run/v1') throw new Error('not a routergpt.run/v1 record');
    // The file is named by its id; a record claiming another id (a copy, or a planted file) is not this run.
    if (record.id !== id) throw new Error(`its id is "${String(record.id).slice(0, 80)}", not ${id}`);
    return record;
  } catch (error) {
    throw new UsageError(`The journal file ${file} is not a valid run record (${(error as Error).message.split('\n')[0]}).`, 'Move the damaged file aside; `routergpt status` lists the runs the database still holds.');
  }
}

/** Local runs, newest first; damaged files, and files whose record is not named by its own id, are left out (status reports them as a note). */
export function listRunFiles(dir: string): RunRecord[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      try {
        const record = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RunRecord;
        return record?.schema === 'routergpt.run/v1' && typeof record.id === 'string' && RUN_ID.test(record.id) && `${record.id}.json` === f ? record : undefined;
      } catch {
        return undefined;
      }
    })
    .filter((r): r is RunRecord => r !== undefined)
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

export async function listRunsFromDb(db: Queryable, env: string, limit: number): Promise<RunRecord[]> {
  const { rows } = await db.query<{ exists: boolean }>(`SELECT to_regclass('routergpt.runs') IS NOT NULL AS exists`);
  if (!rows[0]?.exists) return [];
  const result = await db.query<{ record: RunRecord }>(`SELECT record FROM routergpt.runs WHERE env = $1 ORDER BY started_at DESC LIMIT $2`, [env, limit]);
  // A row is as untrusted as a file: one whose record has no valid id never names a journal.
  return result.rows.map((r) => r.record).filter((r) => typeof r?.id === 'string' && RUN_ID.test(r.id));
}

/** The one run id format: 20261125T184500Z-deploy-ab12 (sortable, readable, never a path). */
export const RUN_ID = new RegExp(`^\\d{8}T\\d{6}Z-(${RUN_KINDS.join('|')})-[0-9a-f]{4,12}$`);

/** Validate a `--run`/`--resume` argument before it is used to name a file. */
export function parseRunId(value: string, env: string): string {
  const id = value.trim();
  if (!RUN_ID.test(id)) throw new UsageError(`"${value}" is not a run id (they look like 20261125T184500Z-deploy-ab12).`, `See \`routergpt status --env ${env}\` for run ids.`);
  return id;
}

/** A sortable, readable run id: 20261125T184500Z-deploy-ab12. */
export function newRunId(kind: RunKind, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${kind}-${randomBytes(2).toString('hex')}`;
}
