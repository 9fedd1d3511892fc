import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { listRunFiles, type RunRecord } from '../../src/runbook/journal.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const BIN = path.join(REPO_ROOT, 'bin', 'routergpt.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A clean environment: no inherited DATABASE_URL or keys leak into a test. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir(), NO_COLOR: '1', LANG: 'C.UTF-8' };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export function tempDir(prefix = 'routergpt-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Run the real built CLI (bin/routergpt.js → dist/) as a child process. */
export function spawnCli(args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {}): ResultPromise {
  return execa(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? tempDir(),
    env: cleanEnv(options.env),
    extendEnv: false,
    reject: false,
    input: options.input,
    stripFinalNewline: false,
  });
}

export async function runCli(args: string[], options: Parameters<typeof spawnCli>[1] = {}): Promise<CliResult> {
  const result = await spawnCli(args, options);
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** The migration versions on disk ('001', '002', …), so tests follow the folder as migrations are added. */
export const MIGRATION_VERSIONS: string[] = readdirSync(path.join(REPO_ROOT, 'migrations'))
  .filter((f) => /^\d{3}_.+(?<!\.down)\.sql$/.test(f))
  .map((f) => f.slice(0, 3))
  .sort();
export const LATEST_MIGRATION: string = MIGRATION_VERSIONS.at(-1)!;
/** The next free migration number: what a test's scratch migration takes. */
export const NEXT_MIGRATION: string = String(Number(LATEST_MIGRATION) + 1).padStart(3, '0');

/**
 * The newest run journal in a runs directory, as the product orders them (by start time, to the
 * millisecond): file names sort by the second only, and two runs in one second differ only in
 * their random suffix.
 */
export function newestRun(runsDir: string): RunRecord | undefined {
  return listRunFiles(runsDir)[0];
}
