import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NEXT_MIGRATION, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

describe('routergpt migrate lint (squawk)', () => {
  it('lints every up and down file; the shipped migrations have no errors', async () => {
    const result = await runCli(['migrate', 'lint', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as { status: string; files: Array<{ file: string; status: string }> };
    const sqlFiles = readdirSync(path.join(REPO_ROOT, 'migrations')).filter((f) => f.endsWith('.sql'));
    expect(json.files.map((f) => f.file).sort()).toEqual(sqlFiles.sort());
    expect(json.files.filter((f) => f.status === 'fail')).toEqual([]);
  });

  it('a risky migration is reported with the rule, and --strict exits 3', async () => {
    const dir = tempDir();
    cpSync(path.join(REPO_ROOT, 'migrations'), path.join(dir, 'migrations'), { recursive: true });
    writeFileSync(path.join(dir, 'migrations', `${NEXT_MIGRATION}_risky.sql`), 'ALTER TABLE shops ADD COLUMN owner_id bigint NOT NULL;\nCREATE INDEX idx_shops_owner ON shops (owner_id);\n');
    writeFileSync(path.join(dir, 'migrations', `${NEXT_MIGRATION}_risky.down.sql`), 'DROP INDEX IF EXISTS idx_shops_owner;\nALTER TABLE shops DROP COLUMN IF EXISTS owner_id;\n');
    const env = { ROUTERGPT_MIGRATIONS_DIR: path.join(dir, 'migrations') };
    // The copy carries routergpt.sum: pin the new files as a developer adding a migration would.
    expect((await runCli(['migrate', 'hash'], { cwd: dir, env })).exitCode).toBe(0);
    const human = await runCli(['migrate', 'lint'], { cwd: dir, env });
    expect(human.stdout).toMatch(new RegExp(`⚠ warn {2}${NEXT_MIGRATION}_risky\\.sql`));
    expect(human.stdout).toContain('adding-required-field');
    expect(human.stdout).toContain('require-concurrent-index-creation');
    expect((await runCli(['migrate', 'lint', '--strict'], { cwd: dir, env })).exitCode).toBe(3);
  });
});
