/**
 * Batched router_analytics writer. Routes call `record()` (synchronous, no I/O), so an event
 * adds no latency to the response; a timer flushes the buffer every `flushIntervalMs`, or at
 * once when it reaches `maxBatch`, as ONE multi-row INSERT. `close()` flushes what is left —
 * the server calls it on shutdown, after in-flight requests have finished, so nothing is lost.
 */
import type { Logger } from 'pino';
import type { Queryable } from '../../db/pool.js';
import { LOG_TAGS } from '../logger.js';
import { createFlusher } from './flusher.js';
import type { RefusalSettings } from './refusals.js';

export type AnalyticsEventType = 'search' | 'delegate' | 'chat_message' | 'booking' | 'error' | 'feedback';

export interface AnalyticsEvent {
  eventType: AnalyticsEventType;
  sessionId?: string | null;
  shopId?: number | string | null;
  searchId?: string | null;
  latencyMs?: number | null;
  payload?: Record<string, unknown>;
  createdAt?: Date;
  /** Caused by a request with a valid synthetic marker (src/lib/synthetic.ts): left out of every metric. */
  synthetic?: boolean;
}

export interface AnalyticsSettings {
  flushIntervalMs?: number;
  maxBatch?: number;
  /** Events kept while the database is failing; older ones are dropped (and counted in the log). */
  maxBuffered?: number;
  /** The release (what /health reports as `version`) and host that serve, written on every row. */
  release?: string;
  host?: string;
  /** The refused-request counts (src/server/analytics/refusals.ts); flushed every max(1 s, flushIntervalMs) unless set. */
  refusals?: Omit<RefusalSettings, 'release' | 'host'>;
}

export interface AnalyticsWriter {
  record(event: AnalyticsEvent): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** `dropped`: lost to the buffer bound while the database failed; `rejected`: events PostgreSQL refused for their content. */
  stats(): { buffered: number; written: number; dropped: number; rejected: number };
}

const COLUMNS = 10;

/** The INSERT for `rows` events, built once per batch size (a batch is at most maxBatch rows). */
const insertSqlByRows = new Map<number, string>();
function insertSql(rows: number): string {
  let sql = insertSqlByRows.get(rows);
  if (sql === undefined) {
    const tuples = Array.from({ length: rows }, (_, i) => {
      const p = (k: number) => `$${i * COLUMNS + k}`;
      return `(${p(1)}, ${p(2)}::uuid, ${p(3)}::bigint, ${p(4)}::uuid, ${p(5)}::int, ${p(6)}::jsonb, ${p(7)}::timestamptz, ${p(8)}::boolean, ${p(9)}, ${p(10)})`;
    });
    sql = `INSERT INTO router_analytics (event_type, session_id, shop_id, search_id, latency_ms, payload, created_at, synthetic, release, host) VALUES ${tuples.join(', ')}`;
    if (insertSqlByRows.size < 1000) insertSqlByRows.set(rows, sql);
  }
  return sql;
}

export function createAnalyticsWriter(db: Queryable, log: Logger, settings: AnalyticsSettings = {}, clock: () => Date = () => new Date()): AnalyticsWriter {
  const flushIntervalMs = settings.flushIntervalMs ?? 250;
  const maxBatch = settings.maxBatch ?? 100;
  const maxBuffered = settings.maxBuffered ?? 10_000;
  const release = settings.release ?? null;
  const host = settings.host ?? null;
  let buffer: AnalyticsEvent[] = [];
  let written = 0;
  let dropped = 0;
  let rejected = 0;
  const flusher = createFlusher(drain, flushIntervalMs);

  async function writeBatch(batch: AnalyticsEvent[]): Promise<void> {
    const values: unknown[] = [];
    for (const e of batch) {
      values.push(
        e.eventType,
        e.sessionId ?? null,
        e.shopId ?? null,
        e.searchId ?? null,
        e.latencyMs === undefined || e.latencyMs === null ? null : Math.max(0, Math.round(e.latencyMs)),
        JSON.stringify(e.payload ?? {}),
        e.createdAt ?? clock(),
        e.synthetic === true,
        release,
        host,
      );
    }
    await db.query(insertSql(batch.length), values);
  }

  /**
   * Write a batch; when PostgreSQL refuses it for what is IN it (a data exception, a constraint, a
   * value too large: SQLSTATE classes 22, 23, 54) rather than for being unreachable, split it in
   * halves until the bad events are alone, drop those (counted in `rejected`, logged) and write the
   * rest. One bad event costs about log2(batch) extra statements and never stalls the queue.
   * Returns the events written; throws only for errors that are not about the data (retried).
   */
  async function writeSplitting(batch: AnalyticsEvent[]): Promise<number> {
    try {
      await writeBatch(batch);
      return batch.length;
    } catch (error) {
      if (!isDataError(error)) throw error;
      if (batch.length === 1) {
        rejected += 1;
        const e = batch[0]!;
        log.error({ err: error, event_type: e.eventType, session_id: e.sessionId ?? undefined, rejected }, `${LOG_TAGS.analytics} dropped one ${e.eventType} event PostgreSQL refuses to store (${(error as { code?: string }).code}); ${rejected} rejected so far`);
        return 0;
      }
      const half = Math.ceil(batch.length / 2);
      return (await writeSplitting(batch.slice(0, half))) + (await writeSplitting(batch.slice(half)));
    }
  }

  async function drain(): Promise<void> {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, maxBatch);
      buffer = buffer.slice(batch.length);
      try {
        const n = await writeSplitting(batch);
        written += n;
        flusher.succeeded();
        log.info({ events: n, types: [...new Set(batch.map((e) => e.eventType))] }, `${LOG_TAGS.analytics} wrote ${n} event(s)`);
      } catch (error) {
        // Keep the events for the next attempt, up to a bound, so a database blip loses nothing
        // and a long outage cannot eat the server's memory. (A split batch may have written part
        // of itself before the database went away: that part is written again, which only
        // duplicates analytics rows, never loses them.)
        buffer = [...batch, ...buffer];
        if (buffer.length > maxBuffered) {
          const excess = buffer.length - maxBuffered;
          buffer = buffer.slice(excess);
          dropped += excess;
        }
        const delay = flusher.failed();
        log.error({ err: error, buffered: buffer.length, dropped, retry_in_ms: delay }, `${LOG_TAGS.analytics} failed to write ${batch.length} event(s); will retry in ${delay} ms`);
        return;
      }
    }
  }

  return {
    record(event) {
      buffer.push(event);
      // The record is built only when it is written: at info (production) a search pays nothing for it.
      if (log.isLevelEnabled('debug')) log.debug({ event_type: event.eventType, synthetic: event.synthetic || undefined, session_id: event.sessionId ?? undefined, shop_id: event.shopId ?? undefined, latency_ms: event.latencyMs ?? undefined }, `${LOG_TAGS.analytics} ${event.eventType}`);
      if (buffer.length >= maxBatch && Date.now() >= flusher.retryAt()) void flusher.flush();
      else flusher.schedule(Math.max(flushIntervalMs, flusher.retryAt() - Date.now()));
    },
    flush: () => flusher.flush(),
    async close() {
      await flusher.close(() => buffer.length > 0);
      if (buffer.length > 0) {
        log.error({ lost: buffer.length }, `${LOG_TAGS.analytics} ${buffer.length} event(s) could not be written before shutdown`);
      }
    },
    stats: () => ({ buffered: buffer.length, written, dropped, rejected }),
  };
}

/** SQLSTATE classes that mean "this row", not "this connection": 22 data exception, 23 integrity constraint, 54 program limit. */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}
