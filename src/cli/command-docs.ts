/**
 * The usage and flag blocks of docs/commands.md, generated from the command tree — the same
 * Help commander prints for `--help`, at a fixed width — between markers under each command's
 * heading; the prose around them stays hand-written. `npm run docs:commands` rewrites them,
 * and test/foundation/docs-commands.test.ts fails when they are out of step.
 */
import type { Command } from 'commander';

export const DOCS_WIDTH = 100;
const open = (name: string) => `<!-- generated from the command tree: ${name} --help (npm run docs:commands) -->`;
const CLOSE = '<!-- end generated -->';

/** `routergpt migrate lint` → the command. */
export function leafCommands(command: Command, prefix = 'routergpt'): Array<{ name: string; command: Command }> {
  return command.commands
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => (c.commands.length ? leafCommands(c, `${prefix} ${c.name()}`) : [{ name: `${prefix} ${c.name()}`, command: c }]));
}

/** Usage, arguments and options of one command (no description: that is the prose's job), as `--help` shows them. */
export function usageBlock(command: Command): string {
  const help = command.createHelp();
  help.helpWidth = DOCS_WIDTH;
  help.prepareContext({ helpWidth: DOCS_WIDTH, outputHasColors: false });
  const termWidth = help.padWidth(command, help);
  const item = (term: string, description: string) => help.formatItem(term, termWidth, description, help);
  const usage = `Usage: ${help.commandUsage(command)}`;
  const args = help.visibleArguments(command).map((a) => item(help.argumentTerm(a), help.argumentDescription(a)));
  const options = help.visibleOptions(command).map((o) => item(help.optionTerm(o), help.optionDescription(o)));
  return [usage, ...(args.length ? ['', 'Arguments:', ...args] : []), ...(options.length ? ['', 'Options:', ...options] : [])].join('\n').replace(/[ \t]+$/gm, '');
}

/** docs/commands.md with every leaf command's block inserted or brought up to date; `missing`: commands without a section. */
export function syncCommandDocs(markdown: string, program: Command): { text: string; missing: string[] } {
  let text = markdown;
  const missing: string[] = [];
  for (const { name, command } of leafCommands(program)) {
    const heading = `### ${name}\n`;
    const at = text.indexOf(heading);
    if (at === -1) {
      missing.push(name);
      continue;
    }
    const block = `${open(name)}\n\`\`\`text\n${usageBlock(command)}\n\`\`\`\n${CLOSE}\n`;
    const after = at + heading.length;
    const existing = text.startsWith(open(name), after) ? text.indexOf(`${CLOSE}\n`, after) : -1;
    text = existing === -1 ? text.slice(0, after) + block + text.slice(after) : text.slice(0, after) + block + text.slice(existing + CLOSE.length + 1);
  }
  return { text, missing };
}
