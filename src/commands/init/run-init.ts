import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE_NAME, loadConfig } from '../../config/resolve.js';
import { CONFIG_TEMPLATE, ENV_EXAMPLE_TEMPLATE, GITIGNORE_COMMENT, GITIGNORE_ENTRIES } from './templates.js';

export interface InitOptions {
  dir: string;
  force: boolean;
}

export interface InitResult {
  written: string[];
  kept: string[];
  gitignore: 'created' | 'updated' | 'unchanged';
  /** The lines added to .gitignore (empty when it already ignored everything routergpt writes). */
  ignored: string[];
  /** Why some configured directory could not be checked (an invalid kept config file). */
  warnings: string[];
}

/** A directory pattern as a comparable path: `/.routergpt/`, `.routergpt` and `.routergpt/` are one entry. */
function normalise(line: string): string {
  return line.trim().replace(/^\//, '').replace(/\/(\*\*)?$/, '');
}

function isDirPattern(pattern: string): boolean {
  return pattern.endsWith('/');
}

/** Does the .gitignore text already hold a line equivalent to `pattern`? (A file pattern must not be dir-only.) */
function hasEntry(lines: string[], pattern: string): boolean {
  const wanted = normalise(pattern);
  return lines.some((line) => normalise(line) === wanted && (isDirPattern(pattern) || !/\/(\*\*)?\s*$/.test(line)));
}

/**
 * Directories the config file puts inside `dir` but outside `.routergpt/` (an explicit
 * `backup.dir: backups/prod`, an embedded `data_dir`), as anchored .gitignore lines — so an
 * existing project's own settings keep working and stay out of git.
 */
function configuredDirs(dir: string): { entries: string[]; warnings: string[] } {
  const entries = new Set<string>();
  const warnings: string[] = [];
  let names: string[];
  try {
    names = loadConfig({ flags: { env: 'local' }, cwd: dir, env: {}, requireDatabase: false }).environments;
  } catch (error) {
    return { entries: [], warnings: [`could not read ${CONFIG_FILE_NAME} (${(error as Error).message.split('\n')[0]}); only the default paths were git-ignored`] };
  }
  for (const name of names) {
    try {
      const { config } = loadConfig({ flags: { env: name }, cwd: dir, env: {}, requireDatabase: false });
      const dirs = [config.backupDir.value, config.database.value.kind === 'embedded' ? config.database.value.dataDir : undefined];
      for (const target of dirs) {
        if (!target) continue;
        const rel = path.relative(dir, target).split(path.sep).join('/');
        if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel) || rel === '.routergpt' || rel.startsWith('.routergpt/')) continue;
        entries.add(`/${rel}/`);
      }
    } catch (error) {
      warnings.push(`environment "${name}": ${(error as Error).message.split('\n')[0]}; its backup directory was not checked`);
    }
  }
  return { entries: [...entries], warnings };
}

/**
 * Write the config file and .env.example, and make sure .gitignore covers everything routergpt
 * writes under the project: `.env`, the state dir `.routergpt/` (journals, run directories with
 * purge records, kept writes and local API logs, locks, the embedded database, default backups)
 * and any backup or data directory the config puts elsewhere in the project. Lines are appended,
 * never rewritten; a second run adds nothing.
 */
export function runInit({ dir, force }: InitOptions): InitResult {
  const result: InitResult = { written: [], kept: [], gitignore: 'unchanged', ignored: [], warnings: [] };
  for (const [name, content] of [[CONFIG_FILE_NAME, CONFIG_TEMPLATE], ['.env.example', ENV_EXAMPLE_TEMPLATE]] as const) {
    const file = path.join(dir, name);
    if (existsSync(file) && !force) result.kept.push(name);
    else {
      writeFileSync(file, content);
      result.written.push(name);
    }
  }
  const extra = configuredDirs(dir);
  result.warnings.push(...extra.warnings);
  const gitignore = path.join(dir, '.gitignore');
  const existed = existsSync(gitignore);
  const content = existed ? readFileSync(gitignore, 'utf8') : '';
  const lines = content.split(/\r?\n/);
  const missing = [...GITIGNORE_ENTRIES, ...extra.entries].filter((pattern) => !hasEntry(lines, pattern));
  if (missing.length > 0) {
    const eol = content.includes('\r\n') ? '\r\n' : '\n';
    const separator = content === '' || content.endsWith('\n') ? '' : eol;
    const block = [GITIGNORE_COMMENT, ...missing].map((line) => `${line}${eol}`).join('');
    writeFileSync(gitignore, `${content}${separator}${block}`);
    result.gitignore = existed ? 'updated' : 'created';
    result.ignored = missing;
  }
  return result;
}
