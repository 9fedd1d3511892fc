import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { STEPS } from '../../src/steps/registry.js';
import { REPO_ROOT } from '../helpers/cli.js';

function leaves(command: Command, prefix: string): string[] {
  return command.commands.filter((c) => c.name() !== 'help').flatMap((c) => (c.commands.length ? leaves(c, `${prefix} ${c.name()}`) : [`${prefix} ${c.name()}`]));
}

describe('docs stay in step with the code', () => {
  const program = buildProgram({ stdout: process.stdout, stderr: process.stderr, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, env: {}, cwd: REPO_ROOT });
  const commands = readFileSync(path.join(REPO_ROOT, 'docs', 'commands.md'), 'utf8');
  const runbook = readFileSync(path.join(REPO_ROOT, 'docs', 'runbook.md'), 'utf8');

  it.each(leaves(program, 'routergpt'))('%s has a section in docs/commands.md', (name) => {
    expect(commands).toContain(`### ${name}\n`);
  });

  it.each(STEPS.map((s) => s.id))('step %s is described in docs/runbook.md', (id) => {
    expect(runbook).toContain(`\`${id}\``);
  });
});
