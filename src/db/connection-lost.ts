/**
 * Whether an error means the database connection went away while it was in use — the session
 * was ended (`pg_terminate_backend`, `idle_session_timeout`), the server restarted or failed
 * over — as opposed to a statement that failed on a live connection. The run lifecycle turns it
 * into "database connection lost" (src/errors.ts), not a bug report.
 */

/** admin/crash shutdown, cannot connect now, idle-session timeout; idle-in-transaction timeout; class 08 (connection exception). */
const LOST_SQLSTATE = /^(57P0[1235]|25P03|08[0-9A-Z]{3})$/;
const LOST_ERRNO = /^(ECONNRESET|EPIPE|ECONNREFUSED|ECONNABORTED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)$/;
/** node-postgres' own words, and libpq's (pg_dump and pg_restore quote them on stderr). */
const LOST_MESSAGE =
  /Connection terminated|Client has encountered a connection error and is not queryable|server closed the connection unexpectedly|terminating connection due to|the database system is (shutting down|starting up|in recovery mode)|no connection to the server|could not receive data from server|connection to server (at|on) .* failed/i;

function code(error: unknown): string | undefined {
  const c = (error as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

export function isConnectionLost(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const c = code(e);
    if (c && (LOST_SQLSTATE.test(c) || LOST_ERRNO.test(c))) return true;
    if (e instanceof Error && LOST_MESSAGE.test(e.message)) return true;
  }
  return false;
}

/** The reason in one line (the server's or the driver's words), for "database connection lost (…)". */
export function connectionLostReason(error: unknown): string {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const c = code(e);
    const message = e instanceof Error ? e.message : String(e);
    const line = message.split('\n').find((l) => LOST_MESSAGE.test(l));
    if (line) return line.replace(/^.*?(FATAL|ERROR):\s*/, '').trim();
    if (c && (LOST_SQLSTATE.test(c) || LOST_ERRNO.test(c))) return message.split('\n')[0]!.trim();
  }
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}
