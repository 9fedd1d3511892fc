import { existsSync, readFileSync } from 'node:fs';
import { backupPathOf, readManifest, sha256Directory, sha256File, type BackupManifest } from './manifest.js';
import { checkPlainDump } from './plain-sql.js';
import { requireTool, runTool, type PgToolOptions } from './pg-tools.js';

export interface VerifyBackupResult {
  ok: boolean;
  manifestFile: string;
  manifest: BackupManifest;
  /** One line per check made, each prefixed ✓ or ✗. */
  details: string[];
  /** The first problem, when not ok. */
  problem?: string;
}

/**
 * Is this backup intact and readable? The file exists, its SHA-256 matches the manifest (a flipped
 * byte anywhere is caught), and `pg_restore --list` reads its table of contents (custom and
 * directory formats) — or, for a plain SQL dump, it has pg_dump's header and trailer.
 * Never changes anything; a broken backup is a result (ok: false), not an exception.
 */
export async function verifyBackup(manifestFile: string, options: { tools?: PgToolOptions } = {}): Promise<VerifyBackupResult> {
  const manifest = readManifest(manifestFile);
  const file = backupPathOf(manifestFile, manifest);
  const details: string[] = [];
  const failed = (problem: string): VerifyBackupResult => ({ ok: false, manifestFile, manifest, details: [...details, `✗ ${problem}`], problem });

  if (!existsSync(file)) return failed(`backup file is missing: ${file}`);
  details.push(`✓ ${file} exists`);

  if (manifest.format === 'directory') {
    const actual = await sha256Directory(file);
    const expected = manifest.files ?? {};
    const bad = [...new Set([...Object.keys(expected), ...Object.keys(actual.files)])].filter((name) => expected[name] !== actual.files[name]);
    if (bad.length > 0 || actual.sha256 !== manifest.sha256) return failed(`checksum mismatch in ${bad.join(', ') || 'the file list'}: the backup was changed or damaged after it was written`);
  } else {
    const sha256 = await sha256File(file);
    if (sha256 !== manifest.sha256) return failed(`SHA-256 is ${sha256.slice(0, 12)}…, the manifest says ${manifest.sha256.slice(0, 12)}…: the backup was changed or damaged after it was written`);
  }
  details.push(`✓ SHA-256 matches the manifest (${manifest.sha256.slice(0, 12)}…)`);

  const ledger = ledgerProblem(manifest);
  if (ledger) return failed(ledger);
  details.push(manifest.ledger ? `✓ write ledger agrees with the row counts (${Object.keys(manifest.ledger).join(', ')})` : '– no write ledger (an older backup): a restore\'s loss preview compares row counts only');

  if (manifest.format === 'plain') {
    const problem = checkPlainDump(readFileSync(file, 'utf8'));
    if (problem) return failed(`the SQL dump is not usable: ${problem}`);
    details.push('✓ plain SQL dump with pg_dump header and trailer');
  } else {
    const pgRestore = await requireTool('pg_restore', manifest.pgDumpMajor, `to read this archive (written by pg_dump ${manifest.pgDumpVersion})`, options.tools);
    let list: string;
    try {
      list = await runTool(pgRestore, ['--list', file], {}, { what: 'pg_restore --list', hint: 'The backup cannot be read; take a new one.' });
    } catch (error) {
      return failed((error as Error).message);
    }
    const entries = list.split('\n').filter((line) => /^\d+;/.test(line)).length;
    const data = list.split('\n').filter((line) => /TABLE DATA/.test(line)).length;
    details.push(`✓ pg_restore --list reads ${entries} entries (${data} with table data)`);
  }
  return { ok: true, manifestFile, manifest, details };
}

/**
 * The write ledger (what a restore's loss preview compares with) must describe the rows the dump
 * holds: per table, as many rows as the manifest counts. A ledger edited by hand, or copied from
 * another backup's manifest, would preview the wrong loss.
 */
function ledgerProblem(manifest: BackupManifest): string | undefined {
  const bad: string[] = [];
  for (const [table, entry] of Object.entries(manifest.ledger ?? {})) {
    const inLedger = entry.mode === 'rows' ? Object.keys(entry.rows).length : entry.count;
    const inDump = manifest.tables[table];
    if (inDump !== undefined && inDump !== inLedger) bad.push(`${table}: ${inLedger} row(s) in the ledger, ${inDump} in the dump`);
  }
  return bad.length ? `the manifest's write ledger disagrees with its row counts (${bad.join('; ')})` : undefined;
}
