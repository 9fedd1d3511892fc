import { CommanderError } from 'commander';
import { redactSecrets } from '../config/mask.js';
import { connectionLostReason, isConnectionLost } from '../db/connection-lost.js';
import { CancelledError, ChecksFailedError, ConfigError, DatabaseConnectionLostError, isRouterGptError, UsageError, type RouterGptError } from '../errors.js';
import { noRoomError } from '../lib/disk-full.js';
import { VERSION } from '../version.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import type { IO } from './io.js';

/** Map anything thrown to one of our error types (STYLE.md §3). */
export function classify(error: unknown): RouterGptError | CommanderError | Error {
  if (isRouterGptError(error) || error instanceof CommanderError) return error;
  if (error instanceof Error && error.name === 'ExitPromptError') return new CancelledError('Cancelled.');
  if (error instanceof Error && error.name === 'AbortPromptError') return new CancelledError('Cancelled.');
  const behind = schemaBehind(error);
  if (behind) return behind;
  // The session ended under the command (a restart, a failover, pg_terminate_backend): operational, not a bug.
  if (isConnectionLost(error)) return new DatabaseConnectionLostError(`database connection lost: ${connectionLostReason(error)}.`, 'Check the database (`routergpt db ping`), then run the command again.', { cause: error });
  // A full or read-only volume anywhere (a report, an export, a journal): operational, naming the file.
  const noRoom = noRoomError(error, 'the file');
  if (noRoom) return noRoom;
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * A query that meets a table or column the database does not have yet (SQLSTATE 42P01 / 42703,
 * from PostgreSQL or PGlite): the database is behind this release's migrations, a configuration
 * problem to fix with a command, not a crash. Read-only commands reach this before any change.
 */
function schemaBehind(error: unknown): ConfigError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (!(error instanceof Error) || (code !== '42P01' && code !== '42703')) return undefined;
  const what = /^(relation|column) "?([^"]+)"? .*does not exist/.exec(error.message);
  const name = what ? `${what[1] === 'relation' ? 'table' : 'column'} ${what[2]}` : 'a table or column this release needs';
  return new ConfigError(
    `The database has no ${name}: it is behind this release's migrations.`,
    'See what is pending with `routergpt migrate status`, then apply it with `routergpt migrate up` (or `routergpt deploy`).',
    { cause: error },
  );
}

export interface RenderOptions {
  verbose: boolean;
  json: boolean;
  secrets: ReadonlyArray<string | undefined>;
}

/** Print one short message (and the next action), and return the exit code. */
export function renderError(io: IO, thrown: unknown, options: RenderOptions): ExitCodeValue {
  const error = classify(thrown);
  // The registered secrets (from the loaded config) and the ones the entry point passes.
  const clean = (s: string) => redactSecrets(s, options.secrets);
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
    // commander already printed its message; usage errors are exit 2.
    return ExitCode.usage;
  }
  if (error instanceof ChecksFailedError) return error.exitCode; // already reported
  const known = isRouterGptError(error);
  const code: ExitCodeValue = known ? error.exitCode : ExitCode.failed;
  const message = known ? error.message : `Internal error: ${error.message}`;
  const hint = known ? error.hint : `This is a bug in routergpt ${VERSION} (Node ${process.version}); please report it with the output of --verbose.`;
  if (options.json) {
    const kind = error instanceof UsageError ? 'usage' : error instanceof ConfigError ? 'config' : known ? error.name : 'internal';
    io.stdout.write(`${JSON.stringify({ error: { kind, message: clean(message), hint: hint ? clean(hint) : undefined, exitCode: code } })}\n`);
  }
  io.stderr.write(`routergpt: ${clean(message)}\n`);
  if (hint) io.stderr.write(`  → ${clean(hint)}\n`);
  if (options.verbose || !known) {
    if (options.verbose && error.stack) io.stderr.write(`${clean(error.stack)}\n`);
    const cause = (error as { cause?: unknown }).cause;
    if (options.verbose && cause instanceof Error && cause.stack) io.stderr.write(`Caused by: ${clean(cause.stack)}\n`);
    if (!options.verbose && !known) io.stderr.write('  (run again with --verbose for the stack trace)\n');
  }
  return code;
}
