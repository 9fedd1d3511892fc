import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import v8 from 'node:v8';
import type { PGlite } from '@electric-sql/pglite';
import { formatDuration } from '../config/duration.js';
import { LockHeldError } from '../errors.js';
import { patchQueryQueue } from './embedded-queue.js';
import { dumpPglite, requestDump, startDumpChannel } from './embedded-dump.js';
import { isProcessAlive } from '../lib/process-alive.js';
import { routergptCacheDir, seedFromTemplate, type TemplateVariant } from './embedded-template.js';

/**
 * The embedded database: PGlite (PostgreSQL compiled to WebAssembly) kept in a data directory,
 * served on a loopback port through pglite-socket so every command and the API server use the
 * same `pg` code on every environment.
 *
 * PGlite has ONE backend: two processes must never open the same data directory. A lock file
 * (like postmaster.pid) guards it. The owner writes its pid and port there; any other
 * process finding a live owner connects to the owner's socket instead of opening the files.
 */
export interface EmbeddedDatabase {
  url: string;
  /** True when this process opened the data directory; false when it joined another's socket. */
  owner: boolean;
  ownerPid: number;
  /**
   * The PGlite instance, only in the owner process: tools that need the database itself rather
   * than a connection (the WebAssembly pg_dump of pglite-tools) use it. Statements sent through
   * it share the one backend with the socket's clients.
   */
  pglite?: PGlite;
  /**
   * Run the WebAssembly pg_dump (plain SQL): in the owner on its PGlite, in a process that
   * joined by asking the owner over its dump channel (embedded-dump.ts). Absent when the owner
   * offers no dump channel (an older routergpt).
   */
  dump?: (args: string[]) => Promise<string>;
  close(): Promise<void>;
}

export interface OpenEmbeddedOptions {
  dataDir: string;
  /** How long to wait for another process that is still starting the database. */
  startWaitMs?: number;
  /** On close, how long to wait for processes that joined through our socket. */
  drainMs?: number;
  /** Who is opening it, recorded in the lock file for error messages. */
  command?: string;
  /**
   * Where the ready data directory a fresh state is copied from is cached (embedded-template.ts;
   * default `$XDG_CACHE_HOME/routergpt`); false runs initdb in place.
   */
  templateCache?: string | false;
  /**
   * For a fresh state, a template variant to try before the plain one (embedded-premigrated.ts:
   * the cluster already migrated, for a caller about to migrate it to the latest version).
   */
  templateVariant?: TemplateVariant;
  /**
   * How V8 compiles PGlite's WebAssembly (9 MB). 'baseline' (the default: Liftoff only) suits a
   * command that runs for seconds: V8's default re-compiles hot functions with TurboFan on
   * background threads, which on two loaded cores delayed a fresh `migrate up` by 0.3–0.9 s
   * (issue 16). 'optimized' keeps that for long-running processes (serve). A V8 flag, so it is
   * the process's: the first embedded database opened in a process decides.
   */
  wasmTier?: 'baseline' | 'optimized';
}

interface LockInfo {
  pid: number;
  host?: string;
  port?: number;
  /** The owner's dump channel (embedded-dump.ts). */
  dumpPort?: number;
  dumpToken?: string;
  startedAt: string;
  command?: string;
}

const LOCK_NAME = 'routergpt.lock';


function readLock(file: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return undefined; // missing, or half-written by a process that is starting
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function urlFor(host: string, port: number): string {
  return `postgres://postgres@${host}:${port}/postgres`;
}

export async function openEmbedded({ dataDir, startWaitMs = 30_000, drainMs = 300_000, command = 'routergpt', templateCache, templateVariant, wasmTier = 'baseline' }: OpenEmbeddedOptions): Promise<EmbeddedDatabase> {
  mkdirSync(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, LOCK_NAME);
  const deadline = Date.now() + startWaitMs;

  for (;;) {
    let fd: number;
    try {
      fd = openSync(lockFile, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const info = readLock(lockFile);
      if (info && !isProcessAlive(info.pid)) {
        unlinkSync(lockFile); // stale: its owner died without cleaning up
        continue;
      }
      if (info?.port && info.host && (await canConnect(info.host, info.port))) {
        const { host, dumpPort, dumpToken, pid } = info;
        return {
          url: urlFor(host, info.port),
          owner: false,
          ownerPid: pid,
          ...(dumpPort && dumpToken ? { dump: (args: string[]) => requestDump({ host, port: dumpPort, token: dumpToken }, args, pid) } : {}),
          close: async () => {},
        };
      }
      if (Date.now() > deadline) {
        throw new LockHeldError(
          `The embedded database in ${dataDir} is held by pid ${info?.pid ?? '?'} (${info?.command ?? 'unknown command'}, since ${info?.startedAt ?? '?'}), which is not serving it (waited ${formatDuration(startWaitMs)}).`,
          `Wait for that process to finish or stop it; if it is gone, delete ${lockFile}.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    const info: LockInfo = { pid: process.pid, startedAt: new Date().toISOString(), command };
    writeSync(fd, JSON.stringify(info));
    closeSync(fd);
    try {
      return await startOwner(dataDir, lockFile, info, drainMs, templateCache ?? routergptCacheDir(), templateVariant, wasmTier);
    } catch (error) {
      unlinkSync(lockFile);
      throw error;
    }
  }
}

let wasmTierSet = false;

function setWasmTier(tier: 'baseline' | 'optimized'): void {
  if (wasmTierSet) return;
  wasmTierSet = true;
  if (tier === 'baseline') v8.setFlagsFromString('--liftoff-only');
}

async function startOwner(dataDir: string, lockFile: string, info: LockInfo, drainMs: number, templateCache: string | false, templateVariant: TemplateVariant | undefined, wasmTier: 'baseline' | 'optimized'): Promise<EmbeddedDatabase> {
  setWasmTier(wasmTier);
  // Loaded lazily: PGlite is a large WebAssembly module that only this path needs.
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-socket')]);
  const pgdata = path.join(dataDir, 'pgdata');
  // A fresh state: copy the cached, verified result of initdb instead of running it (we hold the lock).
  if (templateCache !== false) await seedFromTemplate(pgdata, templateCache, templateVariant);
  const db = await PGlite.create({ dataDir: pgdata });
  // maxConnections > 1: a pg Pool opens several connections (with 1 it gets ECONNRESET).
  // They share one backend, so statements serialise; that is the embedded trade-off.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 100 });
  patchQueryQueue(server);
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const [host, portText] = server.getServerConn().split(':');
  const port = Number(portText);
  let channel: Awaited<ReturnType<typeof startDumpChannel>>;
  try {
    channel = await startDumpChannel(db);
  } catch (error) {
    await server.stop();
    await db.close();
    throw error;
  }
  writeFileSync(lockFile, JSON.stringify({ ...info, host, port, dumpPort: channel.port, dumpToken: channel.token }));
  let closed = false;
  return {
    url: urlFor(host ?? '127.0.0.1', port),
    owner: true,
    ownerPid: process.pid,
    pglite: db,
    dump: (args: string[]) => dumpPglite(db, args),
    close: async () => {
      if (closed) return;
      closed = true;
      // Other routergpt processes may have joined through our socket (our own pool is closed
      // by now): let them finish before the database goes away under them.
      // Polled often at first: our own pool's sockets close a moment after pool.end() returns,
      // and every command's exit waits here (issue 16) — then every 100 ms for other processes.
      const drainStarted = Date.now();
      const drainUntil = drainStarted + drainMs;
      while (server.getStats().activeConnections > 0 && Date.now() < drainUntil) {
        await new Promise((resolve) => setTimeout(resolve, Date.now() - drainStarted < 500 ? 5 : 100));
      }
      await channel.close();
      await server.stop();
      await db.close();
      try {
        unlinkSync(lockFile);
      } catch {
        /* already gone */
      }
    },
  };
}
