/**
 * `routergpt backup` (the deploy's db.backup step on its own, journaled), `backup --list`,
 * `backup --verify FILE`, and `rollback --tier restore --backup FILE` — on a real PostgreSQL with
 * the real pg_dump / pg_restore, and on the embedded default.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention } from '../../src/db/backup/retention.js';
import { TEST_SHOP_SLUGS } from '../../src/db/seed.js';
import type { RunRecord } from '../../src/runbook/journal.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { createWorkspace, type Workspace } from '../helpers/workspace.js';

interface Summary {
  run: string;
  status: string;
  file: string;
  manifest: string;
  label: string;
  sizeBytes: number;
  verification: { status: string; summary: string };
}

function runsOf(ws: Workspace): RunRecord[] {
  const dir = path.join(ws.dir, '.routergpt', 'runs', 'staging');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as RunRecord)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
}

async function book(ws: Workspace, start: string, name: string): Promise<string> {
  const [shop] = await ws.query<{ shop: string; service: string }>(`SELECT s.id::text AS shop, v.id::text AS service FROM shops s JOIN services v ON v.shop_id = s.id WHERE s.slug <> ALL($1) ORDER BY s.id LIMIT 1`, [[...TEST_SHOP_SLUGS]]);
  const [row] = await ws.query<{ id: string }>(`INSERT INTO bookings (shop_id, service_id, customer_name, starts_at, ends_at) VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz + interval '1 hour') RETURNING id::text`, [shop!.shop, shop!.service, name, start]);
  return row!.id;
}

describe('routergpt backup on a real PostgreSQL', () => {
  let ws: Workspace;
  const cli = (args: string[]) => runCli(args, { cwd: ws.dir, env: ws.env });
  let first: Summary;

  beforeAll(async () => {
    ws = await createWorkspace({ withServer: false });
    expect((await cli(['migrate', 'up', '--yes'])).exitCode).toBe(0);
    expect((await cli(['db', 'seed', '--demo'])).exitCode).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await ws?.stop();
  });

  it('takes a verified backup as the deploy step does, journaled as a run of kind backup', async () => {
    const result = await cli(['backup', '--label', 'before-change', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    first = JSON.parse(result.stdout) as Summary;
    expect(first.status).toBe('succeeded');
    expect(path.basename(first.file)).toMatch(/^before-change-\d{8}T\d{6}Z\.dump$/);
    expect(existsSync(first.file)).toBe(true);
    expect(first.sizeBytes).toBeGreaterThan(1000);
    // staging's checklist restore-tests its backups: so does this one.
    expect(first.verification).toEqual({ status: 'pass', summary: expect.stringMatching(/^Backup verified and restore-tested \(\d+ tables identical\)$/) });
    const run = runsOf(ws).find((r) => r.id === first.run)!;
    expect(run.kind).toBe('backup');
    expect(run.items.map((i) => [i.id, i.state])).toEqual([['db.backup', 'done']]);
    const manifest = JSON.parse(readFileSync(first.manifest, 'utf8')) as { env: string; verification: { status: string; by: string; restoreTested: boolean } };
    expect(manifest.env).toBe('staging');
    expect(manifest.verification).toMatchObject({ status: 'pass', by: 'db.backup', restoreTested: true });

    const human = await cli(['backup', '--label', 'second']);
    expect(human.exitCode, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^Backup: +\/.+second-\d{8}T\d{6}Z\.dump \(\d+(\.\d)? KiB, custom, \d+ tables\)$/m);
    expect(human.stdout).toMatch(/^Verification: pass — Backup verified and restore-tested/m);
  }, 120_000);

  it('--list shows every backup newest first with its verification state; a changed file shows as such', async () => {
    const list = await cli(['backup', '--list', '--json']);
    expect(list.exitCode, list.stderr).toBe(0);
    const { backups } = JSON.parse(list.stdout) as { backups: Array<{ label: string; file: string; state: string; verification: string }> };
    expect(backups.map((b) => b.label)).toEqual(['second', 'before-change']);
    expect(backups.map((b) => b.state)).toEqual(['verified', 'verified']);
    expect(backups[1]!.verification).toMatch(/^verified 20\d\d-\d\d-\d\d \d\d:\d\d by db\.backup, restore-tested$/);

    // Truncate the newest: the cheap check (its size) catches it without reading it.
    const second = backups[0]!.file;
    writeFileSync(second, readFileSync(second).subarray(0, 100));
    const table = await cli(['backup', '--list']);
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toContain('before-change');
    expect(table.stdout).toMatch(/size 100 B, the manifest says \d+ B/);
    const full = await cli(['backup', '--list', '--verify']);
    expect(full.exitCode).toBe(1);
    expect(full.stdout).toContain('verified now (SHA-256, archive, ledger)');
    // And gone altogether: shown as missing, never silently dropped from the list.
    rmSync(second);
    const gone = await cli(['backup', '--list']);
    expect(gone.stdout).toContain(`file missing: ${path.basename(second)}`);
  }, 60_000);

  it('--verify FILE: 0 for a good backup, 1 naming the mismatch for a tampered one, 2 for a missing file or not a backup', async () => {
    const good = await cli(['backup', '--verify', first.file]);
    expect(good.exitCode, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^✓ Backup verified and restore-tested/);
    expect(good.stdout).toContain('✓ SHA-256 matches the manifest');
    expect(good.stdout).toContain('✓ write ledger agrees with the row counts');

    // A tampered copy: one byte changed in the middle of the archive, the size unchanged.
    const dir = tempDir();
    const copy = path.join(dir, path.basename(first.file));
    copyFileSync(first.file, copy);
    copyFileSync(first.manifest, `${copy}.manifest.json`);
    const bytes = readFileSync(copy);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    writeFileSync(copy, bytes);
    const bad = await cli(['backup', '--verify', `${copy}.manifest.json`]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toMatch(/^✗ The backup is not usable: SHA-256 is [0-9a-f]{12}…, the manifest says [0-9a-f]{12}…: the backup was changed or damaged/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    // …and the failure is recorded in its manifest, for --list and the rollback.
    expect(JSON.parse(readFileSync(`${copy}.manifest.json`, 'utf8')).verification).toMatchObject({ status: 'fail', by: 'routergpt backup --verify' });

    const missing = await cli(['backup', '--verify', path.join(dir, 'nope.dump')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    expect(missing.stderr).toContain('routergpt backup --list --env staging');
    const notOurs = path.join(dir, 'notes.txt');
    writeFileSync(notOurs, 'hello\n');
    const foreign = await cli(['backup', '--verify', notOurs]);
    expect(foreign.exitCode).toBe(2);
    expect(foreign.stderr).toContain('is not a routergpt backup');
  }, 60_000);

  it('rollback --tier restore --backup FILE restores that backup: a row written since is named in the loss preview, then gone', async () => {
    const booked = await book(ws, '2031-02-03T16:00:00Z', 'Booked after the backup');
    const preview = await cli(['rollback', '--tier', 'restore', '--backup', first.file, '--dry-run']);
    expect(preview.exitCode, preview.stderr).toBe(0);
    expect(preview.stderr).toContain(`backup to restore (--backup): ${first.file}`);
    expect(preview.stderr).toContain(`from ${first.manifest}`);
    expect(preview.stderr).toContain('lose: bookings: 1 inserted since the backup');
    expect(await ws.query(`SELECT id::text FROM bookings`)).toEqual([{ id: booked }]);

    const rollback = await cli(['rollback', '--tier', 'restore', '--backup', first.file, '--yes', '--no-verify']);
    expect(rollback.exitCode, rollback.stderr).toBe(0);
    expect(rollback.stderr).toContain('lose: bookings: 1 inserted since the backup');
    expect(await ws.query(`SELECT id FROM bookings`)).toEqual([]);
    const run = runsOf(ws).at(-1)!;
    expect(run.kind).toBe('rollback');
    expect(run.items.map((i) => [i.id, i.state])).toEqual([['db.backup', 'done'], ['undo.db.backup', 'done']]);
    expect(run.items[1]!.summary).toContain(`from ${path.basename(first.file)}; checksums match the backup`);
    // The backup restored is still there: the safety backup's retention never deletes it.
    expect(existsSync(first.file)).toBe(true);
  }, 180_000);

  it('bad --backup input exits 2 before anything runs, changing nothing', async () => {
    const booked = await book(ws, '2031-02-04T16:00:00Z', 'Must survive');
    const runsBefore = runsOf(ws).length;
    const dir = tempDir();
    // Another environment's backup (its manifest says prod).
    const other = path.join(dir, path.basename(first.file));
    copyFileSync(first.file, other);
    const manifest = JSON.parse(readFileSync(first.manifest, 'utf8')) as Record<string, unknown>;
    writeFileSync(`${other}.manifest.json`, JSON.stringify({ ...manifest, env: 'prod' }));
    // A tampered one (same size, a byte changed).
    const tampered = path.join(dir, 'tampered', path.basename(first.file));
    mkdirSync(path.dirname(tampered));
    const bytes = readFileSync(first.file);
    const third = Math.floor(bytes.length / 3);
    bytes[third] = bytes[third]! ^ 0xff;
    writeFileSync(tampered, bytes);
    copyFileSync(first.manifest, `${tampered}.manifest.json`);

    const cases: Array<[string[], RegExp]> = [
      [['--backup', path.join(dir, 'missing.dump')], /does not exist/],
      [['--backup', other], /belongs to another environment: it was taken of environment prod, and this rollback is of staging/],
      [['--backup', tampered], /is not verified: SHA-256 is/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(['rollback', '--tier', 'restore', ...args, '--yes', '--no-verify']);
      expect(result.exitCode, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain('nothing was changed');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    const noTier = await cli(['rollback', '--tier', 'toggle', '--backup', first.file, '--yes']);
    expect(noTier.exitCode).toBe(2);
    expect(noTier.stderr).toContain('--backup names the backup to restore, and no restore tier was asked for');
    expect(await ws.query(`SELECT id::text FROM bookings`)).toEqual([{ id: booked }]);
    expect(runsOf(ws).length).toBe(runsBefore);
  }, 120_000);
});

describe('routergpt backup on the embedded default', () => {
  it('backs up local, lists it as verified, and verifies it', async () => {
    const dir = tempDir();
    const taken = await runCli(['backup', '--json'], { cwd: dir });
    expect(taken.exitCode, taken.stderr).toBe(0);
    const summary = JSON.parse(taken.stdout) as Summary;
    expect(path.basename(summary.file)).toMatch(/^manual-\d{8}T\d{6}Z\.sql$/);
    expect(summary.verification.status).toBe('pass');
    const list = await runCli(['backup', '--list'], { cwd: dir });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout).toContain('manual');
    expect(list.stdout).toMatch(/verified 20\d\d-\d\d-\d\d \d\d:\d\d by db\.backup/);
    const verified = await runCli(['backup', '--verify', summary.file], { cwd: dir });
    expect(verified.exitCode, verified.stderr).toBe(0);
    expect(verified.stdout).toContain('✓ plain SQL dump with pg_dump header and trailer');
  }, 120_000);
});

describe('retention and the backup a rollback restores', () => {
  it('keeps the newest N and never deletes a protected one (the backup about to be restored)', () => {
    const dir = tempDir();
    const names = ['a-20260101T000000Z.dump', 'b-20260102T000000Z.dump', 'c-20260103T000000Z.dump'];
    names.forEach((name, i) => {
      writeFileSync(path.join(dir, name), 'x');
      writeFileSync(path.join(dir, `${name}.manifest.json`), JSON.stringify({ manifestVersion: 1, file: name, format: 'custom', sha256: 'x', perTableChecksums: {}, tables: {}, label: name[0], createdAt: `2026-01-0${i + 1}T00:00:00.000Z` }));
    });
    const oldest = path.join(dir, `${names[0]}.manifest.json`);
    const result = applyRetention(dir, 1, [oldest]);
    expect(result.deleted.map((d) => path.basename(d.file))).toEqual([names[1]]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.dump')).sort()).toEqual([names[0], names[2]]);
  });
});
