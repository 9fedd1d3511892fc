import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gitToplevel } from '../../lib/git-toplevel.js';
import { defineCheck, fail, pass, skip, warn } from '../define-check.js';

const exec = promisify(execFile);

/** Where a directory stands with respect to git: outside any work tree, ignored, or exposed (with why). */
export type GitExposure =
  | { kind: 'outside' }
  | { kind: 'no-git' }
  | { kind: 'ignored'; repo: string }
  | { kind: 'exposed'; repo: string; rel: string; ignored: boolean; tracked: number }
  | { kind: 'unknown'; reason: string };

/**
 * The path as git sees it: the real path of its nearest existing ancestor plus the rest (the
 * directory may not exist before the first backup; /tmp may be a symlink to /private/tmp).
 */
function realExisting(target: string): { existing: string; full: string } {
  let existing = path.resolve(target);
  const rest: string[] = [];
  while (!existsSync(existing) && path.dirname(existing) !== existing) {
    rest.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  const real = realpathSync(existing);
  return { existing: real, full: path.join(real, ...rest) };
}

/** Is `dir` inside a git work tree and not ignored there? Run with the directory's own repository. */
export async function gitExposure(dir: string, signal?: AbortSignal): Promise<GitExposure> {
  const { existing, full } = realExisting(dir);
  const top = await gitToplevel(existing);
  if (top.kind !== 'repo') return top;
  const repo = top.root;
  const rel = path.relative(realpathSync(repo), full).split(path.sep).join('/');
  if (rel.startsWith('..') || path.isAbsolute(rel)) return { kind: 'outside' };
  const tracked = (await exec('git', ['ls-files', '-z', '--', rel || '.'], { cwd: repo, signal, maxBuffer: 64 * 1024 * 1024 })).stdout.split('\0').filter(Boolean).length;
  // The rules alone (--no-index; tracked files are counted above). The repository root cannot be
  // ignored. The trailing slash makes directory-only patterns (`backups/`) match before it exists.
  const ignored = rel !== '' && (await exec('git', ['check-ignore', '-q', '--no-index', '--', `${rel}/`], { cwd: repo, signal }).then(() => true, () => false));
  if (ignored && tracked === 0) return { kind: 'ignored', repo };
  return { kind: 'exposed', repo, rel: rel || '.', ignored, tracked };
}

export default defineCheck({
  id: 'security.backups-not-in-repo',
  title: 'Backups and run records not in git',
  // No `repo`: the backup directory may live in another repository than the working directory.
  needs: [],
  stages: ['pre'],
  tags: ['config', 'backup'],
  async run({ config, signal }) {
    const targets = [
      { label: 'backup directory', dir: config.backupDir.value, origin: config.backupDir.origin },
      { label: 'state directory (journals, purge records, kept writes, logs)', dir: config.stateDir.value, origin: config.stateDir.origin },
    ];
    const exposed: string[] = [];
    const paths: string[] = [];
    const found: Array<{ repo: string; rel: string; ignored: boolean; tracked: number }> = [];
    const unknown: string[] = [];
    const fine: string[] = [];
    for (const { label, dir, origin } of targets) {
      const where = await gitExposure(dir, signal);
      // A directory with no `.git` above it is outside git without asking git (src/lib/git-toplevel.ts).
      if (where.kind === 'no-git') return skip('git is not installed, so nothing can be committed by it here (install git to run this check)');
      if (where.kind === 'outside') fine.push(`${label} ${dir}: outside any git repository`);
      else if (where.kind === 'ignored') fine.push(`${label} ${dir}: git-ignored in ${where.repo}`);
      else if (where.kind === 'unknown') unknown.push(`${label} ${dir}: git could not tell (${where.reason})`);
      else {
        paths.push(dir);
        found.push(where);
        exposed.push(`${label} ${dir} (${origin}) is inside the git repository ${where.repo} and ${where.tracked > 0 ? `${where.tracked} file(s) under it are tracked` : 'not git-ignored'}`);
      }
    }
    // The default backup directory lies in the state dir: one .gitignore line covers both.
    const covered = (f: { repo: string; rel: string }) => found.some((o) => o !== f && o.repo === f.repo && f.rel.startsWith(`${o.rel}/`));
    const fixes = found.flatMap((f) => [
      ...(f.tracked > 0 ? [`git -C ${f.repo} rm -r --cached -- ${f.rel}`] : []),
      ...(f.rel === '.' ? [`move it out of the repository root ${f.repo}`] : f.ignored || covered(f) ? [] : [`add "/${f.rel}/" to ${path.join(f.repo, '.gitignore')}`]),
    ]);
    if (exposed.length > 0) {
      return fail(`${exposed.length === 1 ? 'a directory' : `${exposed.length} directories`} holding database data can be committed to git: ${paths.join(', ')}`, {
        details: [...exposed, ...unknown],
        hint: `Keep ${paths.length === 1 ? 'it' : 'them'} out of git: ${fixes.join('; ')} (\`routergpt init\` git-ignores .env and .routergpt/) — or set backup.dir (ROUTERGPT_BACKUP_DIR) to a path outside the repository.`,
        data: { exposed: paths },
      });
    }
    if (unknown.length > 0) return warn('could not ask git whether the backup and state directories are ignored', { details: [...unknown, ...fine] });
    return pass('backup and state directories are outside git or git-ignored', { details: fine });
  },
});
