// The whole command tree, loaded at once: for tests and scripts that walk it (docs, exit codes,
// hints). The CLI entry point uses loadProgram (program-root.ts), which imports only the
// commands its command line names; both assemble the same table, so they cannot drift.
import type { Command } from 'commander';
import { registerAnalytics } from '../commands/analytics/register.js';
import { registerApprove } from '../commands/approve/register.js';
import { registerBackup } from '../commands/backup/register.js';
import { registerChecklist } from '../commands/checklist/register.js';
import { registerCompletion } from '../commands/completion/register.js';
import { registerConfig } from '../commands/config/register.js';
import { registerDb } from '../commands/db/register.js';
import { registerDeploy, registerMaintain } from '../commands/deploy/register.js';
import { registerGeocode } from '../commands/geocode/register.js';
import { registerInit } from '../commands/init/register.js';
import { registerMetrics } from '../commands/metrics/register.js';
import { registerMigrate } from '../commands/migrate/register.js';
import { registerOpenapi } from '../commands/openapi/register.js';
import { registerPrivacy } from '../commands/privacy/register.js';
import { registerReport } from '../commands/report/register.js';
import { registerRollback } from '../commands/rollback/register.js';
import { registerRouter } from '../commands/router/register.js';
import { registerServe } from '../commands/serve/register.js';
import { registerStatus } from '../commands/status/register.js';
import { registerVerify } from '../commands/verify/register.js';
import { registerWatch } from '../commands/watch/register.js';
import type { IO } from './io.js';
import { assembleProgram, COMMAND_MODULES, type Register } from './program-root.js';

const REGISTERS: Record<string, Register> = {
  registerAnalytics,
  registerApprove,
  registerBackup,
  registerChecklist,
  registerCompletion,
  registerConfig,
  registerDb,
  registerDeploy,
  registerMaintain,
  registerGeocode,
  registerInit,
  registerMetrics,
  registerMigrate,
  registerOpenapi,
  registerPrivacy,
  registerReport,
  registerRollback,
  registerRouter,
  registerServe,
  registerStatus,
  registerVerify,
  registerWatch,
};

export function buildProgram(io: IO): Command {
  return assembleProgram(
    io,
    COMMAND_MODULES.map((entry) => {
      const register = REGISTERS[entry.register];
      if (!register) throw new Error(`${entry.register} (COMMAND_MODULES) is not imported in src/cli/program.ts`);
      return { entry, register };
    }),
  );
}
