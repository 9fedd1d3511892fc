/**
 * Which backups still hold an erased person's data (src/db/privacy/backups.ts), on real manifest
 * files: by the write ledger when the manifest has one, by time when it predates the ledger; those
 * taken after the erasure hold nothing; retention's count and backup.age's max_age give the wait.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackupManifest } from '../../src/db/backup/manifest.js';
import { backupsHolding } from '../../src/db/privacy/backups.js';
import { tempDir } from '../helpers/cli.js';

const SESSION = '11111111-1111-4111-8111-111111111111';
const BOOKING = '33333333-3333-4333-8333-333333333333';

function manifest(dir: string, label: string, createdAt: string, ledger?: BackupManifest['ledger']): string {
  const file = `${label}.dump`;
  const m: BackupManifest = { manifestVersion: 1, file, format: 'custom', source: 'x', sourceKind: 'url', label, sizeBytes: 1, sha256: '0'.repeat(64), serverVersion: '15', serverVersionNum: 150000, pgDumpVersion: '15', pgDumpMajor: 15, tables: {}, perTableChecksums: {}, createdAt, durationMs: 1, env: 'staging', ...(ledger ? { ledger } : {}) };
  writeFileSync(path.join(dir, `${file}.manifest.json`), JSON.stringify(m));
  return path.join(dir, file);
}

describe('the backups that still hold an erased person', () => {
  it('by the write ledger, else by time; none taken after the erasure; retention and max_age give the wait', () => {
    const dir = tempDir('routergpt-privacy-backups-');
    const rows = (keys: string[]) => ({ mode: 'rows' as const, rows: Object.fromEntries(keys.map((k) => [k, 'md5'])) });
    manifest(dir, 'before-the-person', '2026-11-01T00:00:00.000Z', { chat_sessions: rows([]), bookings: rows([]), chat_messages: { mode: 'append', count: 3, maxKey: '9' } });
    const byTime = manifest(dir, 'no-ledger', '2026-11-12T00:00:00.000Z');
    const byLedger = manifest(dir, 'with-ledger', '2026-11-20T00:00:00.000Z', { chat_sessions: rows([SESSION]), bookings: rows([]), chat_messages: { mode: 'append', count: 3, maxKey: '9' } });
    manifest(dir, 'after-the-erasure', '2026-12-02T00:00:00.000Z', { chat_sessions: rows([SESSION]), bookings: rows([BOOKING]) });
    // Another environment's backup in a shared directory is not this one's.
    manifest(dir, 'another-env', '2026-11-25T00:00:00.000Z', { chat_sessions: rows([SESSION]) });
    const other = JSON.parse(readFileSync(path.join(dir, 'another-env.dump.manifest.json'), 'utf8')) as BackupManifest;
    writeFileSync(path.join(dir, 'another-env.dump.manifest.json'), JSON.stringify({ ...other, env: 'prod' }));

    const exposure = backupsHolding({
      dir,
      env: 'staging',
      targets: { sessions: [SESSION], bookings: [BOOKING], analytics: [], archive: [], clientHmacs: [] },
      footprint: { since: new Date('2026-11-10T00:00:00.000Z'), minMessageId: '42' },
      retention: 4,
      maxAgeMs: 7 * 86_400_000,
      erasedAt: new Date('2026-12-01T00:00:00.000Z'),
    });
    // Newest first: after-the-erasure (0), with-ledger (1), no-ledger (2), before-the-person (3).
    expect(exposure.holding).toEqual([
      { file: byLedger, createdAt: '2026-11-20T00:00:00.000Z', label: 'with-ledger', by: 'ledger', backupsUntilDeleted: 3, daysUntilDeletedAtMost: 21 },
      { file: byTime, createdAt: '2026-11-12T00:00:00.000Z', label: 'no-ledger', by: 'time', backupsUntilDeleted: 2, daysUntilDeletedAtMost: 14 },
    ]);
    expect(exposure.clean).toBe(2);
  });
});
