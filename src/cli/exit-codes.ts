import { ExitCode, type ExitCodeValue } from '../errors.js';

export { ExitCode, type ExitCodeValue };

export const EXIT_CODE_TABLE: ReadonlyArray<{ code: ExitCodeValue; meaning: string }> = [
  { code: ExitCode.ok, meaning: 'everything passed (warnings allowed unless --strict)' },
  { code: ExitCode.failed, meaning: 'a check or step failed' },
  { code: ExitCode.usage, meaning: 'usage or configuration error — nothing was changed' },
  { code: ExitCode.strictWarnings, meaning: 'warnings under --strict' },
  { code: ExitCode.lockHeld, meaning: 'another run holds the lock' },
  { code: ExitCode.cancelled, meaning: 'cancelled by the user' },
];

export function exitCodesHelp(): string {
  return ['Exit codes:', ...EXIT_CODE_TABLE.map((e) => `  ${String(e.code).padEnd(4)} ${e.meaning}`)].join('\n');
}
