/**
 * The child processes the runbook is running right now (deploy commands, pg_dump, pg_restore),
 * so a second Ctrl-C can stop them. They are spawned `detached` — their own process group — so
 * the terminal's first Ctrl-C does not reach them and the running item finishes; the flip side
 * is that nothing stops them when we exit, and a command killed at once would leave them
 * running under PID 1. Hence this registry.
 */
const tracked = new Set<number>();

/** Remember a child by pid until the returned function is called. A child without a pid (spawn failed) is ignored. */
export function trackChild(pid: number | undefined): () => void {
  if (pid === undefined) return () => {};
  tracked.add(pid);
  return () => {
    tracked.delete(pid);
  };
}

/** Track a child (an execa subprocess: a promise with a pid) while it runs: `await withTrackedChild(execa(…))`. */
export async function withTrackedChild<T>(child: PromiseLike<T> & { pid?: number | undefined }): Promise<T> {
  const untrack = trackChild(child.pid);
  try {
    return await child;
  } finally {
    untrack();
  }
}

export function trackedChildren(): number[] {
  return [...tracked];
}

/** Signal the child's process group (it leads one when detached), or the child alone when it does not. */
function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false; // gone already
    }
  }
}

export interface KillChildrenOptions {
  /** How long the children get to exit after `signal` before SIGKILL. */
  graceMs?: number;
}

/**
 * Stop every tracked child and its process group: `signal` now (sent before this returns its
 * promise, so a caller about to exit can rely on it), SIGKILL to whatever is left after the
 * grace period. Resolves when they are all gone, or right after the SIGKILL.
 */
export async function killTrackedChildren(signal: NodeJS.Signals = 'SIGTERM', { graceMs = 2000 }: KillChildrenOptions = {}): Promise<void> {
  let alive = trackedChildren().filter((pid) => signalGroup(pid, signal));
  if (signal === 'SIGKILL') return;
  const deadline = Date.now() + graceMs;
  while (alive.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    alive = alive.filter((pid) => signalGroup(pid, 0));
  }
  for (const pid of alive) signalGroup(pid, 'SIGKILL');
}
