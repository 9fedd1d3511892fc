import { describe, expect, it } from 'vitest';
import type { IO } from '../../src/cli/io.js';
import { buildProgram } from '../../src/cli/program.js';
import { COMMAND_MODULES, loadProgram, modulesFor } from '../../src/cli/program-root.js';
import { REPO_ROOT } from '../helpers/cli.js';

const io = { stdout: process.stdout, stderr: process.stderr, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false, color: false, env: {}, cwd: REPO_ROOT } as IO;
const names = (c: { commands: readonly { name(): string }[] }) => c.commands.map((x) => x.name());

/** Issue 16: the CLI imports only the commands its command line names (CLI start-up ÷ node -e 0). */
describe('CLI start-up loads only the commands it runs', () => {
  it('the lazily loaded whole tree is the one tests and docs walk, in the same order', async () => {
    const lazy = await loadProgram(io, ['--help']);
    expect(names(lazy)).toEqual(names(buildProgram(io)));
    expect(names(lazy).sort()).toEqual(COMMAND_MODULES.flatMap((m) => m.names).sort());
  });

  it('a named command loads its module only; --version alone loads none; help, unknown words and completion load all', async () => {
    expect(names(await loadProgram(io, ['deploy', '--yes']))).toEqual(['deploy']);
    expect(names(await loadProgram(io, ['--env', 'staging', 'migrate', 'up']))).toEqual(['migrate']);
    expect(names(await loadProgram(io, ['smoke']))).toEqual(['verify', 'smoke']);
    expect(modulesFor(['--version'])).toEqual([]);
    expect(modulesFor(['-V'])).toEqual([]);
    expect(modulesFor([])).toBe(COMMAND_MODULES);
    expect(modulesFor(['--version', '--help'])).toBe(COMMAND_MODULES);
    expect(modulesFor(['deploi'])).toBe(COMMAND_MODULES);
    expect(modulesFor(['completion', 'bash'])).toBe(COMMAND_MODULES);
  });
});
