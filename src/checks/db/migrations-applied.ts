import { loadMigrations } from '../../db/migrator/files.js';
import { getStatus } from '../../db/migrator/migrator.js';
import { defineCheck, fail, pass } from '../define-check.js';

export default defineCheck({
  id: 'db.migrations-applied',
  title: 'All migrations applied, checksums match',
  needs: ['db'],
  stages: ['post'],
  async run({ db, config }) {
    const status = await getStatus(db!, loadMigrations(config.migrationsDir.value));
    const details = [
      ...status.pending.map((m) => `pending: ${m.version}_${m.name}`),
      ...status.edited.map((m) => `edited since applied: ${m.file}`),
      ...status.missing.map((m) => `applied but file missing: ${m.version}_${m.name}`),
    ];
    const data = { current: status.current, applied: status.applied.length, pending: status.pending.length, edited: status.edited.length, missing: status.missing.length };
    if (details.length > 0) {
      return fail(`${details.length} migration problem(s); database at ${status.current ?? 'nothing'}`, {
        details,
        data,
        hint: status.edited.length ? `If the database applied an earlier edit, \`routergpt migrate repair --version ${status.edited[0]!.version} --env ${config.name}\` realigns it once its objects are checked; otherwise restore the edited files from git and put changes in new migrations.` : `Run \`routergpt migrate up --env ${config.name}\`.`,
      });
    }
    return pass(`${status.applied.length} applied, at ${status.current}; checksums match`, { data });
  },
});
