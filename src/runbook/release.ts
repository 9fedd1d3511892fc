import { execFile } from 'node:child_process';
import { UsageError } from '../errors.js';

/** Where a run's release identity came from (DESIGN.md "Runbook": Releases). */
export type ReleaseSource = 'flag' | 'env' | 'git' | 'none';

export interface Release {
  /** Any identifier the team uses (commit, tag, image tag); null when nothing names one. */
  id: string | null;
  /** The commit sha, when the id names a git ref in the working tree. */
  commit?: string;
  source: ReleaseSource;
}

export interface ResolveReleaseOptions {
  /** `--release ID`. */
  flag?: string | undefined;
  /** The injected environment (io.env): `ROUTERGPT_RELEASE`. */
  env?: Record<string, string | undefined>;
  /** The working tree `git describe` looks at. */
  cwd: string;
}

export const RELEASE_ENV = 'ROUTERGPT_RELEASE';
export const RELEASE_MAX_LENGTH = 200;

// C0 and C1 controls (newlines and tabs too) and the Unicode line/paragraph separators: an id
// is one line in plans, tables, journals and the remote command it is quoted into.
const CONTROL = /[\p{Cc}\u2028\u2029]/u;

/** The problem with a release id, or undefined when it is fine (one line, no control characters, ≤ 200). */
export function releaseIdProblem(id: string): string | undefined {
  if (id === '') return 'it is empty';
  if (CONTROL.test(id)) return 'it contains a control character (a newline, a tab…); a release id is one line';
  if (id.length > RELEASE_MAX_LENGTH) return `it is ${id.length} characters long (at most ${RELEASE_MAX_LENGTH})`;
  return undefined;
}

/** Validate a given release id (surrounding blanks dropped); a bad one is a usage error naming where it came from. */
export function parseReleaseId(value: string, source: 'flag' | 'env'): string {
  const id = value.trim();
  const problem = releaseIdProblem(id);
  if (!problem) return id;
  const shown = JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (source === 'flag') throw new UsageError(`--release ${shown} is not a release id: ${problem}.`, `Pass a commit, tag or image tag on one line of at most ${RELEASE_MAX_LENGTH} characters, e.g. --release v1.4.2; nothing was changed.`);
  throw new UsageError(`${RELEASE_ENV}=${shown} (from the environment) is not a release id: ${problem}.`, `Fix ${RELEASE_ENV} (a commit, tag or image tag on one line of at most ${RELEASE_MAX_LENGTH} characters), or pass --release ID, which wins; nothing was changed.`);
}

/** `git …` in cwd: its trimmed stdout, or undefined when git is missing, cwd is no work tree, or the command fails. */
function git(cwd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    // No optional locks: `describe --dirty` refreshes the index, which must not race the team's own git.
    execFile('git', args, { cwd, timeout: 10_000, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }, (error, stdout) => {
      const out = String(stdout ?? '').trim();
      resolve(error || !out ? undefined : out);
    });
  });
}

/** The commit an id names in the working tree (`git rev-parse --verify ID^{commit}`), when it names one. */
async function commitOf(cwd: string, id: string): Promise<string | undefined> {
  // An id that starts with "-" would be read as an option; it cannot be a ref anyway.
  if (id.startsWith('-')) return undefined;
  const sha = await git(cwd, ['rev-parse', '--verify', '--quiet', `${id}^{commit}`]);
  return sha && /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
}

/**
 * The release a run ships, explicit first (STYLE.md §7): `--release` > `ROUTERGPT_RELEASE` >
 * `git describe --always --dirty` of the working tree; `none` when there is neither. When the
 * id names a git ref, its commit is recorded beside it (a tag can be moved; the sha cannot).
 */
export async function resolveRelease({ flag, env = {}, cwd }: ResolveReleaseOptions): Promise<Release> {
  const given = flag !== undefined ? { id: parseReleaseId(flag, 'flag'), source: 'flag' as const } : env[RELEASE_ENV]?.trim() ? { id: parseReleaseId(env[RELEASE_ENV]!, 'env'), source: 'env' as const } : undefined;
  if (given) {
    const commit = await commitOf(cwd, given.id);
    return { ...given, ...(commit ? { commit } : {}) };
  }
  const described = await git(cwd, ['describe', '--always', '--dirty']);
  if (!described || releaseIdProblem(described)) return { id: null, source: 'none' };
  // `-dirty` is no ref: the commit is HEAD's, and the id says the tree had changes on top.
  const commit = await commitOf(cwd, 'HEAD');
  return { id: described, source: 'git', ...(commit ? { commit } : {}) };
}

const SOURCE_LABEL: Record<Exclude<ReleaseSource, 'none'>, string> = { flag: '--release', env: RELEASE_ENV, git: 'git describe' };

/** The plan's release line: the id, where it came from and its commit — or why there is none. */
export function describeRelease(release: Release): string {
  if (release.id === null) return `none — not a git working tree, and neither --release nor ${RELEASE_ENV} is set (the run records no release; pass --release ID)`;
  const parts = [`from ${SOURCE_LABEL[release.source as Exclude<ReleaseSource, 'none'>]}`, ...(release.commit ? [`commit ${release.commit.slice(0, 12)}`] : [])];
  return `${release.id} (${parts.join(', ')})`;
}

/** The release fields of a run record (none: no field at all). */
export function releaseFields(release: Release): { release?: string; releaseCommit?: string } {
  if (release.id === null) return {};
  return { release: release.id, ...(release.commit ? { releaseCommit: release.commit } : {}) };
}
