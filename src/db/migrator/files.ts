import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import { needsNoTransaction } from './sql-split.js';
import { requireMatchingSum } from './sum.js';

export interface MigrationFile {
  version: string;
  name: string;
  file: string;
  sql: string;
  /** SHA-256 of the file's bytes, recorded when applied; a change afterwards is an edit. */
  checksum: string;
  noTransaction: boolean;
  down?: { file: string; sql: string; noTransaction: boolean };
}

const UP = /^(\d{3,})_([a-z0-9][a-z0-9_]*)\.sql$/;
const DOWN = /^(\d{3,})_([a-z0-9][a-z0-9_]*)\.down\.sql$/;

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/**
 * Read and validate a migrations folder. Every problem is reported at once: a duplicate
 * number, a gap in the sequence, a stray file, a down file without its up file.
 */
export function loadMigrations(dir: string): MigrationFile[] {
  if (!existsSync(dir)) {
    throw new ConfigError(`Migrations folder not found: ${dir}`, 'Set migrations_dir in routergpt.config.yaml or ROUTERGPT_MIGRATIONS_DIR.');
  }
  const entries = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const problems: string[] = [];
  const ups = new Map<string, MigrationFile>();
  const downs = new Map<string, { file: string; name: string }>();
  for (const entry of entries) {
    const down = DOWN.exec(entry);
    const up = down ? undefined : UP.exec(entry);
    if (down) {
      if (downs.has(down[1]!)) problems.push(`duplicate down migration number ${down[1]}: ${downs.get(down[1]!)!.file} and ${entry}`);
      downs.set(down[1]!, { file: entry, name: down[2]! });
    } else if (up) {
      const existing = ups.get(up[1]!);
      if (existing) {
        problems.push(`duplicate migration number ${up[1]}: ${path.basename(existing.file)} and ${entry}`);
        continue;
      }
      const file = path.join(dir, entry);
      const sql = readFileSync(file, 'utf8');
      ups.set(up[1]!, { version: up[1]!, name: up[2]!, file, sql, checksum: checksumOf(sql), noTransaction: needsNoTransaction(sql) });
    } else {
      problems.push(`${entry} does not match NNN_name.sql or NNN_name.down.sql`);
    }
  }
  const versions = [...ups.keys()].sort();
  versions.forEach((version, index) => {
    const expected = index + 1;
    if (Number(version) !== expected) {
      const prev = versions[index - 1];
      if (Number(version) > expected) problems.push(`gap in migration numbers: ${prev ? `${prev} is followed by ${version}` : `the first migration is ${version}`}; expected ${String(expected).padStart(version.length, '0')}`);
    }
  });
  for (const [version, down] of downs) {
    const up = ups.get(version);
    if (!up) problems.push(`${down.file} has no matching up migration`);
    else if (up.name !== down.name) problems.push(`${down.file} does not match ${path.basename(up.file)} (names differ)`);
    else {
      const file = path.join(dir, down.file);
      const sql = readFileSync(file, 'utf8');
      up.down = { file, sql, noTransaction: needsNoTransaction(sql) };
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(
      `The migrations folder ${dir} has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      'Renumber or rename the files so versions run 001, 002, … without gaps or duplicates.',
      { problems },
    );
  }
  return versions.map((v) => ups.get(v)!);
}

/**
 * loadMigrations, then the folder checked against its routergpt.sum (sum.ts) — for the CLI's
 * `migrate` commands and deploy's db.migrate step, which call it before they connect, so an
 * edited released migration stops them with a ConfigError (exit 2) naming the file. A folder
 * without a sum file only warns (once, through `warn`). The server keeps plain loadMigrations:
 * it must start even if someone edited a comment in a migration.
 */
export function loadVerifiedMigrations(dir: string, warn: (line: string) => void): MigrationFile[] {
  const migrations = loadMigrations(dir);
  requireMatchingSum(dir, warn);
  return migrations;
}
