/**
 * Which git work tree a directory belongs to, as `git rev-parse --show-toplevel` says — asked of
 * git at most once per directory every few seconds, and not at all when no ancestor of the
 * directory holds a `.git` entry (file or directory) and no GIT_DIR / GIT_WORK_TREE is set:
 * git itself could find no repository there (issue 16: a verify spawned git four times).
 */
import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

export type GitToplevel =
  | { kind: 'repo'; root: string }
  /** Not inside any work tree (or inside a .git directory or a bare repository: no work tree). */
  | { kind: 'outside' }
  | { kind: 'no-git' }
  | { kind: 'unknown'; reason: string };

/** How long an answer is reused: long enough for one run, short enough for `watch`. */
const REUSE_MS = 5_000;
const answers = new Map<string, { at: number; answer: Promise<GitToplevel> }>();

/** Could git find a repository from `dir`: an ancestor holds `.git`, or the environment points git at one. */
export function mayBeInRepo(dir: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.GIT_DIR || env.GIT_WORK_TREE) return true;
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (existsSync(path.join(d, '.git'))) return true;
    if (path.dirname(d) === d) return false;
  }
}

function ask(dir: string): Promise<GitToplevel> {
  return new Promise((resolve) => {
    execFile('git', ['rev-parse', '--show-toplevel'], { cwd: dir, timeout: 10_000, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }, (error, stdout, stderr) => {
      if (!error) {
        const root = String(stdout).trim();
        return resolve(root ? { kind: 'repo', root } : { kind: 'outside' });
      }
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return resolve({ kind: 'no-git' });
      const message = String(stderr).trim();
      if (/not a git repository/i.test(message)) return resolve({ kind: 'outside' });
      resolve({ kind: 'unknown', reason: message.split('\n')[0] || error.message });
    });
  });
}

/** The work tree `dir` (an existing directory) is in, if any. */
export function gitToplevel(dir: string): Promise<GitToplevel> {
  // git walks up from the physical directory: a symlink into a repository is inside it.
  let key: string;
  try {
    key = realpathSync(dir);
  } catch {
    return Promise.resolve({ kind: 'unknown', reason: `${dir} does not exist` });
  }
  const now = Date.now();
  const known = answers.get(key);
  if (known && now - known.at < REUSE_MS) return known.answer;
  const answer = mayBeInRepo(key) ? ask(key) : Promise.resolve<GitToplevel>({ kind: 'outside' });
  answers.set(key, { at: now, answer });
  return answer;
}
