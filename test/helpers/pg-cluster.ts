import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Cluster {
  url: string;
  /** `pg_ctl restart -m fast`: sessions are ended (57P01), the server is back on the same port when it resolves. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m fast`, keeping the data: connections are refused until `start()`. */
  halt(): Promise<void>;
  /** Start a halted cluster again (same port, same data). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

function pgBinDir(): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(path.join(base, v, 'bin', 'initdb'))) return path.join(base, v, 'bin');
  }
  return ''; // rely on PATH
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** initdb + pg_ctl into a temp dir on a free port; as root, run them as the postgres OS user. */
export interface ClusterOptions {
  /** With a password, the cluster uses scram-sha-256 authentication instead of trust. */
  password?: string;
  /** Extra server settings, `name=value` (e.g. shared_preload_libraries=pg_stat_statements). */
  settings?: string[];
}

export async function startThrowawayCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const bin = pgBinDir();
  const tool = (name: string) => (bin ? path.join(bin, name) : name);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'routergpt-pg-'));
  chmodSync(dir, 0o777);
  const isRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    if (isRoot) {
      execFileSync('chown', ['-R', 'postgres:postgres', dir]);
      return execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' });
    }
    return execFileSync(cmd, args, { stdio: 'pipe' });
  };
  const port = await freePort();
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  run('mkdir', ['-p', sock]);
  const auth: string[] = ['-A', 'trust'];
  if (options.password) {
    const pwfile = path.join(dir, 'pwfile');
    writeFileSync(pwfile, `${options.password}\n`);
    auth.splice(0, 2, '-A', 'scram-sha-256', `--pwfile=${pwfile}`);
  }
  run(tool('initdb'), ['-D', data, '-U', 'postgres', ...auth, '-E', 'UTF8', '--no-sync']);
  const serverOptions = `-p ${port} -k ${sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=300${(options.settings ?? []).map((x) => ` -c ${x}`).join('')}`;
  run(tool('pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', serverOptions, 'start']);
  // Asynchronous: a test serving HTTP in this process keeps its event loop while PostgreSQL goes down and up.
  const pgCtl = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const argv = isRoot ? ['-u', 'postgres', '--', tool('pg_ctl'), ...args] : args;
      execFile(isRoot ? 'runuser' : tool('pg_ctl'), argv, (error, _stdout, stderr) => (error ? reject(new Error(`pg_ctl ${args.at(-1)}: ${error.message} ${stderr}`)) : resolve()));
    });
  return {
    url: options.password ? `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${port}/postgres` : `postgres://postgres@127.0.0.1:${port}/postgres`, // routergpt:allow-secret (a test fixture, not a credential)
    restart: () => pgCtl(['-D', data, '-l', path.join(dir, 'log'), '-w', '-m', 'fast', '-o', serverOptions, 'restart']),
    halt: () => pgCtl(['-D', data, '-w', '-m', 'fast', 'stop']),
    start: () => pgCtl(['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', serverOptions, 'start']),
    stop: async () => {
      try {
        run(tool('pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
