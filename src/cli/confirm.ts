import { CancelledError, UsageError } from '../errors.js';
import type { IO } from './io.js';

export interface ConfirmOptions {
  io: IO;
  /** --yes was given. */
  yes: boolean;
  /** Require typing this word (the environment name) rather than y/N. */
  typed?: string;
  message: string;
}

/**
 * Ask before a destructive action. Without a TTY nothing prompts: the caller must pass --yes,
 * or the command stops before changing anything (exit 2).
 */
export async function confirmOrThrow({ io, yes, typed, message }: ConfirmOptions): Promise<void> {
  if (yes) return;
  if (!io.stdinIsTTY) {
    throw new UsageError(`${message} needs confirmation, and there is no terminal to ask on.`, 'Re-run with --yes to confirm non-interactively.');
  }
  const prompts = await import('@inquirer/prompts');
  if (typed) {
    const answer = await prompts.input({ message: `${message}\nType the environment name (${typed}) to confirm:` }, { output: io.stderr });
    if (answer.trim() !== typed) throw new CancelledError(`Confirmation did not match "${typed}"; nothing was changed.`);
    return;
  }
  const ok = await prompts.confirm({ message, default: false }, { output: io.stderr });
  if (!ok) throw new CancelledError('Cancelled; nothing was changed.');
}
