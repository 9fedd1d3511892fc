let claimedBy: string | undefined;

/**
 * A command that shuts itself down gracefully on SIGINT (`serve`) claims the signal, so the
 * CLI's own handler — stop a run between items, exit 130 — stays out of its way. Asked
 * explicitly: other libraries (execa's child cleanup) add SIGINT listeners too, so counting
 * listeners cannot tell.
 */
export function claimInterrupts(by: string): void {
  claimedBy = by;
}

export function interruptsClaimed(): boolean {
  return claimedBy !== undefined;
}
