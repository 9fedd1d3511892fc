/**
 * A real test fleet (issue 15): hosts on their own loopback addresses (127.0.1.1, .2, .3), each
 * with its own `sshd` (Debian's openssh-server, run in the foreground with its own config, host
 * key and a client key made for the test) running a real `routergpt serve` of its current
 * release, behind a real `haproxy` on loopback with active health checks, `retries` and
 * `option redispatch`. Releases are directories with a `start` script; they share this
 * repository's built dist/ and node_modules. Everything is torn down by `stop()`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { BIN, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/pg-cluster.js';

export interface FleetHost {
  name: string;
  addr: string;
  sshPort: number;
  apiPort: number;
  url: string;
  /** `ssh -i KEY -p PORT … user@addr`: what deploy.hosts[].via says. */
  via: string[];
  dir: string;
}

export interface TestFleet {
  dir: string;
  hosts: FleetHost[];
  /** The load balancer's base URL. */
  lbUrl: string;
  /** The script the deploy and rollback commands run on a host: `sh HOST_SH RELEASE`. */
  hostScript: string;
  /** Make a release directory (its `start` runs `routergpt serve` with ROUTERGPT_RELEASE). */
  addRelease(id: string): void;
  /** The releases a host was started on, in order (its history file). */
  history(name: string): string[];
  /** Start a host on a release directly (the fleet's initial state), waiting for its /health. */
  boot(name: string, release: string): Promise<void>;
  stop(): Promise<void>;
}

const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));
const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => existsSync(p));

/** Why the fleet cannot run here (no sshd, no haproxy), or undefined. */
export function fleetUnavailable(): string | undefined {
  if (!SSHD) return 'no sshd (Debian: apt-get install openssh-server; .ci/run installs it)';
  if (!HAPROXY) return 'no haproxy (Debian: apt-get install haproxy; .ci/run installs it)';
  return undefined;
}

async function waitForPort(host: string, port: number, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port }, () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function waitForVersion(url: string, version: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { ok?: boolean; version?: string };
      if (res.status === 200 && body.ok && body.version === version) return;
      last = `${res.status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = String((error as { cause?: { code?: string } }).cause?.code ?? error);
    }
    if (Date.now() > deadline) throw new Error(`${url}/health never reported ${version}: ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The host's control script, run through ssh: stop the running server (SIGTERM, a graceful
// close), start the release's server detached from the ssh session, record it; a server that
// exits at once fails the command, as a service manager's restart would. A release marked
// as not starting on this host (hosts/NAME/cannot-start-RELEASE) exits at once, like a crash.
const HOST_SH = `#!/bin/sh
set -eu
FLEET="$(cd "$(dirname "$0")" && pwd)"
H="$FLEET/hosts/$ROUTERGPT_HOST"
REL="$1"
[ -x "$FLEET/releases/$REL/start" ] || { echo "no release $REL on $ROUTERGPT_HOST" >&2; exit 3; }
if [ -f "$H/pid" ]; then
  PID="$(cat "$H/pid")"
  kill -TERM "$PID" 2>/dev/null || true
  while kill -0 "$PID" 2>/dev/null; do sleep 0.05; done
  rm -f "$H/pid"
fi
echo "$REL" >> "$H/history"
cd "$H"
ROUTERGPT_RELEASE="$REL" setsid "$FLEET/releases/$REL/start" </dev/null >>"$H/serve.log" 2>&1 &
PID=$!
# Like a service manager's restart: a server that dies at once fails the command.
sleep 0.3
if ! kill -0 "$PID" 2>/dev/null; then echo "$REL exited at start on $ROUTERGPT_HOST: $(tail -n 1 "$H/serve.log")" >&2; exit 1; fi
echo "$PID" > "$H/pid"
`;

export async function startFleet(options: { databaseUrl: string; size?: number }): Promise<TestFleet> {
  const reason = fleetUnavailable();
  if (reason) throw new Error(`The test fleet cannot run here: ${reason}.`);
  const dir = tempDir('routergpt-fleet-');
  const user = os.userInfo().username;
  const children: ResultPromise[] = [];
  const key = path.join(dir, 'id_ed25519');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'routergpt-fleet-test', '-f', key]);
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${key}.pub`));
  // sshd's privilege separation directory (Debian's package makes it at boot, not on install).
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  mkdirSync(path.join(dir, 'releases'));
  mkdirSync(path.join(dir, 'hosts'));
  const hostScript = path.join(dir, 'host.sh');
  writeFileSync(hostScript, HOST_SH, { mode: 0o755 });

  const hosts: FleetHost[] = [];
  for (let i = 1; i <= (options.size ?? 3); i += 1) {
    const name = `web-${i}`;
    const addr = `127.0.1.${i}`;
    const [sshPort, apiPort] = [await freePort(), await freePort()];
    const hostDir = path.join(dir, 'hosts', name);
    mkdirSync(hostDir);
    const hostKey = path.join(dir, `host_${name}`);
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    const config = path.join(dir, `sshd_${name}.conf`);
    writeFileSync(config, [
      `ListenAddress ${addr}:${sshPort}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `PidFile ${path.join(dir, `sshd_${name}.pid`)}`,
      'MaxStartups 100',
      'LogLevel ERROR',
      '',
    ].join('\n'));
    const sshd = execa(SSHD!, ['-D', '-e', '-f', config], { reject: false, stdin: 'ignore' });
    children.push(sshd);
    // The host's own serve configuration and environment (its server binds the host's address).
    writeFileSync(path.join(hostDir, 'routergpt.config.yaml'), ['version: 1', 'environments:', '  staging:', '    database: { url_env: DATABASE_URL }', '    rate_limits: { search_per_minute: 100000, delegate_per_minute: 100000 }', ''].join('\n'));
    writeFileSync(path.join(hostDir, 'env'), [`ADDR=${addr}`, `PORT=${apiPort}`, `DATABASE_URL='${options.databaseUrl}'`, 'ROUTERGPT_ENV=staging', ''].join('\n'));
    hosts.push({
      name,
      addr,
      sshPort,
      apiPort,
      url: `http://${addr}:${apiPort}`,
      via: ['ssh', '-i', key, '-p', String(sshPort), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5', `${user}@${addr}`],
      dir: hostDir,
    });
  }
  await Promise.all(hosts.map((h) => waitForPort(h.addr, h.sshPort, `sshd of ${h.name}`)));

  // The load balancer: active health checks every 500 ms, every 100 ms while a server changes
  // state (two failures mark it down, two successes up; a slow answer on a loaded machine is not a
  // failure), a refused or dropped connection retried on another server. The checks and the
  // traffic share the server's default budget for one client (600 a minute): both stay well
  // under it.
  const lbPort = await freePort();
  const haproxyConfig = path.join(dir, 'haproxy.cfg');
  writeFileSync(haproxyConfig, [
    'global',
    '  maxconn 512',
    'defaults',
    '  mode http',
    '  timeout connect 500ms',
    '  timeout client 10s',
    '  timeout server 10s',
    '  timeout check 3s',
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response response-timeout',
    '  option http-server-close',
    'frontend fe',
    `  bind 127.0.0.1:${lbPort}`,
    '  default_backend fleet',
    'backend fleet',
    '  balance roundrobin',
    '  option httpchk GET /health',
    '  http-check expect status 200',
    '  default-server inter 500ms fastinter 100ms downinter 200ms fall 2 rise 2',
    ...hosts.map((h) => `  server ${h.name} ${h.addr}:${h.apiPort} check`),
    '',
  ].join('\n'));
  const haproxy = execa(HAPROXY!, ['-db', '-f', haproxyConfig], { reject: false, stdin: 'ignore', all: true });
  children.push(haproxy);
  await waitForPort('127.0.0.1', lbPort, 'haproxy');

  const fleet: TestFleet = {
    dir,
    hosts,
    lbUrl: `http://127.0.0.1:${lbPort}`,
    hostScript,
    addRelease(id) {
      const release = path.join(dir, 'releases', id);
      mkdirSync(release, { recursive: true });
      writeFileSync(path.join(release, 'start'), [
        '#!/bin/sh',
        'set -eu',
        '. ./env',
        // A release's own settings on this host (hosts/NAME/env-RELEASE), e.g. the database role it connects as.
        'if [ -f "./env-$ROUTERGPT_RELEASE" ]; then . "./env-$ROUTERGPT_RELEASE"; fi',
        'export DATABASE_URL ROUTERGPT_ENV',
        `if [ -f "./cannot-start-$ROUTERGPT_RELEASE" ]; then echo "release $ROUTERGPT_RELEASE: Error: Cannot find module './dist/main.js'" >&2; exit 1; fi`,
        `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} serve --host "$ADDR" --port "$PORT"`,
        '',
      ].join('\n'));
      chmodSync(path.join(release, 'start'), 0o755);
    },
    history(name) {
      const file = path.join(dir, 'hosts', name, 'history');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    },
    async boot(name, release) {
      const host = hosts.find((h) => h.name === name)!;
      await execa('sh', [hostScript, release], { env: { ROUTERGPT_HOST: name } });
      await waitForVersion(host.url, release, 40_000);
    },
    async stop() {
      for (const host of hosts) {
        const pidFile = path.join(host.dir, 'pid');
        if (!existsSync(pidFile)) continue;
        const pid = Number(readFileSync(pidFile, 'utf8'));
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
      }
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map((c) => c.catch(() => {})));
      // The servers: give them a moment to close, then make sure.
      const deadline = Date.now() + 5000;
      for (const host of hosts) {
        const pidFile = path.join(host.dir, 'pid');
        if (!existsSync(pidFile)) continue;
        const pid = Number(readFileSync(pidFile, 'utf8'));
        const alive = () => {
          try {
            process.kill(pid, 0);
            return true;
          } catch {
            return false;
          }
        };
        while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        if (alive()) process.kill(pid, 'SIGKILL');
      }
    },
  };
  return fleet;
}

/** Steady traffic through the load balancer until stopped (GET, or POST of `body`): every answer's status and the version it came from. */
export function steadyTraffic(lbUrl: string, options: { concurrency?: number; path?: string; pauseMs?: number; body?: unknown } = {}): { stop(): Promise<{ total: number; failed: Array<{ status: string; at: number }>; versions: Set<string>; slowest: number; slow: number }> } {
  let running = true;
  const failed: Array<{ status: string; at: number }> = [];
  const versions = new Set<string>();
  let total = 0;
  let slowest = 0;
  let slow = 0;
  const worker = async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(`${lbUrl}${options.path ?? '/health'}`, {
          signal: AbortSignal.timeout(5000),
          // A body makes it a POST of JSON (e.g. /router/search-by-location).
          ...(options.body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(options.body) }),
        });
        const text = await res.text();
        const body = (() => {
          try {
            return JSON.parse(text) as { version?: string };
          } catch {
            return {};
          }
        })();
        if (res.status !== 200) failed.push({ status: `${res.status} ${text.slice(0, 120)}`, at: Date.now() });
        if (body.version) versions.add(body.version);
      } catch (error) {
        failed.push({ status: String((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message), at: Date.now() });
      }
      total += 1;
      const took = performance.now() - started;
      slowest = Math.max(slowest, took);
      if (took > 1000) slow += 1;
      await new Promise((r) => setTimeout(r, options.pauseMs ?? 200));
    }
  };
  const workers = Array.from({ length: options.concurrency ?? 2 }, worker);
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return { total, failed, versions, slowest, slow };
    },
  };
}
