import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors.js';

/**
 * `migrations/routergpt.sum` pins the released migration files (STYLE.md §18), like Atlas's
 * `atlas.sum`: an edited migration fails CI and every `migrate` command long before a database
 * notices the changed checksum. The format, exactly:
 *
 *     h1:<whole-set hash>
 *     001_shops.down.sql h1:<file hash>
 *     001_shops.sql h1:<file hash>
 *     …
 *
 * - One line per `*.sql` file in the folder (up and `.down.sql` files alike; sub-folders and
 *   other files are ignored), sorted by file name (code-unit order, i.e. byte order for the
 *   ASCII names migrations have), each `<file name> h1:<hash>`, lines ending in `\n`.
 * - A file hash is `h1:` + the standard base64 (with `=` padding) of the SHA-256 of the file's
 *   bytes, exactly as on disk (no newline normalisation).
 * - The whole-set hash on the first line is `h1:` + base64 of the SHA-256 of the per-file lines
 *   as written in the sum file, each with its `\n` — i.e. of everything after the first line.
 *   It is checked against the lines the sum file records, so a hand-edited line (say, a hash
 *   pasted to match an edited migration) is caught even when the file hash then agrees.
 *
 * `routergpt migrate hash` writes the file; `routergpt migrate hash --check` and every other
 * `migrate` command (and deploy's db.migrate step) verify it.
 */
export const SUM_FILE = 'routergpt.sum';

export interface SumEntry {
  file: string;
  hash: string;
}

export interface MigrationSum {
  /** The whole-set hash (`h1:…`). */
  total: string;
  /** Sorted by file name. */
  files: SumEntry[];
}

/** A sum file as read: what it records, and the lines that are not `<file> h1:<hash>`. */
export interface RecordedSum extends MigrationSum {
  malformed: string[];
}

export type SumProblemKind = 'sum-missing' | 'malformed' | 'total-mismatch' | 'edited' | 'added' | 'removed';

export interface SumProblem {
  kind: SumProblemKind;
  /** The migration file concerned, when there is one. */
  file?: string;
  message: string;
}

const HASH = /^h1:[A-Za-z0-9+/]{43}=$/;
const LINE = /^(\S.*) (h1:\S+)$/;

export function hashBytes(bytes: Buffer | string): string {
  return `h1:${createHash('sha256').update(bytes).digest('base64')}`;
}

function entryLines(files: readonly SumEntry[]): string {
  return files.map((f) => `${f.file} ${f.hash}\n`).join('');
}

/** The whole-set hash over per-file lines (in the order given: sorted, for a computed sum). */
export function totalOf(files: readonly SumEntry[]): string {
  return hashBytes(entryLines(files));
}

/** The sum file's text for a sum. */
export function formatSum(sum: MigrationSum): string {
  return `${sum.total}\n${entryLines(sum.files)}`;
}

function sqlFiles(dir: string): string[] {
  if (!existsSync(dir)) {
    throw new ConfigError(`Migrations folder not found: ${dir}`, 'Set migrations_dir in routergpt.config.yaml or ROUTERGPT_MIGRATIONS_DIR.');
  }
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.sql'))
    .map((e) => e.name)
    .sort();
}

/** The sum of the files as they are now. */
export function computeSum(dir: string): MigrationSum {
  const files = sqlFiles(dir).map((file) => ({ file, hash: hashBytes(readFileSync(path.join(dir, file))) }));
  return { total: totalOf(files), files };
}

/** Parse a sum file's text; bad lines are collected, not thrown, so every problem is reported at once. */
export function parseSum(text: string): RecordedSum {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const malformed: string[] = [];
  const [first, ...rest] = lines;
  const total = first?.trim() ?? '';
  if (!HASH.test(total)) malformed.push(`line 1 is not the whole-set hash h1:<base64 sha256> (got "${total}")`);
  const files: SumEntry[] = [];
  const seen = new Set<string>();
  rest.forEach((line, index) => {
    const match = LINE.exec(line);
    if (!match || !HASH.test(match[2]!)) malformed.push(`line ${index + 2} is not \`<file name> h1:<base64 sha256>\` (got "${line}")`);
    else if (seen.has(match[1]!)) malformed.push(`line ${index + 2} lists ${match[1]} a second time`);
    else {
      seen.add(match[1]!);
      files.push({ file: match[1]!, hash: match[2]! });
    }
  });
  return { total, files, malformed };
}

/** The committed sum, or undefined when the folder has no sum file. */
export function readSum(dir: string): RecordedSum | undefined {
  const file = path.join(dir, SUM_FILE);
  if (!existsSync(file)) return undefined;
  return parseSum(readFileSync(file, 'utf8'));
}

/** One rule per kind of problem (STYLE.md §20): a new rule is one function. */
type SumRule = (recorded: RecordedSum, actual: MigrationSum) => SumProblem[];

const wellFormed: SumRule = (recorded) => recorded.malformed.map((m) => ({ kind: 'malformed', message: `${SUM_FILE} ${m}` }));

const totalMatches: SumRule = (recorded) => {
  if (!HASH.test(recorded.total)) return [];
  const got = totalOf(recorded.files);
  return got === recorded.total ? [] : [{ kind: 'total-mismatch', message: `${SUM_FILE}'s whole-set hash does not match its own lines (was it edited by hand?): expected ${recorded.total} got ${got}` }];
};

const filesUnchanged: SumRule = (recorded, actual) => {
  const now = new Map(actual.files.map((f) => [f.file, f.hash]));
  return recorded.files.flatMap((f) => {
    const got = now.get(f.file);
    return got !== undefined && got !== f.hash ? [{ kind: 'edited' as const, file: f.file, message: `${f.file} was edited: expected ${f.hash} got ${got}` }] : [];
  });
};

const noUnpinnedFiles: SumRule = (recorded, actual) => {
  const pinned = new Set(recorded.files.map((f) => f.file));
  return actual.files.filter((f) => !pinned.has(f.file)).map((f) => ({ kind: 'added' as const, file: f.file, message: `${f.file} was added without a line in ${SUM_FILE}` }));
};

const noMissingFiles: SumRule = (recorded, actual) => {
  const present = new Set(actual.files.map((f) => f.file));
  return recorded.files.filter((f) => !present.has(f.file)).map((f) => ({ kind: 'removed' as const, file: f.file, message: `${f.file} is listed in ${SUM_FILE} but missing` }));
};

const RULES: readonly SumRule[] = [wellFormed, totalMatches, filesUnchanged, noUnpinnedFiles, noMissingFiles];

/** Every way the folder differs from its sum file; empty when it matches. */
export function verifySum(dir: string): SumProblem[] {
  const actual = computeSum(dir);
  const recorded = readSum(dir);
  if (!recorded) return [{ kind: 'sum-missing', message: `${dir} has no ${SUM_FILE}: run \`routergpt migrate hash\` to pin it` }];
  return RULES.flatMap((rule) => rule(recorded, actual));
}

export const SUM_MISMATCH_HINT = 'A released migration was edited: restore it, or add a new migration; if the change is intended before release, run `routergpt migrate hash`.';

/** Folders already warned about, so a process says "no routergpt.sum" once, not at every load. */
const warnedUnpinned = new Set<string>();

/**
 * Throw a ConfigError (exit 2) naming every problem when the folder does not match its sum
 * file. A folder without a sum file (a user's own, via ROUTERGPT_MIGRATIONS_DIR) is not an
 * error: `warn` is told once per process and folder.
 */
export function requireMatchingSum(dir: string, warn: (line: string) => void): void {
  const problems = verifySum(dir);
  const missing = problems.find((p) => p.kind === 'sum-missing');
  if (missing) {
    const key = path.resolve(dir);
    if (!warnedUnpinned.has(key)) {
      warnedUnpinned.add(key);
      warn(`warning: ${missing.message}`);
    }
    return;
  }
  if (problems.length === 0) return;
  throw new ConfigError(
    `The migration files in ${dir} do not match ${SUM_FILE} (${problems.length === 1 ? 'a problem' : `${problems.length} problems`}):\n${problems.map((p) => `  - ${p.message}`).join('\n')}`,
    SUM_MISMATCH_HINT,
    { problems: problems.map((p) => p.message) },
  );
}
