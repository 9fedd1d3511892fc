/**
 * Which backups of the environment still hold the person's data after an erasure, and when
 * retention removes them. A backup holds it when its write ledger (db/backup/ledger.ts) lists one
 * of the person's sessions or bookings, or holds chat messages or events from before the person's
 * newest one; a manifest without a ledger is judged by time (taken after the oldest row was
 * written). Retention keeps the newest `backup.retention` backups: one at position i (0 = newest)
 * goes after `retention - i` more backups; with the weekly review's `backup.age` limit (max_age)
 * that is at most that many times max_age, since a backup is due at least that often.
 */
import { backupPathOf, readManifest } from '../backup/manifest.js';
import { listBackups } from '../backup/retention.js';
import type { ErasureTargets } from './subject.js';

export interface HoldingBackup {
  file: string;
  createdAt: string;
  label: string;
  /** How we know: `ledger` (its write ledger names the rows) or `time` (an older manifest). */
  by: 'ledger' | 'time';
  /** More backups until retention deletes it (0: retention would delete it at the next backup's verify). */
  backupsUntilDeleted: number;
  /** At most this many days, if a backup is taken every backup.age max_age. */
  daysUntilDeletedAtMost: number | null;
}

export interface BackupExposure {
  dir: string;
  retention: number;
  maxAgeMs: number | null;
  holding: HoldingBackup[];
  /** Backups that do not hold the data (taken before it was written). */
  clean: number;
}

export interface PersonFootprint {
  /** The oldest created_at of the person's rows (sessions, bookings, messages). */
  since: Date | null;
  /** The smallest chat message id of theirs (an append table in the ledger). */
  minMessageId: string | null;
}

export function backupsHolding(options: { dir: string; env: string; targets: ErasureTargets; footprint: PersonFootprint; retention: number; maxAgeMs: number | null; erasedAt: Date }): BackupExposure {
  const { targets, footprint } = options;
  const all = listBackups(options.dir).filter((b) => {
    try {
      const env = readManifest(b.manifestFile).env;
      return !env || env === options.env;
    } catch {
      return false;
    }
  });
  const holding: HoldingBackup[] = [];
  all.forEach((b, index) => {
    const manifest = readManifest(b.manifestFile);
    if (Date.parse(manifest.createdAt) > options.erasedAt.getTime()) return;
    const ledger = manifest.ledger;
    let holds: boolean;
    let by: HoldingBackup['by'] = 'ledger';
    if (ledger) {
      const rows = (t: string) => (ledger[t]?.mode === 'rows' ? (ledger[t] as { rows: Record<string, string> }).rows : {});
      const sessions = rows('chat_sessions');
      const bookings = rows('bookings');
      const messages = ledger.chat_messages;
      holds = targets.sessions.some((s) => s in sessions) || targets.bookings.some((id) => id in bookings) || (messages?.mode === 'append' && footprint.minMessageId !== null && messages.maxKey !== null && BigInt(messages.maxKey) >= BigInt(footprint.minMessageId));
    } else {
      by = 'time';
      holds = footprint.since !== null && Date.parse(manifest.createdAt) >= footprint.since.getTime();
    }
    if (!holds) return;
    const backupsUntilDeleted = Math.max(0, options.retention - index);
    holding.push({
      file: backupPathOf(b.manifestFile, manifest),
      createdAt: manifest.createdAt,
      label: manifest.label,
      by,
      backupsUntilDeleted,
      daysUntilDeletedAtMost: options.maxAgeMs === null ? null : Math.ceil((backupsUntilDeleted * options.maxAgeMs) / 86_400_000),
    });
  });
  return { dir: options.dir, retention: options.retention, maxAgeMs: options.maxAgeMs, holding, clean: all.length - holding.length };
}
