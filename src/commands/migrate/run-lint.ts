import { createRequire } from 'node:module';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import { loadVerifiedMigrations } from '../../db/migrator/files.js';

export interface LintFinding {
  file: string;
  line: number;
  level: 'warning' | 'error';
  rule: string;
  message: string;
  help: string | null;
}

export interface LintFileResult {
  file: string;
  status: 'pass' | 'warn' | 'fail';
  findings: LintFinding[];
}

export interface LintResult {
  files: LintFileResult[];
  status: 'pass' | 'warn' | 'fail';
}

/**
 * The migrator sets lock_timeout itself and runs each file in a transaction (except
 * CONCURRENTLY files), so squawk's rules asking for those settings in the file do not apply.
 */
export const DEFAULT_EXCLUDED_RULES = ['require-lock-timeout', 'require-statement-timeout', 'prefer-bigint-over-int', 'prefer-robust-stmts'];

interface SquawkRow {
  file: string;
  line: number;
  level: string;
  message: string;
  help: string | null;
  rule_name: string;
}

/** squawk-cli ships its native binary inside the npm package; it runs offline. */
function squawkBinary(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('squawk-cli/package.json');
  const { bin } = require(pkgFile) as { bin: Record<string, string> };
  return path.join(path.dirname(pkgFile), bin.squawk ?? 'js/bin/squawk');
}

export async function runMigrateLint({ migrationsDir, pgVersion = '15', exclude = DEFAULT_EXCLUDED_RULES, onWarning = () => {} }: { migrationsDir: string; pgVersion?: string; exclude?: string[]; onWarning?: (line: string) => void }): Promise<LintResult> {
  const migrations = loadVerifiedMigrations(migrationsDir, onWarning);
  const { execa } = await import('execa');
  const files = migrations.flatMap((m) => [m, ...(m.down ? [{ ...m, file: m.down.file, noTransaction: m.down.noTransaction }] : [])]);
  const rows: SquawkRow[] = [];
  // Transactional files are linted as the migrator runs them: inside a transaction.
  for (const [inTx, group] of [[true, files.filter((f) => !f.noTransaction)], [false, files.filter((f) => f.noTransaction)]] as const) {
    if (group.length === 0) continue;
    const args = ['--reporter', 'json', `--pg-version=${pgVersion}`, ...(exclude.length ? [`--exclude=${exclude.join(',')}`] : []), ...(inTx ? ['--assume-in-transaction'] : []), ...group.map((f) => f.file)];
    const child = await execa(process.execPath, [squawkBinary(), ...args], { reject: false }).catch((error: unknown) => {
      throw new ConfigError(`Could not run squawk: ${(error as Error).message}`, 'Run `npm install` to install squawk-cli.');
    });
    if (child.exitCode !== 0 && child.exitCode !== 1) {
      throw new ConfigError(`squawk failed (exit ${child.exitCode}): ${String(child.stderr).split('\n')[0]}`, 'Run `npm install` to install squawk-cli.');
    }
    const text = String(child.stdout).trim();
    if (text) rows.push(...(JSON.parse(text) as SquawkRow[]));
  }
  const byFile = new Map<string, LintFinding[]>(files.map((f) => [path.basename(f.file), []]));
  for (const row of rows) {
    const name = path.basename(row.file);
    byFile.get(name)?.push({ file: name, line: row.line + 1, level: row.level.toLowerCase() === 'error' ? 'error' : 'warning', rule: row.rule_name, message: row.message, help: row.help });
  }
  const results: LintFileResult[] = [...byFile].map(([file, findings]) => ({
    file,
    findings,
    status: findings.some((f) => f.level === 'error') ? 'fail' : findings.length > 0 ? 'warn' : 'pass',
  }));
  const status = results.some((r) => r.status === 'fail') ? 'fail' : results.some((r) => r.status === 'warn') ? 'warn' : 'pass';
  return { files: results, status };
}
