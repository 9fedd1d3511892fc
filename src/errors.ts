/** The CLI's exit codes — the single source for main.ts, --help and docs/exit-codes.md. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  strictWarnings: 3,
  lockHeld: 4,
  cancelled: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The closed set of errors the CLI knows how to render (STYLE.md §3). Each has one rendering
 * and one exit code; a message states the problem and ends with the next action to take.
 */
export abstract class RouterGptError extends Error {
  abstract readonly exitCode: ExitCodeValue;
  /** The next action for the user, printed after the message. */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** Bad flags or arguments. Nothing was changed. */
export class UsageError extends RouterGptError {
  readonly exitCode = ExitCode.usage;
}

/** Bad or incomplete configuration (file, environment, database URL…). Nothing was changed. */
export class ConfigError extends RouterGptError {
  readonly exitCode = ExitCode.usage;
  readonly problems: readonly string[];
  constructor(message: string, hint?: string, options?: { cause?: unknown; problems?: readonly string[] }) {
    super(message, hint, options);
    this.problems = options?.problems ?? [];
  }
}

/** Checks or steps failed; the result has already been reported, so this renders nothing. */
export class ChecksFailedError extends RouterGptError {
  readonly exitCode: ExitCodeValue;
  constructor(message = 'checks failed', exitCode: ExitCodeValue = ExitCode.failed) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** An operation failed in a way the user can act on (a migration error, an edited file…). */
export class OperationError extends RouterGptError {
  readonly exitCode = ExitCode.failed;
}

/**
 * The database connection went away while a command used it (a session ended with
 * pg_terminate_backend or idle_session_timeout, a restart, a failover): "database connection
 * lost", with how to carry on — resume the run, or its rollback plan.
 */
export class DatabaseConnectionLostError extends OperationError {}

/** Another run holds the lock. */
export class LockHeldError extends RouterGptError {
  readonly exitCode = ExitCode.lockHeld;
}

/** The user said no, pressed Ctrl-C, or typed the wrong confirmation. */
export class CancelledError extends RouterGptError {
  readonly exitCode = ExitCode.cancelled;
}

export function isRouterGptError(error: unknown): error is RouterGptError {
  return error instanceof RouterGptError;
}
