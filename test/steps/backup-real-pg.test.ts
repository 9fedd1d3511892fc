import { chmodSync, existsSync, mkdirSync, openSync, readSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, OperationError } from '../../src/errors.js';
import { checksumTables, compareChecksums } from '../../src/db/backup/checksums.js';
import { createBackup } from '../../src/db/backup/create.js';
import { readManifest, summariesOf } from '../../src/db/backup/manifest.js';
import { restoreBackup, restoreTest } from '../../src/db/backup/restore.js';
import { applyRetention, listBackups } from '../../src/db/backup/retention.js';
import { verifyBackup } from '../../src/db/backup/verify.js';
import type { Database } from '../../src/db/connect.js';
import { dbBackupStep } from '../../src/steps/db/backup.js';
import { dbRestoreStep } from '../../src/steps/db/restore.js';
import { tempDir } from '../helpers/cli.js';
import { adminUrl, createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addActivity, openMigrated, realConfig, stepContext } from './context.js';

describe('db backup on a real PostgreSQL server', () => {
  let testDb: TestDatabase;
  let db: Database;
  let config: ReturnType<typeof realConfig>;

  beforeAll(async () => {
    testDb = await createTestDatabase('rgpt_backup');
    config = realConfig(testDb.url);
    db = await openMigrated(config);
    await addActivity(db, 'mesa-cuts');
  });

  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('backup → restore round trip gives identical per-table checksums, and drops tables created after the backup', async () => {
    const before = await checksumTables(db.pool);
    const dir = tempDir('routergpt-bk-');
    const { manifestFile, manifest } = await createBackup({ db, dir, label: 'roundtrip', format: 'custom', now: () => new Date() });
    expect(manifest.format).toBe('custom');
    expect(manifest.tables.shops).toBe(30);
    expect(compareChecksums(before, summariesOf(manifest)).identical).toBe(true);
    expect(manifest.pgDumpMajor).toBeGreaterThanOrEqual(15);

    // Damage the data and add a table a later migration might have made.
    await db.pool.query("DELETE FROM shops WHERE slug LIKE 'mesa%'");
    await db.pool.query("UPDATE services SET price_cents = price_cents + 1");
    await db.pool.query('CREATE TABLE added_after_backup (id int)');
    expect(compareChecksums(before, await checksumTables(db.pool)).identical).toBe(false);

    const restored = await restoreBackup({ db, manifestFile, jobs: 2 });
    expect(restored.tables.shops).toBe(30);
    const after = await checksumTables(db.pool);
    expect(compareChecksums(before, after)).toEqual({ identical: true, differences: [] });
    expect((await db.pool.query("SELECT to_regclass('public.added_after_backup') AS t")).rows[0].t).toBeNull();
  });

  it('directory format with parallel jobs round-trips too', async () => {
    const before = await checksumTables(db.pool);
    const dir = tempDir('routergpt-bk-');
    const { manifestFile, manifest, file } = await createBackup({ db, dir, label: 'dir', format: 'directory', jobs: 2, now: () => new Date() });
    expect(statSync(file).isDirectory()).toBe(true);
    expect(Object.keys(manifest.files ?? {})).toContain('toc.dat');
    expect((await verifyBackup(manifestFile)).ok).toBe(true);
    await db.pool.query('TRUNCATE bookings CASCADE');
    await restoreBackup({ db, manifestFile, jobs: 2 });
    expect(compareChecksums(before, await checksumTables(db.pool)).identical).toBe(true);
  });

  it('a corrupted backup (bytes flipped in the middle) is caught by verifyBackup, and restore refuses it', async () => {
    const dir = tempDir('routergpt-bk-');
    const { manifestFile, file } = await createBackup({ db, dir, label: 'corrupt', now: () => new Date() });
    expect((await verifyBackup(manifestFile)).ok).toBe(true);
    const size = statSync(file).size;
    const fd = openSync(file, 'r+');
    const buf = Buffer.alloc(8);
    readSync(fd, buf, 0, 8, Math.floor(size / 2));
    for (let i = 0; i < buf.length; i += 1) buf[i] = (buf[i] ?? 0) ^ 0xff;
    writeSync(fd, buf, 0, 8, Math.floor(size / 2));
    closeSync(fd);
    const result = await verifyBackup(manifestFile);
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(/SHA-256 .* damaged/);
    await expect(restoreBackup({ db, manifestFile })).rejects.toThrow(/Refusing to restore/);
  });

  it('a truncated archive whose manifest was rewritten to match is still caught by pg_restore --list', async () => {
    const dir = tempDir('routergpt-bk-');
    const { manifestFile, file } = await createBackup({ db, dir, label: 'truncated', now: () => new Date() });
    writeFileSync(file, Buffer.from('PGDMP garbage'));
    const { sha256File } = await import('../../src/db/backup/manifest.js');
    const manifest = readManifest(manifestFile);
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, sha256: await sha256File(file) }));
    const result = await verifyBackup(manifestFile);
    expect(result.ok).toBe(false);
    expect(result.problem).toContain('pg_restore --list');
  });

  it('pg_dump older than the server is refused, naming what to install; a missing pg_dump too', async () => {
    // Our own test double of a binary's version string: a script that answers --version like
    // PostgreSQL 12's pg_dump. Nothing else of it runs (the version check refuses first).
    const fakeBin = tempDir('routergpt-fake-pg-');
    writeFileSync(path.join(fakeBin, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 12.0"\n');
    chmodSync(path.join(fakeBin, 'pg_dump'), 0o755);
    const dir = tempDir('routergpt-bk-');
    const old = createBackup({ db, dir, label: 'old', now: () => new Date(), tools: { dirs: [fakeBin] } });
    await expect(old).rejects.toBeInstanceOf(ConfigError);
    await expect(old).rejects.toThrow(/pg_dump 12\.0 .* is older than the server \(PostgreSQL 15\)/);
    await old.catch((e: ConfigError) => expect(e.hint).toMatch(/postgresql-client-15/));

    const missing = createBackup({ db, dir, label: 'none', now: () => new Date(), tools: { dirs: [tempDir('routergpt-empty-')] } });
    await expect(missing).rejects.toThrow(/pg_dump was not found/);
    expect(listBackups(dir)).toEqual([]);
  });

  it('retention keeps the newest N backups and deletes older ones with their manifests', async () => {
    const dir = tempDir('routergpt-bk-');
    const base = Date.parse('2030-01-01T00:00:00Z');
    const made = [];
    for (let i = 0; i < 4; i += 1) made.push(await createBackup({ db, dir, label: 'keep', now: () => new Date(base + i * 60_000) }));
    writeFileSync(path.join(dir, 'unrelated.txt'), 'not a backup');
    const { kept, deleted } = applyRetention(dir, 2);
    expect(kept.map((k) => k.file)).toEqual([made[3]!.file, made[2]!.file]);
    expect(deleted).toHaveLength(2);
    for (const old of made.slice(0, 2)) {
      expect(existsSync(old.file)).toBe(false);
      expect(existsSync(old.manifestFile)).toBe(false);
    }
    expect(existsSync(path.join(dir, 'unrelated.txt'))).toBe(true);
  });

  it('restore-test restores into a scratch database, compares checksums and drops it', async () => {
    const dir = tempDir('routergpt-bk-');
    const { manifestFile } = await createBackup({ db, dir, label: 'rt', now: () => new Date() });
    let seenShops = 0;
    const result = await restoreTest({ manifestFile, adminUrl: adminUrl(), inspect: async (pool) => {
      seenShops = Number((await pool.query('SELECT count(*) AS n FROM shops')).rows[0].n);
    } });
    expect(result.ok).toBe(true);
    expect(result.differences).toEqual([]);
    expect(seenShops).toBe(30);
    const name = /database (\S+)/.exec(result.target)?.[1];
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [name]);
    expect(rows[0].n).toBe(0);
  });

  it('the db.backup step: plan shows the masked command and destination; run + verify (with restore test); db.restore rolls back', async () => {
    const ctx = stepContext(config, db, { params: { restoreTest: true, retention: 3 } });
    const plan = await dbBackupStep.plan(ctx);
    expect(plan.join('\n')).toMatch(/pg_dump -Fc --no-password --lock-wait-timeout=\d+ --exclude-schema=routergpt -f .*pre-deploy-run-test-1-\d{8}T\d{6}Z\.dump/);
    expect(plan.join('\n')).toContain(db.display);
    expect(plan.join('\n')).not.toMatch(/postgres:\/\/[^@]*:[^*@]+@/);
    const result = await dbBackupStep.run(ctx);
    expect(result.status).toBe('done');
    expect(result.outputs).toMatchObject({ format: 'custom' });
    expect(existsSync(String(result.outputs?.manifest))).toBe(true);
    const verified = await dbBackupStep.verify(ctx, result);
    expect(verified.status).toBe('pass');
    expect(verified.summary).toContain('restore-tested');

    const before = await checksumTables(db.pool);
    await db.pool.query("DELETE FROM shops WHERE slug = 'bishops-barbershop-tempe'");
    const restoreCtx = stepContext(config, db, { outputs: { 'db.backup': result.outputs } });
    expect((await dbRestoreStep.plan(restoreCtx)).join('\n')).toContain(String(result.outputs?.manifest));
    const restored = await dbRestoreStep.run(restoreCtx);
    expect(restoreCtx.confirmations[0]).toMatch(/Everything in schema public is replaced/);
    expect((await dbRestoreStep.verify(restoreCtx, restored)).status).toBe('pass');
    expect(compareChecksums(before, await checksumTables(db.pool)).identical).toBe(true);
  });

  it('restore with a damaged record is an OperationError, never a silent partial success', async () => {
    const dir = tempDir('routergpt-bk-');
    mkdirSync(dir, { recursive: true });
    const { manifestFile } = await createBackup({ db, dir, label: 'mm', now: () => new Date() });
    const manifest = readManifest(manifestFile);
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, perTableChecksums: { ...manifest.perTableChecksums, shops: '0'.repeat(32) } }));
    await expect(restoreBackup({ db, manifestFile })).rejects.toBeInstanceOf(OperationError);
    await expect(restoreBackup({ db, manifestFile })).rejects.toThrow(/does not match the backup's checksums:\n {2}shops/);
  });
});
