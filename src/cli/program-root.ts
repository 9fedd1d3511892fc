// The command tree's root and its table of top-level commands, without the commands themselves:
// the CLI entry point loads only the register modules its command line names (STYLE.md §15), so
// `routergpt --version` and `routergpt deploy …` do not pay for importing the other twenty.
import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../version.js';
import { exitCodesHelp } from './exit-codes.js';
import type { IO } from './io.js';

export type Register = (program: Command, io: IO) => void;

export interface CommandModule {
  /** The `--help` group the commands are listed under. */
  group: string;
  /** The top-level commands the module registers. */
  names: readonly string[];
  /** The register function's name (src/cli/program.ts imports it eagerly for tests and scripts). */
  register: string;
  /** Import its module (src/commands/<name>/register.ts) and return the register function. */
  load: () => Promise<Register>;
  /** The command walks the whole tree (shell completion): naming it loads every module. */
  needsAll?: true;
}

/** Every top-level command, in `--help` order, grouped by what a release engineer reaches for: the runbook first. */
export const COMMAND_MODULES: readonly CommandModule[] = [
  { group: 'Runbook:', names: ['deploy'], register: 'registerDeploy', load: async () => (await import('../commands/deploy/register.js')).registerDeploy },
  { group: 'Runbook:', names: ['rollback'], register: 'registerRollback', load: async () => (await import('../commands/rollback/register.js')).registerRollback },
  { group: 'Runbook:', names: ['watch'], register: 'registerWatch', load: async () => (await import('../commands/watch/register.js')).registerWatch },
  { group: 'Runbook:', names: ['status'], register: 'registerStatus', load: async () => (await import('../commands/status/register.js')).registerStatus },
  { group: 'Runbook:', names: ['approve'], register: 'registerApprove', load: async () => (await import('../commands/approve/register.js')).registerApprove },
  { group: 'Runbook:', names: ['maintain'], register: 'registerMaintain', load: async () => (await import('../commands/deploy/register.js')).registerMaintain },
  { group: 'Runbook:', names: ['checklist'], register: 'registerChecklist', load: async () => (await import('../commands/checklist/register.js')).registerChecklist },
  { group: 'Checks:', names: ['verify', 'smoke'], register: 'registerVerify', load: async () => (await import('../commands/verify/register.js')).registerVerify },
  { group: 'Checks:', names: ['analytics'], register: 'registerAnalytics', load: async () => (await import('../commands/analytics/register.js')).registerAnalytics },
  { group: 'Checks:', names: ['metrics'], register: 'registerMetrics', load: async () => (await import('../commands/metrics/register.js')).registerMetrics },
  { group: 'Checks:', names: ['report'], register: 'registerReport', load: async () => (await import('../commands/report/register.js')).registerReport },
  { group: 'API server:', names: ['serve'], register: 'registerServe', load: async () => (await import('../commands/serve/register.js')).registerServe },
  { group: 'API server:', names: ['router'], register: 'registerRouter', load: async () => (await import('../commands/router/register.js')).registerRouter },
  { group: 'API server:', names: ['openapi'], register: 'registerOpenapi', load: async () => (await import('../commands/openapi/register.js')).registerOpenapi },
  { group: 'Database:', names: ['migrate'], register: 'registerMigrate', load: async () => (await import('../commands/migrate/register.js')).registerMigrate },
  { group: 'Database:', names: ['db'], register: 'registerDb', load: async () => (await import('../commands/db/register.js')).registerDb },
  { group: 'Database:', names: ['backup'], register: 'registerBackup', load: async () => (await import('../commands/backup/register.js')).registerBackup },
  { group: 'Database:', names: ['geocode'], register: 'registerGeocode', load: async () => (await import('../commands/geocode/register.js')).registerGeocode },
  { group: 'Database:', names: ['privacy'], register: 'registerPrivacy', load: async () => (await import('../commands/privacy/register.js')).registerPrivacy },
  { group: 'Setup:', names: ['init'], register: 'registerInit', load: async () => (await import('../commands/init/register.js')).registerInit },
  { group: 'Setup:', names: ['config'], register: 'registerConfig', load: async () => (await import('../commands/config/register.js')).registerConfig },
  { group: 'Setup:', names: ['completion'], register: 'registerCompletion', needsAll: true, load: async () => (await import('../commands/completion/register.js')).registerCompletion },
];

/**
 * The modules a command line needs: those of the top-level commands it names (a word equal to a
 * command name; an option value that happens to be one only loads a module more). None named:
 * every module — `--help`, a bare `routergpt`, `help`, an unknown command's suggestions need the
 * whole tree — unless the line is only options and asks for the version, which the root answers.
 */
export function modulesFor(args: readonly string[]): readonly CommandModule[] {
  const named = COMMAND_MODULES.filter((m) => m.names.some((n) => args.includes(n)));
  if (named.some((m) => m.needsAll)) return COMMAND_MODULES;
  if (named.length > 0) return named;
  if (args.length > 0 && args.every((a) => a.startsWith('-')) && args.some((a) => a === '--version' || a === '-V') && !args.some((a) => a === '--help' || a === '-h')) return [];
  return COMMAND_MODULES;
}

/** The program with the given modules' commands registered (in table order), each inheriting the output settings and exit override. */
export function assembleProgram(io: IO, modules: ReadonlyArray<{ entry: CommandModule; register: Register }>): Command {
  const program = new Command('routergpt')
    .description('RouterGPT: the API server and the executable production-deployment runbook that ships it.')
    .version(VERSION, '-V, --version')
    .addOption(new Option('-e, --env <name>', 'environment to act on (local, staging, prod, …)').env('ROUTERGPT_ENV'))
    .option('-c, --config <file>', 'config file (default: ./routergpt.config.yaml)')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--no-color', 'disable colours (also NO_COLOR)')
    .option('--verbose', 'show debug details and stack traces')
    .option('--as <id>', 'who is acting (an e-mail or login): recorded with every answer, approval and sign-off (default: git config user.email, else the CI actor, else the OS account)')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride()
    .addHelpText('after', `\n${exitCodesHelp()}\n\nDocs: docs/commands.md, docs/configuration.md, docs/exit-codes.md`);
  program.enablePositionalOptions(false);
  // `migrate repair --version NNN` shares the flag, and commander lets the program take its own
  // options anywhere on the line: with a value, --version is that command's (read from the globals
  // there); bare, it prints ours.
  const versionFlag = program.options.find((o) => o.long === '--version')!;
  versionFlag.optional = true;
  (program as unknown as { removeAllListeners(event: string): void }).removeAllListeners('option:version');
  program.on('option:version', (value?: string | null) => {
    if (value === undefined || value === null) {
      io.stdout.write(`${VERSION}\n`);
      throw new CommanderError(0, 'commander.version', VERSION);
    }
    program.setOptionValue('version', value);
  });

  for (const { entry, register } of modules) {
    program.commandsGroup(entry.group);
    register(program, io);
  }

  // Every subcommand inherits the output settings and exit override.
  for (const command of allCommands(program)) {
    command.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) }).showHelpAfterError('(add --help for usage)');
  }
  return program;
}

/** The program for a command line (`process.argv.slice(2)`): only the register modules it needs are imported. */
export async function loadProgram(io: IO, args: readonly string[]): Promise<Command> {
  const entries = modulesFor(args);
  const loaded = await Promise.all(
    entries.map(async (entry) => ({ entry, register: await entry.load() })),
  );
  return assembleProgram(io, loaded);
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}
