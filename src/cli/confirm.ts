import { CancelledError, UsageError } from '../errors.js';
import type { IO } from './io.js';
import { canPrompt, terminalPrompter, type Prompter } from './prompter.js';

export interface ConfirmOptions {
  io: IO;
  /** --yes was given. */
  yes: boolean;
  /** Require typing this word (the environment name) rather than y/N. */
  typed?: string;
  message: string;
  /** Who answers (the terminal by default; tests script it). */
  prompter?: Prompter;
}

/**
 * Ask before a destructive action. Without a TTY nothing prompts: the caller must pass --yes,
 * or the command stops before changing anything (exit 2).
 */
export async function confirmOrThrow({ io, yes, typed, message, prompter }: ConfirmOptions): Promise<void> {
  if (yes) return;
  if (!prompter && !canPrompt(io)) {
    throw new UsageError(`${message} needs confirmation, and there is no terminal to ask on.`, 'Re-run with --yes to confirm non-interactively.');
  }
  const ask = prompter ?? terminalPrompter(io);
  if (typed) {
    const answer = await ask.input(`${message}\nType the environment name (${typed}) to confirm:`);
    if (answer.trim() !== typed) throw new CancelledError(`Confirmation did not match "${typed}"; nothing was changed.`);
    return;
  }
  const ok = await ask.confirm(message, { default: false });
  if (!ok) throw new CancelledError('Cancelled; nothing was changed.');
}
