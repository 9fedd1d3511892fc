import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError } from '../errors.js';

/** One item of a checklist, after validation. */
export type ChecklistItem =
  | { kind: 'check'; id: string; checks: string[]; title?: string; onFail: 'stop' | 'continue'; params: Record<string, unknown>; phase: string }
  | { kind: 'step'; id: string; title?: string; params: Record<string, unknown>; phase: string }
  | { kind: 'manual'; id: string; title: string; phase: string }
  | { kind: 'signoff'; id: string; title: string; phase: string };

export interface ChecklistPhase {
  id: string;
  title: string;
  /** deploy phases run in `deploy`; the others document `rollback` and `maintain`. */
  run: 'deploy' | 'rollback' | 'maintenance';
  items: ChecklistItem[];
}

export interface Checklist {
  name: string;
  description: string;
  file: string;
  phases: ChecklistPhase[];
}

export interface KnownIds {
  checks: ReadonlySet<string>;
  steps: ReadonlySet<string>;
  /** Parameter names each step accepts (a step without an entry takes none). */
  stepParams?: ReadonlyMap<string, readonly string[]>;
}

const CHECKLIST_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'checklists');

/** prod → production.yaml; staging → staging.yaml; local → local.yaml; others → production.yaml. */
export function checklistFileFor(env: string, override?: string, cwd = process.cwd()): string {
  if (override) return path.resolve(cwd, override);
  const name = env === 'prod' ? 'production' : env;
  const local = path.join(cwd, 'checklists', `${name}.yaml`);
  if (existsSync(local)) return local;
  const packaged = path.join(CHECKLIST_DIR, `${name}.yaml`);
  return existsSync(packaged) ? packaged : path.join(CHECKLIST_DIR, 'production.yaml');
}

const ID = /^[a-z0-9]+([.-][a-z0-9]+)*$/;

/** Parse and validate a checklist; every problem is reported at once, naming the item. */
export function loadChecklist(file: string, known: KnownIds): Checklist {
  if (!existsSync(file)) throw new ConfigError(`Checklist not found: ${file}`, 'Pass --checklist FILE or add checklists/<env>.yaml.');
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path.basename(file)} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, `Fix ${file}.`);
  }
  const problems: string[] = [];
  const doc = (raw ?? {}) as { name?: unknown; description?: unknown; phases?: unknown };
  if (typeof doc.name !== 'string') problems.push('name: required');
  if (!Array.isArray(doc.phases) || doc.phases.length === 0) problems.push('phases: a non-empty list is required');
  const seen = new Set<string>();
  const phases: ChecklistPhase[] = [];
  for (const [pi, rawPhase] of (Array.isArray(doc.phases) ? doc.phases : []).entries()) {
    const p = (rawPhase ?? {}) as { id?: unknown; title?: unknown; run?: unknown; items?: unknown };
    const where = `phases[${pi}]${typeof p.id === 'string' ? ` (${p.id})` : ''}`;
    if (typeof p.id !== 'string' || !ID.test(p.id)) problems.push(`${where}: id must be kebab-case`);
    const run = p.run === undefined ? 'deploy' : p.run;
    if (run !== 'deploy' && run !== 'rollback' && run !== 'maintenance') problems.push(`${where}: run must be deploy, rollback or maintenance`);
    const items: ChecklistItem[] = [];
    for (const [ii, rawItem] of (Array.isArray(p.items) ? p.items : []).entries()) {
      const it = (rawItem ?? {}) as Record<string, unknown>;
      const at = `${where}.items[${ii}]`;
      const phase = String(p.id);
      const title = typeof it.title === 'string' ? it.title : undefined;
      const params = (it.params && typeof it.params === 'object' ? it.params : {}) as Record<string, unknown>;
      const kinds = ['check', 'checks', 'step', 'manual', 'signoff'].filter((k) => k in it);
      if (kinds.length !== 1) {
        problems.push(`${at}: needs exactly one of check, checks, step, manual, signoff`);
        continue;
      }
      const onFail = it.on_fail === 'continue' ? 'continue' : 'stop';
      if (it.on_fail !== undefined && it.on_fail !== 'continue' && it.on_fail !== 'stop') problems.push(`${at}: on_fail must be stop or continue`);
      if ('check' in it || 'checks' in it) {
        const ids = 'check' in it ? [it.check] : Array.isArray(it.checks) ? it.checks : [];
        if (ids.length === 0) problems.push(`${at}: checks must be a non-empty list`);
        for (const id of ids) if (typeof id !== 'string' || !known.checks.has(id)) problems.push(`${at}: unknown check id "${String(id)}" (see docs/checks.md)`);
        const id = ids.length === 1 ? String(ids[0]) : `checks:${ids.join('+')}`;
        items.push({ kind: 'check', id, checks: ids.map(String), title, onFail, params, phase });
      } else if ('step' in it) {
        if (typeof it.step !== 'string' || !known.steps.has(it.step)) problems.push(`${at}: unknown step id "${String(it.step)}" (known: ${[...known.steps].join(', ')})`);
        else if (known.stepParams) {
          const allowed = known.stepParams.get(it.step) ?? [];
          for (const key of Object.keys(params)) if (!allowed.includes(key)) problems.push(`${at}: step ${it.step} has no parameter "${key}" (it takes: ${allowed.join(', ') || 'none'})`);
        }
        items.push({ kind: 'step', id: String(it.step), title, params, phase });
      } else {
        const kind = 'manual' in it ? 'manual' : 'signoff';
        const id = String(it[kind]);
        if (!ID.test(id)) problems.push(`${at}: ${kind} id must be kebab-case`);
        if (!title) problems.push(`${at}: a ${kind} item needs a title (the question asked)`);
        items.push({ kind, id: kind === 'manual' ? `manual.${id}` : `signoff.${id}`, title: title ?? id, phase });
      }
    }
    for (const item of items) {
      const key = `${run}:${item.id}`;
      if (seen.has(key)) problems.push(`${where}: item "${item.id}" appears twice (ids must be unique within a run)`);
      seen.add(key);
    }
    phases.push({ id: String(p.id), title: typeof p.title === 'string' ? p.title : String(p.id), run: run as ChecklistPhase['run'], items });
  }
  if (problems.length > 0) {
    throw new ConfigError(`${path.basename(file)} has ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, `Fix ${file}; nothing was run.`, { problems });
  }
  return { name: String(doc.name), description: typeof doc.description === 'string' ? doc.description : '', file, phases };
}

export function itemsFor(checklist: Checklist, run: ChecklistPhase['run']): ChecklistItem[] {
  return checklist.phases.filter((p) => p.run === run).flatMap((p) => p.items);
}
