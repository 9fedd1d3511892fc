/**
 * verify's human summary at 80 and 120 columns (issue 10, part 3): the table and every line
 * under it fit the width, a warning is never a tick, each check is one row — as committed.
 */
import { describe, expect, it } from 'vitest';
import type { CheckOutcome } from '../../src/checks/run-checks.js';
import { renderHumanSummary } from '../../src/report/human.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { REPORT_SCHEMA, type VerifyReport } from '../../src/report/types.js';

const outcome = (id: string, status: CheckOutcome['status'], summary: string, extra: Partial<CheckOutcome> = {}): CheckOutcome => ({ id, title: id, status, summary, durationMs: 12, ...extra });

const report: VerifyReport = {
  schema: REPORT_SCHEMA,
  command: 'verify',
  env: 'staging',
  stage: 'all',
  target: { database: 'postgres://app:*****@db:5432/app', apiBase: 'https://api.example.com' },
  startedAt: '2026-11-25T18:00:00.000Z',
  durationMs: 2140,
  status: 'fail',
  counts: { pass: 2, warn: 1, fail: 1, error: 0, skip: 1 },
  checks: [
    outcome('db.reachable', 'pass', 'PostgreSQL 15.8 in 4 ms'),
    outcome('db.indexes-valid', 'pass', 'idx_shops_location_category, idx_shops_lat_lng, shops_slug_key and router_analytics_created_at_idx valid'),
    outcome('api.search', 'warn', 'every probe location returned zero shops', { hint: 'Geocode the shops (db.geocode-shops) or set the probe locations (params.locations) to where your shops are.', details: ['default probe locations (Tempe, Phoenix, Scottsdale, Mesa): no database to choose shops from; set params.locations to where your shops are'] }),
    outcome('tls.certificate', 'fail', 'the certificate of api.example.com expires in 3 days (2026-11-28)', { hint: 'Renew the certificate now (certbot renew, or your load balancer\'s certificate manager), then rerun `routergpt verify --only tls.certificate`.' }),
    outcome('api.hsts', 'skip', 'plain http on loopback'),
  ],
};

describe('verify human summary', () => {
  for (const columns of [80, 120]) {
    it(`fits ${columns} columns, one row per check, warnings never ticked; as committed`, async () => {
      const text = await renderHumanSummary({ color: false }, report, columns);
      const lines = text.trimEnd().split('\n');
      expect(Math.max(...lines.map((l) => [...l].length))).toBeLessThanOrEqual(columns);
      for (const o of report.checks) expect(lines.filter((l) => l.startsWith('│') && l.includes(` ${o.id} `)), o.id).toHaveLength(1);
      expect(lines.find((l) => l.includes(' api.search '))).toContain('⚠ warn');
      expect(lines.find((l) => l.includes(' api.search '))).not.toContain('✔');
      expect(text.replace(/\s+/g, ' ')).toContain('verify staging: FAIL — 2 passed, 1 warning, 1 failed, 0 crashed, 1 skipped in 2.1 s');
      expect(text).toMatchSnapshot();
    });
  }
});

describe('each hint once', () => {
  const hinted = report.checks.filter((o) => o.hint);
  const once = (text: string, hint: string) => text.replace(/\s+/g, ' ').split(hint.slice(0, 40)).length - 1;
  it('human: each hint under its problem, once, as a → line (never again in italics)', async () => {
    const text = await renderHumanSummary({ color: false }, report, 100);
    for (const o of hinted) expect(once(text, o.hint!), o.id).toBe(1);
    expect(text).not.toMatch(/(^|\s)_[^_\n]*→/);
  });
  it('markdown: each hint once, in its row', () => {
    const text = renderMarkdown(report);
    for (const o of hinted) expect(once(text, o.hint!), o.id).toBe(1);
    expect(text).not.toMatch(/(^|\s)[_*][^_*\n]*(Geocode the shops|Renew the certificate)/);
  });
});
