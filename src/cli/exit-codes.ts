/** The CLI's exit codes — the single source for main.ts, --help and docs/exit-codes.md. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  strictWarnings: 3,
  lockHeld: 4,
  cancelled: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

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
