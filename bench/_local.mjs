// Helpers for benchmarks that drive the real CLI on the embedded default in a fresh directory.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'routergpt.js');

export function freshDir(prefix = 'routergpt-bench-') {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function cli(args, cwd, env = {}) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0 && result.status !== 1) throw new Error(`routergpt ${args.join(' ')} exited ${result.status}: ${result.stderr.slice(-800)}`);
  return { ms, status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function latestRun(cwd) {
  const dir = path.join(cwd, '.routergpt', 'runs', 'local');
  const file = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().pop();
  return JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
}

/** `routergpt serve` on a free port in cwd; resolves once /health answers. */
export async function startServe(cwd, port) {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port)], { cwd, env: { ...process.env, NO_COLOR: '1', RATE_LIMIT_SEARCH_PER_MIN: '100000', RATE_LIMIT_DELEGATE_PER_MIN: '100000' }, stdio: ['ignore', 'ignore', 'pipe'] });
  for (let i = 0; i < 600; i += 1) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.status === 200) return child;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('routergpt serve did not start');
}

/** Resolves when the child has exited — also when it already had (an 'exit' listener added late never fires). */
export function exited(child) {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
}

export async function stopServe(child) {
  child.kill('SIGTERM');
  await exited(child);
}

export async function freePort() {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
