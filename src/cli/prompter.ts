import type { IO } from './io.js';

/**
 * Every question the CLI asks goes through a Prompter (STYLE.md §17): the terminal one uses
 * @inquirer/prompts on stderr; tests inject a scripted one and drive every interactive path
 * in-process (the manual items, the typed production confirmation, the final sign-off).
 */
export interface Prompter {
  confirm(message: string, options?: { default?: boolean }): Promise<boolean>;
  input(message: string, options?: { default?: string; required?: boolean }): Promise<string>;
}

/** The one rule for interactivity: a person can answer only when stdin and stderr are terminals. */
export function canPrompt(io: Pick<IO, 'stdinIsTTY' | 'stderrIsTTY'>): boolean {
  return io.stdinIsTTY && io.stderrIsTTY;
}

/** The terminal prompter (inquirer loads only when a question is asked: `--help` stays fast). */
export function terminalPrompter(io: IO): Prompter {
  return {
    async confirm(message, options) {
      const { confirm } = await import('@inquirer/prompts');
      const { styleText } = await import('node:util');
      const paint = (color: 'green' | 'red', text: string) => (io.color ? styleText(color, text) : text);
      // The answer carries the mark, not the prompt: inquirer's green ✔ would tick a "No" too.
      return confirm(
        { message, default: options?.default ?? false, theme: { prefix: { done: '›' } }, transformer: (yes: boolean) => (yes ? paint('green', '✔ Yes') : paint('red', '✖ No')) },
        { output: io.stderr },
      );
    },
    async input(message, options) {
      const { input } = await import('@inquirer/prompts');
      return input({ message, ...(options?.default !== undefined ? { default: options.default } : {}), required: options?.required ?? false }, { output: io.stderr });
    },
  };
}
