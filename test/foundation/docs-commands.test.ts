import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { leafCommands, syncCommandDocs } from '../../src/cli/command-docs.js';
import { buildProgram } from '../../src/cli/program.js';
import { STEPS } from '../../src/steps/registry.js';
import { REPO_ROOT } from '../helpers/cli.js';

describe('docs stay in step with the code', () => {
  const program = buildProgram({ stdout: process.stdout, stderr: process.stderr, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, env: {}, cwd: REPO_ROOT });
  const commands = readFileSync(path.join(REPO_ROOT, 'docs', 'commands.md'), 'utf8');
  const runbook = readFileSync(path.join(REPO_ROOT, 'docs', 'runbook.md'), 'utf8');

  it.each(leafCommands(program).map((c) => c.name))('%s has a section in docs/commands.md', (name) => {
    expect(commands).toContain(`### ${name}\n`);
  });

  it('the usage blocks of docs/commands.md are what the command tree prints (run `npm run docs:commands` after changing a flag)', () => {
    const { text, missing } = syncCommandDocs(commands, program);
    expect(missing).toEqual([]);
    // Compared block by block, so a failure names the command whose flags changed.
    const blocks = (md: string) => md.split('<!-- generated from the command tree: ').slice(1).map((b) => b.slice(0, b.indexOf('<!-- end generated -->')));
    expect(blocks(commands)).toEqual(blocks(text));
    expect(text === commands, 'docs/commands.md is out of step with the command tree: run `npm run docs:commands`').toBe(true);
  });

  it('the generator keeps the prose and is idempotent', () => {
    const once = syncCommandDocs('### routergpt status\nRecent runs.\n', program).text;
    expect(once).toMatch(/^### routergpt status\n<!-- generated from the command tree: routergpt status --help \(npm run docs:commands\) -->\n```text\nUsage: routergpt status \[options\]\n/);
    expect(once).toContain('--limit <n>');
    expect(once.endsWith('<!-- end generated -->\nRecent runs.\n')).toBe(true);
    expect(syncCommandDocs(once, program).text).toBe(once);
  });

  it.each(STEPS.map((s) => s.id))('step %s is described in docs/runbook.md', (id) => {
    expect(runbook).toContain(`\`${id}\``);
  });
});
