import type { Command } from 'commander';
import { createContext, type CommandContext, type GlobalOptions } from './context.js';
import type { IO } from './io.js';

/** A command's action receives its context and its own options; it returns nothing and never exits. */
export type Action<O> = (ctx: CommandContext, options: O, command: Command) => Promise<void>;

/**
 * Wraps a command's action for commander. Its own module, not program.ts: every
 * commands/<name>/register.ts imports it, and program.ts imports every register.ts.
 */
export function action<O>(io: IO, fn: Action<O>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const globals = command.optsWithGlobals<GlobalOptions>();
    // `--as` is checked on every command, whether or not it records anything (an empty or multi-line one is exit 2).
    if (globals.as !== undefined) {
      const { parseIdentity } = await import('../runbook/identity.js');
      parseIdentity(globals.as, '--as');
    }
    await fn(createContext(io, globals), command.opts() as O, command);
  };
}
