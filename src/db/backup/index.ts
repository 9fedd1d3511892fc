/** Backups: create (pg_dump / WebAssembly pg_dump), verify, restore, restore-test, retention. */
export { checksumTables, compareChecksums, type ChecksumComparison, type TableSummary } from './checksums.js';
export { backupFileName, createBackup, describeBackupCommand, type CreateBackupOptions, type CreateBackupResult } from './create.js';
export { manifestPathFor, readManifest, type BackupFormat, type BackupManifest } from './manifest.js';
export { findTools, parseToolVersion, requireTool, type FoundTool, type PgToolOptions } from './pg-tools.js';
export { restoreBackup, restoreTest, type RestoreBackupOptions, type RestoreResult, type RestoreTestOptions, type RestoreTestResult } from './restore.js';
export { applyRetention, listBackups, type BackupEntry, type RetentionResult } from './retention.js';
export { verifyBackup, type VerifyBackupResult } from './verify.js';
