/**
 * `routergpt completion bash|zsh|fish` (issue 10, part 8): scripts generated from the command
 * tree, exercised by the real shells — bash's completion function called as bash calls it,
 * fish's `complete -C`, zsh's parser — so a new command or flag completes without anyone
 * editing a script.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';

const scripts: Record<string, string> = {};
const dir = tempDir('routergpt-completion-');

beforeAll(async () => {
  for (const shell of ['bash', 'zsh', 'fish']) {
    const result = await runCli(['completion', shell]);
    expect(result.exitCode, result.stderr).toBe(0);
    scripts[shell] = path.join(dir, `routergpt.${shell}`);
    writeFileSync(scripts[shell]!, result.stdout);
  }
});

/** What bash offers for the words typed so far (the last one is being completed). */
async function bashComplete(...words: string[]): Promise<string[]> {
  const line = ['routergpt', ...words];
  const script = `source ${JSON.stringify(scripts.bash)}; COMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}; _routergpt; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await execa('bash', ['-c', script]);
  return stdout.split('\n').filter(Boolean);
}

async function fishComplete(line: string): Promise<string[]> {
  const { stdout } = await execa('fish', ['--no-config', '-c', `source ${JSON.stringify(scripts.fish)}; complete -C ${JSON.stringify(line)}`]);
  return stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!);
}

describe('bash', () => {
  it('completes commands, subcommands, flags and known values', async () => {
    expect(await bashComplete('mig')).toEqual(['migrate']);
    expect(await bashComplete('migrate', '')).toEqual(expect.arrayContaining(['up', 'down', 'status', 'baseline', 'lint', 'hash']));
    expect(await bashComplete('rollback', '--ti')).toEqual(['--tier']);
    expect(await bashComplete('rollback', '--tier', 're')).toEqual(['restore']);
    expect(await bashComplete('deploy', '--env', '')).toEqual(['local', 'staging', 'prod']);
    // Flags of the subcommand, after a global flag and its value.
    expect(await bashComplete('--env', 'prod', 'migrate', 'lint', '--rep')).toEqual(['--reporter']);
  });
});

describe('fish', () => {
  it('completes subcommands with descriptions, flags and values', async () => {
    expect(await fishComplete('routergpt migrate ')).toEqual(expect.arrayContaining(['up', 'down', 'baseline']));
    expect((await fishComplete('routergpt rollback --tier ')).sort()).toEqual(['code', 'geocode', 'migrations', 'purge', 'restore', 'toggle']);
    expect(await fishComplete('routergpt verify --sta')).toEqual(['--stage']);
  });
});

describe('zsh', () => {
  it('is a valid completion function file (#compdef, every command has a function)', async () => {
    const { exitCode, stderr } = await execa('zsh', ['-n', scripts.zsh!], { reject: false });
    expect(exitCode, stderr).toBe(0);
    const text = (await import('node:fs')).readFileSync(scripts.zsh!, 'utf8');
    expect(text.startsWith('#compdef routergpt\n')).toBe(true);
    for (const fn of ['_routergpt_root', '_routergpt_migrate', '_routergpt_migrate_up', '_routergpt_rollback']) expect(text).toContain(`${fn}() {`);
  });

  it('loads and registers itself under compinit', async () => {
    const script = `autoload -U compinit; compinit -u -d ${JSON.stringify(path.join(dir, 'zcompdump'))}; source ${JSON.stringify(scripts.zsh)}; print -r -- $_comps[routergpt]`;
    const { stdout } = await execa('zsh', ['-f', '-c', script]);
    expect(stdout.trim()).toBe('_routergpt_root');
  });
});

it('an unknown shell is a usage error naming the supported ones (exit 2)', async () => {
  const result = await runCli(['completion', 'tcsh']);
  expect(result.exitCode).toBe(2);
  expect(result.stderr).toContain('Use one of bash, zsh, fish');
});
