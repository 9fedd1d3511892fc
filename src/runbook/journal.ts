import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { CheckOutcome } from '../checks/run-checks.js';
import type { Queryable } from '../db/pool.js';

export type RunKind = 'deploy' | 'rollback' | 'maintenance';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export type ItemState = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface ItemRecord {
  id: string;
  kind: 'check' | 'step' | 'manual' | 'signoff';
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
  note?: string;
  /** The error class when the item failed by throwing (LockHeldError → exit 4). */
  errorKind?: string;
}

export interface SignOff {
  deployedBy: string;
  approver: string | null;
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
  startedBy: string;
  host: string;
  pid: number;
  /** For a rollback: the deploy run it undoes. */
  target?: string;
  tiers?: string[];
  resumes: string[];
  items: ItemRecord[];
  signoff?: SignOff;
  error?: string;
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
    this.file = path.join(dir, `${record.id}.json`);
  }

  /** Write the file atomically (temp + rename), then mirror to the database. */
  async save(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.record, null, 2)}\n`);
    renameSync(tmp, this.file);
    if (this.db) {
      try {
        await saveRunToDb(this.db, this.record);
      } catch (error) {
        // The file is the source of truth; the table is for `status` from other machines.
        if (!this.dbWarned) this.onWarn(`journal: could not write to the database (${(error as Error).message}); the local journal ${this.file} is complete`);
        this.dbWarned = true;
      }
    }
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

export function readRunFile(dir: string, id: string): RunRecord | undefined {
  const file = path.join(dir, `${id}.json`);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
}

/** Local runs, newest first. */
export function listRunFiles(dir: string): RunRecord[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      try {
        return JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RunRecord;
      } catch {
        return undefined;
      }
    })
    .filter((r): r is RunRecord => r?.schema === 'routergpt.run/v1')
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

export async function listRunsFromDb(db: Queryable, env: string, limit: number): Promise<RunRecord[]> {
  const { rows } = await db.query<{ exists: boolean }>(`SELECT to_regclass('routergpt.runs') IS NOT NULL AS exists`);
  if (!rows[0]?.exists) return [];
  const result = await db.query<{ record: RunRecord }>(`SELECT record FROM routergpt.runs WHERE env = $1 ORDER BY started_at DESC LIMIT $2`, [env, limit]);
  return result.rows.map((r) => r.record);
}

/** A sortable, readable run id: 20261125T184500Z-deploy-ab12. */
export function newRunId(kind: RunKind, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${kind}-${Math.random().toString(16).slice(2, 6)}`;
}
