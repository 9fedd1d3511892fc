import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { defineCheck, fail, pass } from '../define-check.js';

const exec = promisify(execFile);

/** Shapes of real credentials. Placeholders like `sk-...` are too short to match. */
export const SECRET_PATTERNS: Array<{ name: string; re: RegExp }> = [
  // Legacy `sk-…`, and the current project, service-account and admin keys (`-` and `_` in the body).
  { name: 'OpenAI API key', re: /\bsk-(?:proj-|svcacct-|admin-|live-)?[A-Za-z0-9_-]{32,}/ },
  { name: 'Google API key', re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: 'Resend API key', re: /\bre_[A-Za-z0-9]{8}_[A-Za-z0-9]{20,}\b/ },
  { name: 'AWS access key', re: /\bAKIA[0-9A-Z]{16}\b/ },
  { name: 'private key', re: /-----BEGIN (?:RSA |EC |OPENSSH )?PRIVATE KEY-----/ },
  { name: 'database URL with a password', re: /\bpostgres(?:ql)?(?:\+\w+)?:\/\/[^:/\s@'"`]+:([^@\s'"`]+)@/g },
];

/** Documentation placeholders, not secrets. */
const PLACEHOLDER = /^(\*+|password|pass|secret|changeme|p|pw|x+|\$\{?\w+\}?|<[^>]+>|\.\.\.)$/i;

/** A line may opt out with `routergpt:allow-secret` (like gitleaks:allow) — for test fixtures. */
const ALLOW = 'routergpt:allow-secret';

export function findSecrets(text: string): Array<{ name: string; line: number }> {
  const found: Array<{ name: string; line: number }> = [];
  const lines = text.split('\n');
  for (const { name, re } of SECRET_PATTERNS) {
    const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
    for (const match of text.matchAll(global)) {
      if (match[1] !== undefined && PLACEHOLDER.test(match[1])) continue;
      const line = text.slice(0, match.index).split('\n').length;
      if (lines[line - 1]?.includes(ALLOW)) continue;
      found.push({ name, line });
    }
  }
  return found;
}

export default defineCheck({
  id: 'security.secrets-not-committed',
  title: 'Secrets not in code',
  needs: ['repo'],
  stages: ['pre'],
  tags: ['config'],
  async run({ repoDir }) {
    const cwd = repoDir!;
    const problems: string[] = [];
    const ignored = await exec('git', ['check-ignore', '-q', '.env'], { cwd }).then(() => true, () => false);
    if (!ignored) problems.push('.env is not in .gitignore');
    const { stdout } = await exec('git', ['ls-files', '-z'], { cwd, maxBuffer: 64 * 1024 * 1024 });
    const files = stdout.split('\0').filter(Boolean);
    if (files.some((f) => path.basename(f) === '.env')) problems.push('.env is tracked by git');
    for (const file of files) {
      if (/(^|\/)(node_modules|dist)\//.test(file) || /\.(png|jpg|gif|ico|woff2?|lock)$/.test(file) || file === 'package-lock.json') continue;
      let text: string;
      try {
        text = await readFile(path.join(cwd, file), 'utf8');
      } catch {
        continue; // deleted in the work tree
      }
      // The value itself is never shown, only where it is.
      for (const { name, line } of findSecrets(text)) problems.push(`${file}:${line}: looks like a ${name}`);
    }
    if (problems.length > 0) {
      return fail(`${problems.length} secret problem(s) in the repository`, { details: problems, hint: 'Move secrets to environment variables (.env, git-ignored), rotate any that were committed, and purge them from history.' });
    }
    return pass(`.env ignored; no API-key-shaped strings in ${files.length} tracked files`);
  },
});
