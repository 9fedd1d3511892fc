// Which work tree a directory is in: git is asked only where it could find one.
import { execFileSync } from 'node:child_process';
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitToplevel, mayBeInRepo } from '../../src/lib/git-toplevel.js';
import { tempDir } from '../helpers/cli.js';

const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

describe('gitToplevel', () => {
  it('names the work tree of a directory inside one, from a subdirectory too', async () => {
    const repo = tempDir('routergpt-top-repo-');
    execFileSync('git', ['init', '-q', repo]);
    const sub = path.join(repo, 'a', 'b');
    mkdirSync(sub, { recursive: true });
    expect(mayBeInRepo(sub, {})).toBe(true);
    expect(await gitToplevel(sub)).toEqual({ kind: 'repo', root: realpathSync(repo) });
  });

  it('answers "outside" where no ancestor holds .git, without running git', async () => {
    const dir = tempDir('routergpt-top-outside-');
    expect(mayBeInRepo(dir, {})).toBe(false);
    process.env.PATH = tempDir('routergpt-empty-path-'); // git could not run: the answer cannot come from it
    expect(await gitToplevel(dir)).toEqual({ kind: 'outside' });
  });

  it('says git is missing where it would have to ask it', async () => {
    const repo = tempDir('routergpt-top-nogit-');
    execFileSync('git', ['init', '-q', repo]);
    process.env.PATH = tempDir('routergpt-empty-path-');
    expect(await gitToplevel(repo)).toEqual({ kind: 'no-git' });
  });

  it('follows a symlink into a repository, as git does', async () => {
    const repo = tempDir('routergpt-top-link-');
    execFileSync('git', ['init', '-q', repo]);
    mkdirSync(path.join(repo, 'data'));
    const link = path.join(tempDir('routergpt-top-link2-'), 'data');
    symlinkSync(path.join(repo, 'data'), link);
    expect(await gitToplevel(link)).toEqual({ kind: 'repo', root: realpathSync(repo) });
  });

  it('says so when the directory does not exist, instead of blaming git', async () => {
    expect(await gitToplevel(path.join(tempDir('routergpt-top-gone-'), 'missing'))).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/does not exist/) });
  });

  it('asks git when the environment points it at a repository', () => {
    expect(mayBeInRepo(tempDir('routergpt-top-env-'), { GIT_DIR: '/somewhere/.git' })).toBe(true);
    expect(mayBeInRepo(tempDir('routergpt-top-env-'), { GIT_WORK_TREE: '/somewhere' })).toBe(true);
  });

  it('treats a .git file (a worktree or submodule) like a .git directory', () => {
    const repo = tempDir('routergpt-top-wt-');
    execFileSync('git', ['init', '-q', repo]);
    const worktree = path.join(tempDir('routergpt-top-wt2-'), 'wt');
    execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'x']);
    execFileSync('git', ['-C', repo, 'worktree', 'add', '-q', worktree]);
    expect(mayBeInRepo(worktree, {})).toBe(true);
  });
});
