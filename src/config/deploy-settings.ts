import type { RawEnvironment } from './file-schema.js';
import { releasesDeployCommands, releasesRollbackCommands } from './releases-layout.js';
import type { DeployHost, DeploySettings, RolloutStrategy, Sourced } from './types.js';

type RawDeploy = NonNullable<RawEnvironment['deploy']>;

const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_GATE_TIMEOUT_MS = 120_000;
const DEFAULT_CANARY_BAKE_MS = 5 * 60_000;
const DEFAULT_KEEP_RELEASES = 5;

/** `deploy.layout: releases`: path, keep_releases and restart checked; the commands become the generated ones. */
function applyReleasesLayout(raw: RawDeploy, value: DeploySettings, fileLabel: (key: string) => string, problems: string[]): void {
  if (raw.layout !== 'releases') {
    for (const key of ['path', 'keep_releases', 'restart'] as const) {
      if (raw[key] !== undefined) problems.push(`${fileLabel(`deploy.${key}`)} is set, and deploy.layout is not releases: set deploy.layout: releases to keep releases side by side, or remove deploy.${key}.`);
    }
    return;
  }
  const before = problems.length;
  const root = raw.path ?? '';
  if (!root.startsWith('/') || /['\n]/.test(root) || root.split('/').includes('..')) problems.push(`${fileLabel('deploy.path')} is ${raw.path === undefined ? 'not set' : JSON.stringify(raw.path)}: under deploy.layout: releases write the app's root on each host as an absolute path, e.g. path: /srv/routergpt (releases/, current and previous live in it).`);
  const keep = raw.keep_releases ?? DEFAULT_KEEP_RELEASES;
  if (!Number.isInteger(keep) || keep < 2) problems.push(`${fileLabel('deploy.keep_releases')} is ${keep}: keep at least 2 releases (the current one and the one a code rollback returns to); the default is ${DEFAULT_KEEP_RELEASES}.`);
  if (!raw.restart?.trim()) problems.push(`${fileLabel('deploy.restart')} is not set: under deploy.layout: releases routergpt switches the current symlink and then restarts the server — write the command, e.g. restart: ROUTERGPT_RELEASE="$ROUTERGPT_RELEASE" pm2 restart routergpt --update-env.`);
  if (raw.rollback_commands?.length) problems.push(`${fileLabel('deploy.rollback_commands')} is set, and deploy.layout: releases rolls the code back itself (the current symlink switched back, then deploy.restart): remove rollback_commands.`);
  if (value.commands.length === 0) problems.push(`${fileLabel('deploy.commands')} is empty, and deploy.layout: releases needs the commands that fill releases/<release>/ (they run inside it), e.g. git clone --depth 1 --branch "$ROUTERGPT_RELEASE" git@example.com:app.git . && npm ci.`);
  if (problems.length > before) return;
  const layout = { path: root.replace(/\/+$/, ''), keep, restart: raw.restart!, commands: value.commands };
  value.releases = layout;
  value.commands = releasesDeployCommands(layout);
  value.rollbackCommands = releasesRollbackCommands(layout);
}

/** `batch:` as written — 1, "25%" — or the problem with it (each problem names the fix). */
function parseBatch(value: number | string | undefined, where: string, problems: string[]): RolloutStrategy['batch'] {
  if (value === undefined) return { count: 1 };
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 1) return { count: value };
    problems.push(`${where} is ${value}: a batch is at least one host — write a whole number from 1 (batch: 1) or a share of the fleet (batch: "25%").`);
    return { count: 1 };
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value) ?? /^\s*(\d+)\s*$/.exec(value);
  const n = match ? Number(match[1]) : NaN;
  if (match && value.includes('%') && n > 0 && n <= 100) return { percent: n };
  if (match && !value.includes('%') && Number.isInteger(n) && n >= 1) return { count: n };
  problems.push(`${where} is ${JSON.stringify(value)}: write a whole number of hosts from 1 (batch: 1) or a share of the fleet above 0 % and at most 100 % (batch: "25%").`);
  return { count: 1 };
}

/** Hosts per batch for a fleet of `size` under `batch` (a share rounds up: 25 % of 3 hosts is one). */
export function batchSize(batch: RolloutStrategy['batch'], size: number): number {
  if ('count' in batch) return Math.max(1, Math.min(batch.count, size));
  return Math.max(1, Math.min(size, Math.ceil((size * batch.percent) / 100)));
}

/** The batches a rollout goes through, hosts in config order; with `canary` the first batch is one host. */
export function planBatches<T>(hosts: T[], strategy: Pick<RolloutStrategy, 'batch' | 'canary'>): T[][] {
  const batches: T[][] = [];
  let rest = hosts;
  if (strategy.canary && rest.length > 0) {
    batches.push(rest.slice(0, 1));
    rest = rest.slice(1);
  }
  const size = batchSize(strategy.batch, hosts.length);
  for (let i = 0; i < rest.length; i += size) batches.push(rest.slice(i, i + size));
  return batches;
}

/**
 * `deploy:` of one environment: hosts (name, via, url), commands, timeout and the rolling
 * `strategy`, with every problem (duplicate names, a host without url under a strategy, a batch
 * of 0 or "150%", max_fail beyond the fleet) pushed as one line naming the host and the fix.
 */
export function resolveDeploy(raw: RawDeploy | undefined, fileLabel: (key: string) => string, duration: (value: string | number | undefined, where: string) => number | undefined, problems: string[]): Sourced<DeploySettings> {
  if (!raw) return { value: { hosts: [], commands: [], rollbackCommands: [], timeoutMs: DEFAULT_TIMEOUT_MS }, source: 'default', origin: 'built-in default (no commands)' };
  const seen = new Map<string, number>();
  const hosts: DeployHost[] = (raw.hosts ?? []).map((h, i) => {
    const earlier = seen.get(h.name);
    if (earlier !== undefined) problems.push(`${fileLabel(`deploy.hosts[${i}]`)} is named ${JSON.stringify(h.name)}, like deploy.hosts[${earlier}]: give each host its own name (the journal, status and the rollout name hosts by it).`);
    else seen.set(h.name, i);
    if (h.url !== undefined && !/^https?:\/\/[^/\s]+/.test(h.url)) problems.push(`${fileLabel(`deploy.hosts[${i}].url`)} of ${JSON.stringify(h.name)} is ${JSON.stringify(h.url)}: write the host's own base URL, e.g. url: http://10.0.0.11:8787 (not the load balancer's).`);
    return { name: h.name, via: h.via ?? [], ...(h.url !== undefined ? { url: h.url.replace(/\/+$/, '') } : {}) };
  });
  const value: DeploySettings = {
    hosts,
    commands: raw.commands ?? [],
    rollbackCommands: raw.rollback_commands ?? [],
    timeoutMs: duration(raw.timeout, fileLabel('deploy.timeout')) ?? DEFAULT_TIMEOUT_MS,
  };
  applyReleasesLayout(raw, value, fileLabel, problems);
  const s = raw.strategy;
  if (s) {
    const strategy: RolloutStrategy = {
      batch: parseBatch(s.batch, fileLabel('deploy.strategy.batch'), problems),
      pauseMs: duration(s.pause, fileLabel('deploy.strategy.pause')) ?? 0,
      maxFail: s.max_fail ?? 0,
      canary: s.canary ?? false,
      canaryBakeMs: duration(s.canary_bake, fileLabel('deploy.strategy.canary_bake')) ?? DEFAULT_CANARY_BAKE_MS,
      gateTimeoutMs: duration(s.gate_timeout, fileLabel('deploy.strategy.gate_timeout')) ?? DEFAULT_GATE_TIMEOUT_MS,
    };
    if (hosts.length === 0) problems.push(`${fileLabel('deploy.strategy')} rolls out host by host, and deploy.hosts is empty: list the hosts (each with name, via and url), or remove deploy.strategy.`);
    if (strategy.maxFail > hosts.length && hosts.length > 0) {
      problems.push(`${fileLabel('deploy.strategy.max_fail')} is ${strategy.maxFail} with ${hosts.length} host${hosts.length === 1 ? '' : 's'}: more failures than there are hosts — set max_fail to at most ${hosts.length} (0 stops at the first failed host).`);
    }
    hosts.forEach((h, i) => {
      if (!h.url) problems.push(`${fileLabel(`deploy.hosts[${i}]`)} (${h.name}) has no url, and deploy.strategy gates each host on its own /health: set url: to the host's own base URL (e.g. http://${h.name}:8787), not the load balancer's.`);
    });
    value.strategy = strategy;
  }
  return { value, source: 'file', origin: fileLabel('deploy') };
}
