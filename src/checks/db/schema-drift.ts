import { summariseDifferences } from '../../db/schema/diff-schema.js';
import { detectDrift } from '../../db/schema/drift.js';
import { REGENERATE_HINT, SNAPSHOT_FILE } from '../../db/schema/snapshot.js';
import { defineCheck, fail, pass, skip } from '../define-check.js';

const MAX_DETAILS = 50;

export default defineCheck({
  id: 'db.schema-drift',
  title: 'Live schema matches what the applied migrations produce (no manual changes)',
  needs: ['db'],
  stages: ['pre', 'post'],
  slow: true,
  async run({ db, config }) {
    const report = await detectDrift(db!, config.migrationsDir.value);
    switch (report.outcome) {
      case 'no-snapshot':
        return skip(`no ${SNAPSHOT_FILE} in ${config.migrationsDir.value}: nothing to compare the schema with`);
      case 'stale':
        return fail(`${report.reason}: the schema cannot be compared`, { hint: REGENERATE_HINT });
      case 'unmanaged':
        return skip(`unmanaged schema (${report.objects} objects, no migration recorded): nothing says which migrations to compare with; run \`routergpt migrate baseline --to NNN --env ${config.name}\` first`);
      case 'ahead':
        return skip(`the database records ${report.unknown.join(', ')}, which this release's migrations (up to ${report.snapshotVersion}) do not have: compare with the release that added ${report.unknown.length === 1 ? 'it' : 'them'}`);
      case 'compared': {
        const at = report.current ? `the migrations up to ${report.current}` : 'no migration (an empty database)';
        const views = report.viewQueriesCompared ? '' : `; view queries compared by their columns only (snapshot read on PostgreSQL ${report.postgres.snapshot}, the database is ${report.postgres.database})`;
        const data = { current: report.current, objects: report.objects, differences: report.differences.length, viewQueriesCompared: report.viewQueriesCompared };
        if (report.differences.length === 0) return pass(`schema matches ${at} (${report.objects} objects)${views}`, { data });
        const lines = report.differences.map((d) => d.message);
        return fail(`schema differs from ${at}: ${summariseDifferences(report.differences)}${views}`, {
          details: lines.length > MAX_DETAILS ? [...lines.slice(0, MAX_DETAILS), `… and ${lines.length - MAX_DETAILS} more`] : lines,
          hint: `Undo the manual change, or make it a new migration in ${config.migrationsDir.value} (then \`routergpt migrate hash --schema-from "$TEST_DATABASE_URL"\`).`,
          data: { ...data, list: report.differences },
        });
      }
    }
  },
});
