/**
 * Every hint names a command that exists (issue 10, part 4): each `routergpt …` quoted in
 * backticks in the source's strings, in docs/*.md and in the README is resolved against the
 * command tree, its `--help` is run (in-process: buildProgram, as `node bin/routergpt.js … --help`
 * would), and every flag it uses must be in that help. Fails with the list of bad ones.
 *
 * Placeholders are not commands: `${…}` in a template, <run>, [file], NNN, FILE, RUN, ….
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';
import path from 'node:path';
import type { Command } from 'commander';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import type { IO } from '../../src/cli/io.js';
import { REPO_ROOT } from '../helpers/cli.js';

const HOLE = '\u27e8X\u27e9';

interface Quoted {
  text: string;
  where: string;
}

function files(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return files(full, ext);
    return name.endsWith(ext) ? [full] : [];
  });
}

const rel = (file: string) => path.relative(REPO_ROOT, file).split(path.sep).join('/');

/** The text of a string or template literal, each `${…}` a hole. */
function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map((s) => HOLE + s.literal.text).join('');
  return undefined;
}

function quotedIn(text: string, where: string): Quoted[] {
  return [...text.matchAll(/`((?:npx )?routergpt(?: [^`]*)?)`/g)].map((m) => ({ text: m[1]!, where }));
}

function fromSource(): Quoted[] {
  const out: Quoted[] = [];
  for (const file of files(path.join(REPO_ROOT, 'src'), '.ts')) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      const text = literalText(node);
      if (text !== undefined) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart());
        out.push(...quotedIn(text, `${rel(file)}:${line + 1}`));
        // The holes' own templates (`${env ? ` --env ${env}` : ''}`) are part of this text already.
        if (ts.isTemplateExpression(node)) return;
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}

function fromMarkdown(): Quoted[] {
  const docs = files(path.join(REPO_ROOT, 'docs'), '.md');
  return [...docs, path.join(REPO_ROOT, 'README.md')].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      // In a Markdown table `\|` is a `|` of the command (alternatives).
      .flatMap((line, i) => quotedIn(line.replace(/\\\|/g, '|'), `${rel(file)}:${i + 1}`)),
  );
}

const isPlaceholder = (token: string) => token.includes(HOLE) || /^(<.*>|\[.*\]|[A-Z][A-Z0-9_-]*|…|\.\.\.)$/.test(token);

/** A quiet IO whose stdout collects what --help prints. */
function captureIO(): { io: IO; text: () => string } {
  let buffer = '';
  const sink = new Writable({ write: (chunk, _enc, done) => ((buffer += String(chunk)), done()) });
  const io = { stdout: sink, stderr: sink, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, env: {}, cwd: REPO_ROOT } as unknown as IO;
  return { io, text: () => buffer };
}

/** `routergpt <path> --help`, run in-process on a fresh program. */
async function helpOf(commandPath: string[]): Promise<string> {
  const { io, text } = captureIO();
  try {
    await buildProgram(io).parseAsync(['node', 'routergpt', ...commandPath, '--help']);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'commander.helpDisplayed' && code !== 'commander.help') throw error;
  }
  return text();
}

/** The flags an --help output lists: the term column of its option lines. */
function flagsInHelp(help: string): Set<string> {
  const flags = new Set<string>();
  for (const line of help.split('\n')) {
    if (!/^\s{2,}-/.test(line)) continue;
    const term = line.trim().split(/\s{2,}/)[0]!;
    for (const m of term.matchAll(/(?:^|[\s,])(-{1,2}[a-zA-Z][\w-]*)/g)) flags.add(m[1]!);
  }
  return flags;
}

interface Parsed {
  path: string[];
  flags: string[];
  problem?: string;
  dynamic?: boolean;
}

/**
 * `show|render` in the command path: one command per alternative. Optional parts in brackets
 * (`[--env X]`) are flags like any other; a bracketed word (`[file]`) is a placeholder.
 */
function variants(text: string): string[] {
  const tokens = text.replace(/^npx /, '').split(/\s+/);
  const at = tokens.findIndex((t, i) => i > 0 && !t.startsWith('-') && !t.startsWith('[') && t.includes('|') && tokens.slice(1, i).every((w) => !w.startsWith('-') && !w.startsWith('[')));
  if (at === -1) return [tokens.join(' ')];
  return tokens[at]!.split('|').flatMap((alt) => variants([...tokens.slice(0, at), alt, ...tokens.slice(at + 1)].join(' ')));
}

function tokenize(text: string): string[] {
  return text
    .split(/\s+/)
    .slice(1)
    .map((t) => (t.startsWith('[-') ? t.slice(1) : t))
    .map((t) => (/^-/.test(t) ? t.replace(/\]+$/, '') : t));
}

function parse(program: Command, text: string): Parsed {
  const tokens = tokenize(text);
  const end = tokens.findIndex((t) => ['|', '||', '&&', ';', '>', '2>', '--', '…'].includes(t) || t.startsWith('#'));
  const words = end === -1 ? tokens : tokens.slice(0, end);
  const holes = new RegExp(HOLE, 'g');
  let command = program;
  const commandPath: string[] = [];
  let i = 0;
  for (; i < words.length; i += 1) {
    const token = words[i]!;
    const word = token.replace(holes, '');
    if (word === '') {
      // `routergpt ${commandOf(kind)} …`: the command is computed; it cannot be checked here.
      if (command === program) return { path: [], flags: [], dynamic: true };
      break;
    }
    if (word.startsWith('-')) break;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) {
      command = sub;
      commandPath.push(word);
      continue;
    }
    if (isPlaceholder(token)) {
      if (command === program) return { path: [], flags: [], dynamic: true };
      break;
    }
    if (command.commands.length > 0 || command === program) return { path: commandPath, flags: [], problem: `no command "${[...commandPath, word].join(' ')}"` };
    if (command.registeredArguments.length === 0) return { path: commandPath, flags: [], problem: `routergpt ${commandPath.join(' ')} takes no argument "${word}"` };
    break;
  }
  const flags = words
    .slice(i)
    .map((t) => t.replace(holes, ''))
    .filter((t) => /^-{1,2}[a-zA-Z]/.test(t))
    .map((t) => t.split('=')[0]!.replace(/[.,;:)\]]+$/, ''));
  return { path: commandPath, flags };
}

describe('every hint names a command that exists', () => {
  it('each `routergpt …` quoted in src, docs and the README parses: the command exists and has the flags used', async () => {
    const quoted = [...fromSource(), ...fromMarkdown()];
    // A sanity floor, so a broken extractor cannot pass vacuously.
    expect(quoted.length).toBeGreaterThan(100);
    expect(quoted.some((q) => q.where.startsWith('src/') && q.text.startsWith('routergpt backup'))).toBe(true);

    const { io } = captureIO();
    const program = buildProgram(io);
    const rootFlags = flagsInHelp(await helpOf([]));
    const helps = new Map<string, Promise<Set<string>>>();
    const bad: string[] = [];
    for (const q of quoted.flatMap((q) => variants(q.text).map((text) => ({ ...q, text })))) {
      const parsed = parse(program, q.text);
      if (parsed.dynamic) continue;
      if (parsed.problem) {
        bad.push(`${q.where}: \`${q.text}\` — ${parsed.problem}`);
        continue;
      }
      const key = parsed.path.join(' ');
      if (!helps.has(key)) helps.set(key, helpOf(parsed.path).then(flagsInHelp));
      const known = await helps.get(key)!;
      const unknown = parsed.flags.filter((f) => !known.has(f) && !rootFlags.has(f));
      if (unknown.length) bad.push(`${q.where}: \`${q.text}\` — routergpt ${key} has no ${unknown.join(', ')}`);
    }
    expect(helps.size).toBeGreaterThan(15);
    expect(bad).toEqual([]);
  });

  it('the extractor catches what it must: a missing command, a missing subcommand, a flag that does not exist', () => {
    const { io } = captureIO();
    const program = buildProgram(io);
    expect(parse(program, 'routergpt frobnicate --env prod').problem).toBe('no command "frobnicate"');
    expect(parse(program, 'routergpt migrate sideways').problem).toBe('no command "migrate sideways"');
    expect(parse(program, 'routergpt rollback --tier restore --backup FILE')).toEqual({ path: ['rollback'], flags: ['--tier', '--backup'] });
    expect(parse(program, `routergpt ${HOLE} --env ${HOLE}`).dynamic).toBe(true);
    expect(parse(program, `routergpt migrate up${HOLE}`)).toEqual({ path: ['migrate', 'up'], flags: [] });
    expect(parse(program, 'routergpt config show [--env X] [--json]')).toEqual({ path: ['config', 'show'], flags: ['--env', '--json'] });
    expect(variants('routergpt router enable|disable|status')).toEqual(['routergpt router enable', 'routergpt router disable', 'routergpt router status']);
    expect(flagsInHelp('Options:\n  -y, --yes            do not ask\n  --tier <tier>        a tier (see --json)\n')).toEqual(new Set(['-y', '--yes', '--tier']));
  });
});
