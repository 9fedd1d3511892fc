import type { EnvironmentConfig } from '../../config/types.js';
import { readHealth } from '../../steps/code/host-gate.js';

/** One host of `deploy.hosts` as `status` shows it: the release its own /health reports. */
export interface HostStatus {
  name: string;
  url: string;
  /** The `version` its /health reported; absent when it did not answer or reported none. */
  release?: string;
  healthy: boolean;
  /** What /health said: `healthy, running v2`, `HTTP 503 (schema_behind)`, `ECONNREFUSED`. */
  said: string;
}

/** Each configured host with a url, asked at once (2 s each); hosts without a url are left out. */
export async function readHosts(config: EnvironmentConfig): Promise<HostStatus[]> {
  const hosts = config.deploy.value.hosts.filter((h): h is typeof h & { url: string } => Boolean(h.url));
  return Promise.all(hosts.map(async (h) => {
    const health = await readHealth(h.url, undefined, 2000);
    return { name: h.name, url: h.url, healthy: health.healthy, said: health.said, ...(health.version ? { release: health.version } : {}) };
  }));
}
