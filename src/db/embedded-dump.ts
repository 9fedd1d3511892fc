import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { OperationError } from '../errors.js';

/**
 * The WebAssembly pg_dump of pglite-tools talks to the PGlite object, not to a socket, so only
 * the process that opened the embedded database can run it (the system pg_dump, PostgreSQL 15,
 * refuses PGlite's PostgreSQL 18). The owner therefore also listens on a second loopback port,
 * the dump channel, recorded in the lock file with a random token: a process that joined the
 * owner's socket (a `deploy` while `routergpt serve` runs) asks the owner for the dump there.
 *
 * Protocol: one JSON line `{"token","op":"dump","args":[…]}` in; one JSON line
 * `{"ok":true,"sql":"…"}` or `{"ok":false,"message":"…"}` out, then the connection closes.
 */

/** The only pg_dump options a caller may pass (the dump channel runs no arbitrary arguments). */
const ALLOWED_ARGS = [/^--no-owner$/, /^--exclude-schema=[A-Za-z0-9_]+$/];

/** Run the WebAssembly pg_dump on this process's PGlite and return the plain SQL. */
export async function dumpPglite(pglite: PGlite, args: string[]): Promise<string> {
  const bad = args.find((arg) => !ALLOWED_ARGS.some((re) => re.test(arg)));
  if (bad !== undefined) throw new OperationError(`pg_dump option ${JSON.stringify(bad)} is not allowed on the embedded database.`, 'Use --no-owner and --exclude-schema=NAME only.');
  const { pgDump } = await import('@electric-sql/pglite-tools');
  // One backend: a client in the middle of a transaction would have pg_dump's own BEGIN land
  // inside it. Wait (briefly) for a quiet moment; the dump itself runs synchronously.
  for (let i = 0; i < 100 && pglite.isInTransaction(); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
  try {
    const dump = await pgDump({ pg: pglite, args });
    return await dump.text();
  } finally {
    // pg_dump's session settings (restrict_nonsystem_relation_kind = view, an empty search_path…)
    // stay on PGlite's one shared backend and would break every other connection: reset them.
    await pglite.exec('RESET ALL');
  }
}

export interface DumpChannel {
  host: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** The owner's side: serve dumps of `pglite` on a loopback port. */
export async function startDumpChannel(pglite: PGlite): Promise<DumpChannel> {
  const token = randomBytes(24).toString('hex');
  let queue: Promise<unknown> = Promise.resolve();
  const server = net.createServer((socket) => {
    let input = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      input += chunk;
      const newline = input.indexOf('\n');
      if (newline < 0) {
        if (input.length > 64 * 1024) socket.destroy();
        return;
      }
      socket.removeAllListeners('data');
      let request: { token?: unknown; op?: unknown; args?: unknown };
      try {
        request = JSON.parse(input.slice(0, newline)) as typeof request;
      } catch {
        socket.end(`${JSON.stringify({ ok: false, message: 'not a JSON request' })}\n`);
        return;
      }
      if (request.token !== token) {
        socket.end(`${JSON.stringify({ ok: false, message: 'wrong token' })}\n`);
        return;
      }
      if (request.op !== 'dump' || !Array.isArray(request.args) || !request.args.every((a) => typeof a === 'string')) {
        socket.end(`${JSON.stringify({ ok: false, message: 'unknown request' })}\n`);
        return;
      }
      const args = request.args as string[];
      // One dump at a time: two pg_dumps on the one backend would interleave.
      const job = queue.then(() => dumpPglite(pglite, args));
      queue = job.catch(() => {});
      job.then(
        (sql) => socket.end(`${JSON.stringify({ ok: true, sql })}\n`),
        (error: unknown) => socket.end(`${JSON.stringify({ ok: false, message: error instanceof Error ? error.message : String(error) })}\n`),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port: address.port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

/** The joining side: ask the owner (pid `ownerPid`) for a dump through its dump channel. */
export function requestDump(channel: { host: string; port: number; token: string }, args: string[], ownerPid: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: channel.host, port: channel.port });
    let output = '';
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify({ token: channel.token, op: 'dump', args })}\n`));
    socket.on('data', (chunk: string) => {
      output += chunk;
    });
    socket.once('error', (error) =>
      reject(new OperationError(`Cannot ask the process serving the embedded database (pid ${ownerPid}) for a dump: ${error.message}.`, 'Stop that process (for example `routergpt serve`), then run the backup again.')),
    );
    socket.once('end', () => {
      let reply: { ok?: boolean; sql?: string; message?: string };
      try {
        reply = JSON.parse(output) as typeof reply;
      } catch {
        reject(new OperationError(`The process serving the embedded database (pid ${ownerPid}) sent an incomplete dump.`, 'Run the backup again; if it persists, stop that process (`routergpt serve`) and run it again.'));
        return;
      }
      if (reply.ok && typeof reply.sql === 'string') resolve(reply.sql);
      else reject(new OperationError(`The process serving the embedded database (pid ${ownerPid}) could not dump it: ${reply.message ?? 'no reason given'}.`, 'Stop that process (for example `routergpt serve`), then run the backup again.'));
    });
  });
}
