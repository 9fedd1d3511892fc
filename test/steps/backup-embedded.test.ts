import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationError } from '../../src/errors.js';
import { checksumTables, compareChecksums } from '../../src/db/backup/checksums.js';
import { createBackup } from '../../src/db/backup/create.js';
import { readManifest, sha256File } from '../../src/db/backup/manifest.js';
import { restoreBackup, restoreTest } from '../../src/db/backup/restore.js';
import { verifyBackup } from '../../src/db/backup/verify.js';
import type { Database } from '../../src/db/connect.js';
import { dbBackupStep } from '../../src/steps/db/backup.js';
import { tempDir } from '../helpers/cli.js';
import { adminUrl } from '../helpers/db.js';
import { addActivity, embeddedConfig, openMigrated, stepContext } from './context.js';

describe('db backup on the embedded database (PGlite + WebAssembly pg_dump)', () => {
  let db: Database;
  let config: ReturnType<typeof embeddedConfig>;

  beforeAll(async () => {
    config = embeddedConfig();
    db = await openMigrated(config);
    await addActivity(db, 'mesa-cuts');
  });

  afterAll(async () => {
    await db?.close();
  });

  it('this process owns the embedded database and exposes its PGlite', () => {
    expect(db.kind).toBe('embedded');
    expect(db.embedded?.owner).toBe(true);
    expect(db.embedded?.pglite).toBeDefined();
  });

  it('the db.backup step writes a verified plain SQL dump; restore brings back identical checksums and drops later tables', async () => {
    const ctx = stepContext(config, db);
    expect((await dbBackupStep.plan(ctx)).join('\n')).toMatch(/pglite-tools.*\.sql/s);
    const result = await dbBackupStep.run(ctx);
    const manifestFile = String(result.outputs?.manifest);
    expect(manifestFile).toMatch(/\.sql\.manifest\.json$/);
    expect(readManifest(manifestFile)).toMatchObject({ format: 'plain', sourceKind: 'embedded', pgDumpMajor: 18 });
    expect((await dbBackupStep.verify(ctx, result)).status).toBe('pass');

    const before = await checksumTables(db.pool);
    const searchPath = (await db.pool.query('SHOW search_path')).rows[0].search_path;
    await db.pool.query("DELETE FROM shops WHERE slug LIKE '%tempe%'");
    await db.pool.query('CREATE TABLE added_after_backup (id int)');
    await restoreBackup({ db, manifestFile });
    expect(compareChecksums(before, await checksumTables(db.pool))).toEqual({ identical: true, differences: [] });
    expect((await db.pool.query("SELECT to_regclass('public.added_after_backup') AS t")).rows[0].t).toBeNull();
    // The dump's session settings did not leak into the one shared backend.
    expect((await db.pool.query('SHOW search_path')).rows[0].search_path).toBe(searchPath);
  });

  it('restore-test of an embedded backup: into an in-memory PGlite, and into PostgreSQL 15 (dump rewritten for it)', async () => {
    const { manifestFile } = await createBackup({ db, dir: tempDir('routergpt-ebk-'), label: 'rt', now: () => new Date() });
    const memory = await restoreTest({ manifestFile });
    expect(memory).toMatchObject({ ok: true, target: 'in-memory PGlite', differences: [] });
    const server = await restoreTest({ manifestFile, adminUrl: adminUrl() });
    expect(server.differences).toEqual([]);
    expect(server.ok).toBe(true);
    expect(server.tables.shops).toBe(30);
  });

  it('a truncated SQL dump is caught even when its manifest hash was rewritten to match', async () => {
    const { manifestFile, file } = await createBackup({ db, dir: tempDir('routergpt-ebk-'), label: 'cut', now: () => new Date() });
    const sql = readFileSync(file, 'utf8');
    writeFileSync(file, sql.slice(0, Math.floor(sql.length / 2)));
    expect((await verifyBackup(manifestFile)).problem).toMatch(/SHA-256/);
    writeFileSync(manifestFile, JSON.stringify({ ...readManifest(manifestFile), sha256: await sha256File(file) }));
    expect((await verifyBackup(manifestFile)).problem).toMatch(/does not end with "-- PostgreSQL database dump complete"/);
  });

  it('a process that joined another owner\'s socket cannot run the WebAssembly pg_dump and says to stop the owner', async () => {
    const joined: Database = { ...db, embedded: { owner: false, ownerPid: 4242 } };
    const attempt = createBackup({ db: joined, dir: tempDir('routergpt-ebk-'), label: 'joined', now: () => new Date() });
    await expect(attempt).rejects.toBeInstanceOf(OperationError);
    await expect(attempt).rejects.toThrow(/served by another process \(pid 4242\)/);
    await attempt.catch((e: OperationError) => expect(e.hint).toMatch(/^Stop that process/));
  });
});
