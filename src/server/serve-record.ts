import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EnvironmentConfig } from '../config/types.js';
import { isProcessAlive } from '../lib/process-alive.js';

/**
 * `routergpt serve` records where it listens in `<stateDir>/<env>/serve.json` (on local:
 * `.routergpt/local/serve.json`) and removes the file when it stops. `smoke` and `verify` use
 * that URL when neither `--base-url` nor PUBLIC_API_BASE (or `public_api_base`) says where the
 * API is — so `serve --port 0` and `smoke` find each other. A record whose process is gone is
 * ignored.
 */
export interface ServeRecord {
  pid: number;
  url: string;
  startedAt: string;
}

export function serveRecordPath(config: Pick<EnvironmentConfig, 'name' | 'stateDir'>): string {
  return path.join(config.stateDir.value, config.name, 'serve.json');
}

export function writeServeRecord(config: Pick<EnvironmentConfig, 'name' | 'stateDir'>, url: string): void {
  const file = serveRecordPath(config);
  mkdirSync(path.dirname(file), { recursive: true });
  const record: ServeRecord = { pid: process.pid, url, startedAt: new Date().toISOString() };
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** Remove the record if it is this process's (another serve may have replaced it). */
export function removeServeRecord(config: Pick<EnvironmentConfig, 'name' | 'stateDir'>): void {
  const file = serveRecordPath(config);
  if (readServeRecord(file)?.pid !== process.pid) return;
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

function readServeRecord(file: string): ServeRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as Partial<ServeRecord>;
    return typeof record.pid === 'number' && typeof record.url === 'string' ? (record as ServeRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** The running `serve` of this environment, if its process is alive. */
export function readLiveServeRecord(config: Pick<EnvironmentConfig, 'name' | 'stateDir'>): ServeRecord | undefined {
  const record = readServeRecord(serveRecordPath(config));
  return record && isProcessAlive(record.pid) ? record : undefined;
}
