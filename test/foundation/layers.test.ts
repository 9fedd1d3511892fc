/**
 * The layering rules of DESIGN.md ("Layout" and the paragraph after it), checked on the source:
 * the server never imports cli/ or commands/; commands never import each other; checks and
 * steps never import commands/; nothing outside cli/ depends on cli/ (errors live in
 * src/errors.ts) beyond the exceptions listed below; and src/ has no static import cycle.
 *
 * A tiny scanner, not a TypeScript parser: `import … from '…'`, `export … from '…'` and
 * `import '…'` at the start of a line, plus `import('…')` with a literal specifier. Relative
 * `.js` specifiers resolve to the `.ts` file beside them; packages are ignored.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const SRC = path.join(REPO_ROOT, 'src');

interface Edge {
  /** Both paths relative to the repository, with forward slashes: `src/cli/main.ts`. */
  from: string;
  to: string;
  line: number;
  /** `import type` / `export type`: erased from the JavaScript, no runtime dependency. */
  typeOnly: boolean;
  /** `await import('…')`: loaded lazily (STYLE.md §15), not part of module evaluation. */
  dynamic: boolean;
}

const rel = (file: string) => path.relative(REPO_ROOT, file).split(path.sep).join('/');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
  });
}

// `[^'";]` spans lines, so multi-line `import {\n  a,\n  b,\n} from '…'` is one match.
const STATIC = /^[ \t]*(import|export)\s+(type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm;
const SIDE_EFFECT = /^[ \t]*import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function resolve(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = path.resolve(path.dirname(from), specifier.replace(/\.js$/, '.ts'));
  return target.endsWith('.ts') ? target : undefined;
}

function scan(file: string): { edges: Edge[]; unresolved: string[] } {
  const text = readFileSync(file, 'utf8');
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  const edges: Edge[] = [];
  const unresolved: string[] = [];
  const add = (specifier: string, index: number, typeOnly: boolean, dynamic: boolean) => {
    const target = resolve(file, specifier);
    if (target === undefined) {
      if (specifier.startsWith('.') && !specifier.endsWith('.json')) unresolved.push(`${rel(file)}:${lineAt(index)} ${specifier}`);
      return;
    }
    if (!target.startsWith(SRC + path.sep)) return;
    try {
      statSync(target);
    } catch {
      unresolved.push(`${rel(file)}:${lineAt(index)} ${specifier}`);
      return;
    }
    edges.push({ from: rel(file), to: rel(target), line: lineAt(index), typeOnly, dynamic });
  };
  for (const m of text.matchAll(STATIC)) add(m[3]!, m.index, m[2] !== undefined, false);
  for (const m of text.matchAll(SIDE_EFFECT)) add(m[1]!, m.index, false, false);
  for (const m of text.matchAll(DYNAMIC)) add(m[1]!, m.index, false, true);
  return { edges, unresolved };
}

const scanned = sourceFiles(SRC).map(scan);
const EDGES = scanned.flatMap((s) => s.edges);
const show = (e: Edge) => `${e.from}:${e.line} → ${e.to}${e.typeOnly ? ' (type)' : ''}${e.dynamic ? ' (dynamic)' : ''}`;
/** An edge without its line, so moving an import within its file does not matter. */
const key = (e: Edge) => `${e.from} → ${e.to}`;

/** `src/commands/deploy/register.ts` → `deploy`. */
const commandOf = (file: string) => (file.startsWith('src/commands/') ? file.split('/')[2] : undefined);
const under = (file: string, dir: string) => file.startsWith(`src/${dir}/`);

/**
 * Modules of src/cli/ that code outside cli/ may import at runtime, and why. Everything else in
 * cli/ is the terminal front end (commander wiring, rendering, exit codes, signals).
 */
const CLI_SHARED: Record<string, string> = {
  // The injected prompter (STYLE.md §17): the runbook takes a Prompter, and the deploy/rollback
  // cores fall back to terminalPrompter() / canPrompt(io) when none is injected.
  'src/cli/prompter.ts': 'the injected prompter and its terminal implementation',
  // The "type the environment name to confirm" gate, loaded lazily by the runbook before
  // destructive work, and by the router/migrate adapters.
  'src/cli/confirm.ts': 'confirmation before destructive work, shared with the runbook',
  // The injected stdout/stderr/TTY (STYLE.md §10) that reporters and the runbook write to.
  'src/cli/io.ts': 'the injected IO',
};

/**
 * Whether `e` may depend on src/cli/ from outside it. commands/<name>/register.ts is the
 * commander adapter of its command (STYLE.md §1: parses flags, renders, picks the exit code):
 * it is CLI code that lives beside its core, so it may use all of cli/ (action(), render/,
 * exit-codes, interrupts). The cores (run-<name>.ts), checks, steps, runbook, report, server,
 * db… may not, beyond type imports and CLI_SHARED.
 */
function mayUseCli(e: Edge): boolean {
  if (e.typeOnly) return true;
  if (e.to in CLI_SHARED) return true;
  return /^src\/commands\/[^/]+\/register\.ts$/.test(e.from);
}

/**
 * Each rule: a name and a predicate over edges. Dynamic imports count here (a lazy import is
 * still a dependency); they do not count for cycles (they do not run while modules load).
 */
const RULES: Array<{ name: string; violates: (e: Edge) => boolean }> = [
  { name: 'src/server/** imports src/cli/** or src/commands/**', violates: (e) => under(e.from, 'server') && (under(e.to, 'cli') || under(e.to, 'commands')) },
  { name: 'src/commands/A imports src/commands/B', violates: (e) => commandOf(e.from) !== undefined && commandOf(e.to) !== undefined && commandOf(e.from) !== commandOf(e.to) },
  { name: 'src/checks/** or src/steps/** imports src/commands/**', violates: (e) => (under(e.from, 'checks') || under(e.from, 'steps')) && under(e.to, 'commands') },
  { name: 'outside src/cli/ imports src/cli/ (other than import type, CLI_SHARED, commands/*/register.ts)', violates: (e) => !under(e.from, 'cli') && under(e.to, 'cli') && !mayUseCli(e) },
];

/**
 * Violations that exist today in files this change could not touch; each is a known debt, listed
 * exactly (`file → target`) so that a new one fails and a fixed one must be removed here.
 */
const KNOWN_VIOLATIONS: string[] = [];

/** Strongly connected components of more than one module (or a module importing itself). */
function cycles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

describe('layers (DESIGN.md "Layout")', () => {
  it('the scanner sees the source: every relative import resolves to a file under src/', () => {
    expect(scanned.flatMap((s) => s.unresolved)).toEqual([]);
    // A sanity floor, so a broken regex cannot make every rule pass vacuously.
    expect(EDGES.filter((e) => e.from === 'src/cli/program.ts' && under(e.to, 'commands')).length).toBeGreaterThan(5);
    expect(EDGES.some((e) => e.from === 'src/commands/serve/run-serve.ts' && e.to === 'src/server/main.ts' && e.dynamic)).toBe(true);
  });

  it.each(RULES)('no import where $name', ({ violates }) => {
    const found = EDGES.filter((e) => violates(e) && !KNOWN_VIOLATIONS.includes(key(e))).map(show);
    expect(found).toEqual([]);
  });

  it('every known violation still exists (remove it from KNOWN_VIOLATIONS once fixed)', () => {
    const all = new Set(EDGES.filter((e) => RULES.some((r) => r.violates(e))).map(key));
    expect(KNOWN_VIOLATIONS.filter((v) => !all.has(v))).toEqual([]);
  });

  it('no static import cycle among src/ modules (import type and await import() do not count)', () => {
    // Type imports are erased by the compiler and lazy imports run after every module has
    // loaded: neither can hand a module a half-initialised import.
    expect(cycles(EDGES.filter((e) => !e.typeOnly && !e.dynamic))).toEqual([]);
  });
});
