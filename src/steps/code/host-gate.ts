import { OperationError } from '../../errors.js';
import { redactSecrets } from '../../config/mask.js';
import { signSynthetic, SYNTHETIC_HEADER } from '../../lib/synthetic.js';
import type { DeployHost } from '../../config/types.js';

/** What a host's own /health said (or why it said nothing). */
export interface HostHealth {
  /** 200 with {"ok":true}. */
  healthy: boolean;
  version?: string;
  /** One line for messages: `HTTP 503 (schema_behind)`, `ECONNREFUSED`, `healthy, running v1`. */
  said: string;
}

/** One GET of `<url>/health`, signed as synthetic when there is a key; never throws. */
export async function readHealth(url: string, key: string | undefined, timeoutMs = 3000): Promise<HostHealth> {
  try {
    const headers: Record<string, string> = key ? { [SYNTHETIC_HEADER]: signSynthetic(key, { method: 'GET', path: '/health' }) } : {};
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs), headers });
    const body = (await res.json().catch(() => ({}))) as { ok?: boolean; reason?: string; version?: unknown };
    const version = typeof body.version === 'string' ? body.version : undefined;
    const healthy = res.status === 200 && body.ok === true;
    return { healthy, ...(version ? { version } : {}), said: healthy ? `healthy, running ${version ?? '(no version reported)'}` : `HTTP ${res.status}${body.reason ? ` (${body.reason})` : ''}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { healthy: false, said: cause ?? ((error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message) };
  }
}

export interface GateOptions {
  /** The release /health must report; undefined: healthy is enough (a host whose earlier release is unknown). */
  want: string | undefined;
  timeoutMs: number;
  key: string | undefined;
  /** Between polls. */
  intervalMs?: number;
  log?: (line: string) => void;
}

/**
 * The per-host gate: poll the host's own `/health` (its `url`, not the load balancer) until it
 * answers 200 {"ok":true} with `version` = the wanted release. Throws naming the host, the
 * release it still reports (or what it said) and the time waited.
 */
export async function waitForHostRelease(host: DeployHost, options: GateOptions): Promise<HostHealth> {
  const url = host.url!;
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 250;
  let last: HostHealth | undefined;
  for (;;) {
    last = await readHealth(url, options.key, Math.min(3000, Math.max(500, options.timeoutMs)));
    if (last.healthy && (options.want === undefined || last.version === options.want)) return last;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - Date.now()))));
  }
  const waited = options.timeoutMs >= 1000 ? `${Math.round(options.timeoutMs / 100) / 10} s` : `${options.timeoutMs} ms`;
  if (options.want && last.healthy) {
    throw new OperationError(`${host.name}: ${url}/health still reports version ${JSON.stringify(last.version ?? null)}, not ${JSON.stringify(options.want)}, after ${waited}.`, `The old code is still answering on ${host.name}: check that its commands restart the server with ROUTERGPT_RELEASE (e.g. \`pm2 restart routergpt --update-env\`).`);
  }
  throw new OperationError(`${host.name}: ${url}/health did not answer healthy${options.want ? ` on ${JSON.stringify(options.want)}` : ''} within ${waited}: ${last.said}.`, `Look at the server on ${host.name} (its logs); raise deploy.strategy.gate_timeout if it only needs longer to start.`);
}

/**
 * Before any host is changed: each host reached through `via` answers a no-op (`ssh … true`)
 * within `timeoutMs`. An unreachable host (refused, timeout, bad key) is one error naming it.
 */
export async function checkReachable(host: DeployHost, timeoutMs: number): Promise<void> {
  if (host.via.length === 0) return;
  const { execa } = await import('execa');
  const child = await execa(host.via[0]!, [...host.via.slice(1), 'true'], { reject: false, timeout: timeoutMs, all: true, stdin: 'ignore' });
  if (child.exitCode === 0 && !child.timedOut) return;
  const said = redactSecrets(String(child.all ?? '')).split('\n').map((l) => l.trim()).filter(Boolean).slice(-2).join(' | ');
  const why = child.timedOut ? `no answer within ${Math.round(timeoutMs / 1000)} s` : child.exitCode === undefined ? (child.failed ? String((child as { shortMessage?: string }).shortMessage ?? 'could not start') : 'killed') : `exit ${child.exitCode}${said ? `: ${said}` : ''}`;
  throw new OperationError(`${host.name} is unreachable through \`${host.via.join(' ')}\` (${why}); no host was changed.`, `Check that ${host.name} is up and \`${host.via.join(' ')} true\` works from here (address, port, key), or take it out of deploy.hosts; then run the deploy again.`);
}
