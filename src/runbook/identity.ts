import { execFile } from 'node:child_process';
import os from 'node:os';
import { UsageError } from '../errors.js';

/**
 * Who is acting (DESIGN.md "Manual item"): a person's identity, not the OS account. Explicit
 * first (STYLE.md §7): `--as ID` > `git config user.email` > the CI actor > the OS account, the
 * last resort, which the record says it is. Identities compare case-insensitively.
 */
export type IdentitySource = 'flag' | 'git' | 'ci' | 'os';

export interface Identity {
  /** Normalised: trimmed and lower-case, so `Jane@Example.com` and `jane@example.com` are one person. */
  id: string;
  source: IdentitySource;
  /** Where it came from, for plans and errors: "--as", "git config user.email", "GITHUB_ACTOR (CI)". */
  origin: string;
}

/** The CI systems' "who started this" variables, in the order they are looked at. */
export const CI_ACTOR_VARIABLES = ['GITHUB_ACTOR', 'GITLAB_USER_EMAIL', 'GITLAB_USER_LOGIN', 'BUILDKITE_BUILD_CREATOR_EMAIL', 'BUILDKITE_BUILD_CREATOR', 'CIRCLE_USERNAME', 'BITBUCKET_STEP_TRIGGERER_UUID', 'BUILD_REQUESTEDFOREMAIL', 'TRAVIS_COMMIT_AUTHOR_EMAIL', 'DRONE_COMMIT_AUTHOR_EMAIL', 'JENKINS_USER_ID'] as const;

const CONTROL = /[\p{Cc}\u2028\u2029]/u;
export const IDENTITY_MAX_LENGTH = 200;

/** The one comparison form: trimmed, lower-case. */
export function normaliseIdentity(value: string): string {
  return value.trim().toLowerCase();
}

export function sameIdentity(a: string, b: string): boolean {
  return normaliseIdentity(a) === normaliseIdentity(b);
}

/** The problem with an identity, or undefined when it is fine (non-empty, one line, ≤ 200). */
export function identityProblem(value: string): string | undefined {
  const id = value.trim();
  if (id === '') return 'it is empty';
  if (CONTROL.test(id)) return 'it contains a control character (a newline, a tab…); an identity is one line';
  if (id.length > IDENTITY_MAX_LENGTH) return `it is ${id.length} characters long (at most ${IDENTITY_MAX_LENGTH})`;
  return undefined;
}

/** Validate an identity given by a person (`--as`, a prompt, a sign-off file); a bad one is a usage error. */
export function parseIdentity(value: string, where: string): string {
  const problem = identityProblem(value);
  if (problem) {
    const shown = JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
    throw new UsageError(`${where} ${shown} is not an identity: ${problem}.`, `Give an e-mail address or a login on one line, e.g. --as jane@example.com; nothing was changed.`);
  }
  return normaliseIdentity(value);
}

function gitEmail(cwd: string, env: Record<string, string | undefined>): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['config', 'user.email'], { cwd, timeout: 10_000, env: { ...env, GIT_OPTIONAL_LOCKS: '0' } }, (error, stdout) => {
      const out = String(stdout ?? '').trim();
      resolve(error || !out || identityProblem(out) ? undefined : out);
    });
  });
}

export function osAccount(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return `unknown@${os.hostname()}`;
  }
}

export interface ResolveIdentityOptions {
  /** `--as ID`. */
  flag?: string | undefined;
  /** The injected environment (io.env): the CI actor variables, and git's own (HOME, GIT_CONFIG_GLOBAL). */
  env: Record<string, string | undefined>;
  cwd: string;
}

export async function resolveIdentity({ flag, env, cwd }: ResolveIdentityOptions): Promise<Identity> {
  if (flag !== undefined) return { id: parseIdentity(flag, '--as'), source: 'flag', origin: '--as' };
  const email = await gitEmail(cwd, env);
  if (email) return { id: normaliseIdentity(email), source: 'git', origin: 'git config user.email' };
  for (const variable of CI_ACTOR_VARIABLES) {
    const value = env[variable];
    if (value && !identityProblem(value)) return { id: normaliseIdentity(value), source: 'ci', origin: `${variable} (CI)` };
  }
  return { id: normaliseIdentity(osAccount()), source: 'os', origin: 'the OS account (no --as, git user.email or CI actor)' };
}

/** `jane@example.com (from git config user.email)`: the plan's and the report's line. */
export function describeIdentity(identity: Identity): string {
  return `${identity.id} (from ${identity.origin})`;
}
