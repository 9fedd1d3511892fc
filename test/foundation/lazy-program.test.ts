import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IO } from '../../src/cli/io.js';
import { buildProgram } from '../../src/cli/program.js';
import { COMMAND_MODULES, loadProgram, modulesFor } from '../../src/cli/program-root.js';
import { BIN, REPO_ROOT } from '../helpers/cli.js';

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

/**
 * Issue 16: `routergpt --version` alone is answered by bin/routergpt.js from dist/version.js,
 * before commander or any CLI module is imported (the CommonJS module cache names what was
 * loaded; `--help`, which goes through the program, is the control).
 */
describe('routergpt --version loads almost nothing', () => {
  const loaded = (args: string[]) => {
    const atExit = `import { createRequire } from 'node:module';
      const require = createRequire(${JSON.stringify(`${REPO_ROOT}/`)});
      process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));`;
    const child = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(atExit)}`, BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(child.status, child.stderr).toBe(0);
    const line = child.stderr.split('\n').find((l) => l.startsWith('LOADED '))!;
    return { stdout: child.stdout, modules: JSON.parse(line.slice('LOADED '.length)) as string[] };
  };
  const version = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

  it('prints the package version for --version and -V without loading commander; --help loads it', () => {
    for (const flag of ['--version', '-V']) {
      const run = loaded([flag]);
      expect(run.stdout).toBe(`${version}\n`);
      expect(run.modules.filter((m) => m.includes('/node_modules/'))).toEqual([]);
    }
    expect(loaded(['--version', '--json']).stdout).toBe(`${version}\n`); // through the program, same answer
    expect(loaded(['--help']).modules.some((m) => m.includes('/node_modules/commander/'))).toBe(true);
  });
});
