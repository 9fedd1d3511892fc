import { OperationError } from '../../errors.js';
import { redactSecrets } from '../../config/mask.js';
import { withTrackedChild } from '../../lib/children.js';
import type { DeployHost } from '../../config/types.js';
import type { StepContext, StepResult } from '../define-step.js';

export interface CommandRun {
  host: string;
  command: string;
  exitCode: number | null;
  durationMs: number;
  /** The last lines of stdout+stderr, secrets removed. */
  output: string[];
}

const LOCAL: DeployHost = { name: 'this machine', via: [] };

/** The release variables every deploy (and code-rollback) command gets, from the run and the undo's params. */
export function releaseVariables(ctx: Pick<StepContext, 'release' | 'params'>): Record<string, string> {
  const vars: Record<string, string> = {};
  if (ctx.release) vars.ROUTERGPT_RELEASE = ctx.release;
  if (typeof ctx.params.rollbackRelease === 'string' && ctx.params.rollbackRelease) vars.ROUTERGPT_ROLLBACK_RELEASE = ctx.params.rollbackRelease;
  return vars;
}

/** The host's own variables (a configured host; none for this machine when no hosts are listed). */
export function hostVariables(host: DeployHost): Record<string, string> {
  if (host === LOCAL) return {};
  return { ROUTERGPT_HOST: host.name, ...(host.url ? { ROUTERGPT_HOST_URL: host.url } : {}) };
}

/** A word for a POSIX shell: single-quoted, a quote inside written '\'' (close, escaped quote, reopen). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The program and arguments that run `command` on `host`. Locally the shell runs it and the
 * variables are in its environment; through `via` (ssh) they are set in front of the remote
 * command, quoted, since sshd does not pass the environment on. `export …;` rather than a bare
 * `VAR=… command`: the command may itself expand them (`git checkout "$ROUTERGPT_ROLLBACK_RELEASE"`)
 * or be several commands (`cd app && …`), and a prefix assignment reaches neither.
 */
export function commandFor(host: DeployHost, command: string, vars: Record<string, string> = {}): [string, ...string[]] {
  if (host.via.length === 0) return [command];
  const assignments = Object.entries(vars).map(([name, value]) => `${name}=${shellQuote(value)}`);
  const remote = assignments.length ? `export ${assignments.join(' ')}; ${command}` : command;
  return [host.via[0]!, ...host.via.slice(1), remote];
}

/** The plan's lines: per host, each command as its shell gets it (through `via`: the remote command, variables and all). */
export function describeCommands(hosts: DeployHost[], commands: string[], vars: Record<string, string> = {}): string[] {
  const targets = hosts.length ? hosts : [LOCAL];
  const lines = targets.flatMap((h) => commands.map((c) => (h.via.length ? `${h.name} (${h.via.join(' ')}): ${commandFor(h, c, { ...vars, ...hostVariables(h) }).at(-1)!}` : `${h.name}: ${c}`)));
  const env = Object.entries(vars).map(([name, value]) => `${name}=${value}`);
  const local = targets.filter((h) => h.via.length === 0);
  if (local.some((h) => h !== LOCAL)) env.push('ROUTERGPT_HOST (and ROUTERGPT_HOST_URL) of the host');
  if (env.length && local.length) lines.push(`with ${env.join(' ')} in each command's environment`);
  return lines;
}

/** Run `commands` on one host in order (through its `via`), each with the deploy timeout; the first failure throws naming the host and command. */
export async function runOnHost(ctx: StepContext, host: DeployHost, commands: string[], vars: Record<string, string>, runs: CommandRun[]): Promise<void> {
  const { execa } = await import('execa');
  const { timeoutMs } = ctx.config.deploy.value;
  const cwd = typeof ctx.params.cwd === 'string' ? ctx.params.cwd : undefined;
  const env = { ...vars, ...hostVariables(host) };
  for (const command of commands) {
    ctx.log(`${host.name}: ${command}`);
    const started = performance.now();
    const [file, ...args] = commandFor(host, command, env);
    // Detached (its own process group): the first Ctrl-C lets it finish; tracked, so a second one stops it.
    const child = await withTrackedChild(execa(file, args, { shell: host.via.length === 0, env, all: true, reject: false, timeout: timeoutMs, detached: true, stdin: 'ignore', ...(cwd ? { cwd } : {}), ...(ctx.signal ? { cancelSignal: ctx.signal } : {}) }));
    const output = redactSecrets(String(child.all ?? '')).split('\n').slice(-40);
    const run: CommandRun = { host: host.name, command, exitCode: child.exitCode ?? null, durationMs: Math.round(performance.now() - started), output };
    runs.push(run);
    if (child.timedOut) throw new OperationError(`${host.name}: \`${command}\` timed out after ${timeoutMs} ms.`, 'Raise deploy.timeout or look at the host; the run can be resumed with --resume.');
    if (child.exitCode !== 0) {
      throw new OperationError(`${host.name}: \`${command}\` exited ${child.exitCode ?? 'by signal'}: ${output.filter(Boolean).slice(-3).join(' | ')}`, 'Fix it on the host, then `routergpt deploy --resume`; or `routergpt rollback --tier code`.');
    }
  }
}

/**
 * Run the environment's configured commands (git pull, npm ci, pm2 restart…) with execa: per
 * host (through its `via`, e.g. ssh), in order, output captured, each with a timeout. The first
 * failure stops the step and names the host and command.
 */
export async function runCommands(ctx: StepContext, commands: string[], what: string): Promise<StepResult> {
  const { hosts } = ctx.config.deploy.value;
  const runs: CommandRun[] = [];
  if (commands.length === 0) return { status: 'skipped', summary: `no ${what} commands configured for ${ctx.config.name} (deploy.${what === 'deploy' ? 'commands' : 'rollback_commands'} in routergpt.config.yaml)`, outputs: { runs } };
  const vars = releaseVariables(ctx);
  for (const host of hosts.length ? hosts : [LOCAL]) await runOnHost(ctx, host, commands, vars, runs);
  return { status: 'done', summary: `${runs.length} command(s) on ${(hosts.length ? hosts : [LOCAL]).map((h) => h.name).join(', ')}`, details: runs.map((r) => `${r.host}: ${r.command} → exit ${r.exitCode} (${r.durationMs} ms)`), outputs: { runs } };
}
