import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { createAnalyticsWriter } from '../../src/server/analytics/writer.js';
import { freePort } from '../helpers/pg-cluster.js';

/** Regression: during a database outage every request past the batch size queued another failing INSERT. */
describe('analytics writer during a database outage', () => {
  it('backs off instead of retrying once per request, and keeps the events (bounded)', async () => {
    // A real pg pool aimed at a port nothing listens on: every write fails with ECONNREFUSED.
    const pool = createPool({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/none`, max: 2, connectionTimeoutMillis: 500 });
    const lines: Array<{ msg: string }> = [];
    const sink = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); done(); } });
    const writer = createAnalyticsWriter(pool, pino({ level: 'info' }, sink), { flushIntervalMs: 50, maxBatch: 100, maxBuffered: 1500 });
    try {
      for (let i = 0; i < 2000; i += 1) {
        writer.record({ eventType: 'search', latencyMs: 1 });
        if (i % 100 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 1000));
      const failures = lines.filter((l) => l.msg.includes('failed to write'));
      // Backoff 100, 200, 400, 800 ms…: a handful of attempts in a second, not one per request.
      expect(failures.length).toBeGreaterThan(0);
      expect(failures.length).toBeLessThanOrEqual(6);
      expect(writer.stats()).toMatchObject({ buffered: 1500, written: 0, dropped: 500 });
    } finally {
      await writer.close();
      await pool.end();
    }
  });
});
