import { Command, CommanderError, Option } from 'commander';
import { registerBackup } from '../commands/backup/register.js';
import { registerPrivacy } from '../commands/privacy/register.js';
import { registerCompletion } from '../commands/completion/register.js';
import { registerConfig } from '../commands/config/register.js';
import { registerDb } from '../commands/db/register.js';
import { registerGeocode } from '../commands/geocode/register.js';
import { registerInit } from '../commands/init/register.js';
import { registerMigrate } from '../commands/migrate/register.js';
import { registerOpenapi } from '../commands/openapi/register.js';
import { registerServe } from '../commands/serve/register.js';
import { registerVerify } from '../commands/verify/register.js';
import { registerDeploy, registerMaintain } from '../commands/deploy/register.js';
import { registerRollback } from '../commands/rollback/register.js';
import { registerStatus } from '../commands/status/register.js';
import { registerAnalytics } from '../commands/analytics/register.js';
import { registerReport } from '../commands/report/register.js';
import { registerMetrics } from '../commands/metrics/register.js';
import { registerApprove } from '../commands/approve/register.js';
import { registerChecklist } from '../commands/checklist/register.js';
import { registerRouter } from '../commands/router/register.js';
import { registerWatch } from '../commands/watch/register.js';
import { VERSION } from '../version.js';
import { exitCodesHelp } from './exit-codes.js';
import type { IO } from './io.js';

export function buildProgram(io: IO): Command {
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

  // Grouped in --help by what a release engineer reaches for: the runbook first.
  program.commandsGroup('Runbook:');
  registerDeploy(program, io);
  registerRollback(program, io);
  registerWatch(program, io);
  registerStatus(program, io);
  registerApprove(program, io);
  registerMaintain(program, io);
  registerChecklist(program, io);
  program.commandsGroup('Checks:');
  registerVerify(program, io);
  registerAnalytics(program, io);
  registerMetrics(program, io);
  registerReport(program, io);
  program.commandsGroup('API server:');
  registerServe(program, io);
  registerRouter(program, io);
  registerOpenapi(program, io);
  program.commandsGroup('Database:');
  registerMigrate(program, io);
  registerDb(program, io);
  registerBackup(program, io);
  registerGeocode(program, io);
  registerPrivacy(program, io);
  program.commandsGroup('Setup:');
  registerInit(program, io);
  registerConfig(program, io);
  registerCompletion(program, io);

  // Every subcommand inherits the output settings and exit override.
  for (const command of allCommands(program)) {
    command.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) }).showHelpAfterError('(add --help for usage)');
  }
  return program;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}
