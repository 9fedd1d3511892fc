import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseYamlCached } from '../lib/yaml-cache.js';
import { ConfigError } from '../errors.js';
import { didYouMean } from '../lib/nearest.js';
import { CADENCES, type Cadence } from './cadence.js';

export { CADENCES, type Cadence } from './cadence.js';

/** One item of a checklist, after validation. */
export type ChecklistItem =
  | { kind: 'check'; id: string; checks: string[]; title?: string; onFail: 'stop' | 'continue'; params: Record<string, unknown>; phase: string }
  | { kind: 'step'; id: string; title?: string; params: Record<string, unknown>; phase: string }
  /** `after`: a phase or item id earlier in the checklist; an answer given before it ran (a sign-off file) is pre-answered. */
  | { kind: 'manual'; id: string; title: string; phase: string; after?: string }
  /** An approval before the change: distinct people other than the deployer (config `approvals`). */
  | { kind: 'approval'; id: string; title: string; phase: string }
  | { kind: 'signoff'; id: string; title: string; phase: string };

export interface ChecklistPhase {
  id: string;
  title: string;
  /** deploy phases run in `deploy`; maintenance phases in `routergpt maintain <cadence>`. */
  run: 'deploy' | 'maintenance';
  /** A maintenance phase's cadence: `routergpt maintain daily` runs the daily phases. */
  cadence?: Cadence;
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
  /** Parameter names each check accepts (a check without an entry takes none). */
  checkParams?: ReadonlyMap<string, readonly string[]>;
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
const RUNS = ['deploy', 'maintenance'] as const;
const ON_FAIL = ['stop', 'continue'] as const;
const DOCUMENT_KEYS = ['name', 'description', 'phases'];
const PHASE_KEYS = ['id', 'title', 'run', 'cadence', 'items'];
type Kind = ChecklistItem['kind'];
/** The key that says what an item is; `checks` is the list form of `check`. */
const KIND_KEYS = ['check', 'checks', 'step', 'manual', 'approval', 'signoff'] as const;
/** What each kind of item takes besides its kind key: on_fail and params only mean something where they are listed. */
const ITEM_KEYS: Record<Kind, readonly string[]> = { check: ['title', 'on_fail', 'params'], step: ['title', 'params'], manual: ['title', 'after'], approval: ['title'], signoff: ['title'] };
const ANY_ITEM_KEY = new Set<string>([...KIND_KEYS, ...Object.values(ITEM_KEYS).flat()]);

type Mapping = Record<string, unknown>;
/** Records a problem at a location (`phases[1] (database).items[2] (db.migrate)`). */
type Report = (at: string, problem: string) => void;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const list = (words: readonly string[]) => (words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : (words[0] ?? ''));

/** Rule: every key of a mapping is one this level knows; a misspelt key names the nearest one. */
function verifyKeys(at: string, node: Mapping, allowed: readonly string[], report: Report, misplaced?: (key: string) => string | undefined): void {
  for (const key of Object.keys(node)) {
    if (allowed.includes(key)) continue;
    const elsewhere = misplaced?.(key);
    if (elsewhere) report(at, elsewhere);
    else report(at, `unknown key "${key}"${didYouMean(key, allowed) || ` (allowed: ${allowed.join(', ')})`}`);
  }
}

/** Rule: an enumerated value is one of its choices; a misspelt one names the nearest. */
function verifyChoice<const T extends string>(at: string, name: string, value: unknown, choices: readonly T[], fallback: T, report: Report): T {
  if (value === undefined) return fallback;
  if (choices.includes(value as T)) return value as T;
  report(at, `${name} must be ${list(choices)}${typeof value === 'string' ? didYouMean(value, choices) : ''}`);
  return fallback;
}

/** Rule: an id names something registered; a misspelt one names the nearest, otherwise where to look. */
function verifyKnownId(at: string, what: 'check' | 'step', id: unknown, known: ReadonlySet<string>, report: Report, otherwise: string): id is string {
  if (typeof id === 'string' && known.has(id)) return true;
  report(at, `unknown ${what} id "${String(id)}"${(typeof id === 'string' && didYouMean(id, known)) || ` ${otherwise}`}`);
  return false;
}

/** Rule: every parameter is one the item's step or checks read; a misspelt one names the nearest. */
function verifyParams(at: string, params: Mapping, owner: { kind: 'check' | 'step'; ids: readonly string[] }, accepted: readonly string[], report: Report): void {
  const [subject, takes] = owner.ids.length === 1 ? [`${owner.kind} ${owner.ids[0]} has no parameter`, 'it takes'] : [`none of the checks ${owner.ids.join(', ')} has a parameter`, 'they take'];
  for (const key of Object.keys(params)) if (!accepted.includes(key)) report(at, `${subject} "${key}" (${takes}: ${accepted.join(', ') || 'none'})${didYouMean(key, accepted)}`);
}

/** `check: a` and `checks: [a, b]` both name the checks an item runs. */
function checkIdsOf(item: Mapping): unknown[] {
  return 'check' in item ? [item.check] : Array.isArray(item.checks) ? item.checks : [];
}

/** A key some other kind of item takes (on_fail on a step): say where it belongs rather than "unknown". */
function misplacedItemKey(key: string): string | undefined {
  if (!ANY_ITEM_KEY.has(key) || (KIND_KEYS as readonly string[]).includes(key)) return undefined;
  const takers = (Object.keys(ITEM_KEYS) as Kind[]).filter((k) => ITEM_KEYS[k].includes(key));
  return `${key} applies only to ${list(takers)} items (remove it)`;
}

function kindOf(item: Mapping): Kind | undefined {
  const kinds = KIND_KEYS.filter((k) => k in item);
  if (kinds.length !== 1) return undefined;
  return kinds[0] === 'checks' ? 'check' : kinds[0];
}

/** The item's id as the journal will know it, for naming it in problems (undefined when it has no single kind). */
function idOf(item: Mapping, kind: Kind | undefined): string | undefined {
  if (kind === 'check') {
    const ids = checkIdsOf(item);
    if (ids.length === 0) return 'checks';
    return ids.length === 1 ? String(ids[0]) : `checks:${ids.map(String).join('+')}`;
  }
  if (kind === 'step') return String(item.step);
  if (kind === 'manual' || kind === 'approval' || kind === 'signoff') return `${kind}.${String(item[kind])}`;
  return undefined;
}

function parseItem(raw: unknown, at: string, phase: string, known: KnownIds, report: Report): ChecklistItem | undefined {
  if (!isMapping(raw)) {
    report(at, 'an item must be a mapping, e.g. `- step: db.migrate`');
    return undefined;
  }
  const kind = kindOf(raw);
  const id = idOf(raw, kind);
  const here = id === undefined ? at : `${at} (${id})`;
  if (!kind || id === undefined) {
    verifyKeys(here, raw, [...ANY_ITEM_KEY], report);
    report(here, `needs exactly one of ${KIND_KEYS.join(', ')}`);
    return undefined;
  }
  const kindKey = kind === 'check' && 'checks' in raw ? 'checks' : kind;
  const allowed = [kindKey, ...ITEM_KEYS[kind]];
  verifyKeys(here, raw, allowed, report, misplacedItemKey);
  const title = typeof raw.title === 'string' ? raw.title : undefined;
  if (raw.title !== undefined && title === undefined) report(here, 'title must be text');
  if (raw.params !== undefined && !isMapping(raw.params)) report(here, 'params must be a mapping, e.g. `params: { httpPort: 8080 }`');
  const params = isMapping(raw.params) ? raw.params : {};

  if (kind === 'check') {
    const ids = checkIdsOf(raw);
    if (ids.length === 0) report(here, 'checks must be a non-empty list');
    const allKnown = ids.map((c) => verifyKnownId(here, 'check', c, known.checks, report, '(see docs/checks.md)')).every(Boolean);
    if (allKnown && ids.length > 0 && known.checkParams) {
      const accepted = [...new Set(ids.flatMap((c) => known.checkParams!.get(String(c)) ?? []))];
      verifyParams(here, params, { kind: 'check', ids: ids.map(String) }, accepted, report);
    }
    const onFail = verifyChoice(here, 'on_fail', raw.on_fail, ON_FAIL, 'stop', report);
    return { kind, id, checks: ids.map(String), title, onFail, params, phase };
  }
  if (kind === 'step') {
    const isKnown = verifyKnownId(here, 'step', raw.step, known.steps, report, `(known: ${[...known.steps].join(', ')})`);
    if (isKnown && known.stepParams) verifyParams(here, params, { kind: 'step', ids: [id] }, known.stepParams.get(id) ?? [], report);
    return { kind, id, title, params, phase };
  }
  const name = String(raw[kind]);
  if (!ID.test(name)) report(here, `${kind} id must be kebab-case`);
  if (!title) report(here, `a ${kind} item needs a title (${kind === 'approval' ? 'what is approved' : 'the question asked'})`);
  if (kind === 'manual' && raw.after !== undefined && typeof raw.after !== 'string') report(here, 'after must be the id of a phase or an item before this one, e.g. `after: deploy`');
  if (kind === 'manual' && typeof raw.after === 'string') return { kind, id, title: title ?? name, phase, after: raw.after };
  if (kind === 'approval') return { kind, id, title: title ?? name, phase };
  return { kind: kind as 'manual' | 'signoff', id, title: title ?? name, phase };
}

function parsePhase(raw: unknown, pi: number, known: KnownIds, report: Report): ChecklistPhase | undefined {
  if (!isMapping(raw)) {
    report(`phases[${pi}]`, 'a phase must be a mapping with id, title and items');
    return undefined;
  }
  const where = `phases[${pi}]${typeof raw.id === 'string' ? ` (${raw.id})` : ''}`;
  verifyKeys(where, raw, PHASE_KEYS, report);
  if (typeof raw.id !== 'string' || !ID.test(raw.id)) report(where, 'id must be kebab-case');
  if (raw.title !== undefined && typeof raw.title !== 'string') report(where, 'title must be text');
  // Rollback is read from the deploy run's journal (each step's undo), never from a phase.
  const run = raw.run === 'rollback' ? (report(where, 'run: rollback phases are no longer used — `routergpt rollback` undoes the deploy\'s own steps from its journal (docs/runbook.md#rollback); remove the phase'), 'deploy') : verifyChoice(where, 'run', raw.run, RUNS, 'deploy', report);
  // A maintenance phase says how often it runs; a deploy phase runs with every deploy.
  let cadence: Cadence | undefined;
  if (run === 'maintenance') {
    if (raw.cadence === undefined) report(where, `a maintenance phase needs cadence: ${CADENCES.join('|')} (routergpt maintain <cadence> runs the phases of that cadence)`);
    else cadence = verifyChoice(where, 'cadence', raw.cadence, CADENCES, 'daily', report);
  } else if (raw.cadence !== undefined) report(where, 'cadence is for maintenance phases (run: maintenance); a deploy phase runs with every deploy');
  if (!Array.isArray(raw.items)) report(where, 'items: a list is required');
  const phase = String(raw.id);
  const items = (Array.isArray(raw.items) ? raw.items : []).flatMap((item: unknown, ii) => parseItem(item, `${where}.items[${ii}]`, phase, known, report) ?? []);
  return { id: phase, title: typeof raw.title === 'string' ? raw.title : phase, run, ...(cadence ? { cadence } : {}), items };
}

/** Rule: an item id appears once per run (the journal and --resume key on it). */
function verifyUniqueItems(phases: ChecklistPhase[], report: Report): void {
  const seen = new Set<string>();
  for (const [pi, phase] of phases.entries()) {
    for (const item of phase.items) {
      const key = `${phase.run}:${phase.cadence ?? ''}:${item.id}`;
      if (seen.has(key)) report(`phases[${pi}] (${phase.id})`, `item "${item.id}" appears twice (ids must be unique within a run)`);
      seen.add(key);
    }
  }
}

/** Rule: `after:` names a phase or an item that stands before the manual item (in the same kind of run). */
function verifyAfter(phases: ChecklistPhase[], report: Report): void {
  for (const [pi, phase] of phases.entries()) {
    for (const item of phase.items) {
      if (item.kind !== 'manual' || item.after === undefined) continue;
      const before = phases.filter((p) => p.run === phase.run && p.cadence === phase.cadence);
      const earlierPhases = before.slice(0, before.indexOf(phase)).map((p) => p.id);
      const earlierItems = before.flatMap((p) => p.items).slice(0, before.flatMap((p) => p.items).indexOf(item)).map((i) => i.id);
      if (earlierPhases.includes(item.after) || earlierItems.includes(item.after)) continue;
      const known = [...earlierPhases, ...earlierItems];
      report(`phases[${pi}] (${phase.id}) item ${item.id}`, `after: "${item.after}" is not a phase or item before it${didYouMean(item.after, known) || ' (name an earlier phase, e.g. `after: deploy`, or an earlier step)'}`);
    }
  }
}

/** Parse and validate a checklist; every problem is reported at once, naming the item. */
export function loadChecklist(file: string, known: KnownIds): Checklist {
  if (!existsSync(file)) throw new ConfigError(`Checklist not found: ${file}`, 'Pass --checklist FILE or add checklists/<env>.yaml.');
  let raw: unknown;
  try {
    raw = parseYamlCached(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path.basename(file)} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, `Fix ${file}.`);
  }
  const problems: string[] = [];
  const report: Report = (at, problem) => problems.push(`${at}: ${problem}`);
  const doc = isMapping(raw) ? raw : {};
  if (raw !== null && raw !== undefined && !isMapping(raw)) report('top level', 'the checklist must be a mapping with name, description and phases');
  verifyKeys('top level', doc, DOCUMENT_KEYS, report);
  if (typeof doc.name !== 'string') report('name', 'required');
  if (doc.description !== undefined && typeof doc.description !== 'string') report('description', 'must be text');
  if (!Array.isArray(doc.phases) || doc.phases.length === 0) report('phases', 'a non-empty list is required');
  const phases = (Array.isArray(doc.phases) ? doc.phases : []).flatMap((p: unknown, pi) => parsePhase(p, pi, known, report) ?? []);
  verifyUniqueItems(phases, report);
  verifyAfter(phases, report);
  if (problems.length > 0) {
    throw new ConfigError(`${path.basename(file)} has ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, `Fix ${file}; nothing was run.`, { problems });
  }
  return { name: String(doc.name), description: typeof doc.description === 'string' ? doc.description : '', file, phases };
}

/** The items of one kind of run, in order; a maintenance run takes the phases of its cadence. */
export function itemsFor(checklist: Checklist, run: ChecklistPhase['run'], cadence?: Cadence): ChecklistItem[] {
  return checklist.phases.filter((p) => p.run === run && (run !== 'maintenance' || cadence === undefined || p.cadence === cadence)).flatMap((p) => p.items);
}
