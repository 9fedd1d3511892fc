import { RESTORE_TEST_PREFIX as PREFIX } from '../../db/backup/restore.js';
import { plural } from '../../lib/plural.js';
import { defineStep, type StepContext } from '../define-step.js';


/** Scratch databases of restore tests whose process died before it dropped them: nobody connected. */
async function stale(ctx: StepContext): Promise<string[]> {
  if (ctx.db.kind === 'embedded') return [];
  const { rows } = await ctx.db.pool.query<{ datname: string }>(
    `SELECT d.datname FROM pg_database d
      WHERE d.datname LIKE $1 || '%' AND d.datname ~ '^[a-z0-9_]+$'
        AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)
      ORDER BY 1`,
    [PREFIX],
  );
  return rows.map((r) => r.datname);
}

/**
 * Weekly housekeeping: restore-test scratch databases left behind by a killed `backup --verify`
 * (they hold a whole copy of the data) are dropped — only those nobody is connected to, so a
 * restore test running now is never touched. Needs the right to drop them (their owner: the user
 * that created them); a refusal is a warning naming them.
 */
export const dbDropStaleRestoreTestsStep = defineStep({
  id: 'db.drop-stale-restore-tests',
  title: 'Drop restore-test databases left behind',
  changesData: 'derived',
  needs: ['db'],
  async plan(ctx) {
    const names = await stale(ctx);
    return [names.length ? `DROP DATABASE ${names.join(', ')} (nobody connected)` : 'No restore-test database left behind'];
  },
  async run(ctx) {
    const names = await stale(ctx);
    if (names.length === 0) return { status: 'skipped', summary: 'no restore-test database left behind', outputs: { dropped: [] } };
    const dropped: string[] = [];
    const refused: string[] = [];
    for (const name of names) {
      try {
        // The name matched ^[a-z0-9_]+$ above: safe as an identifier.
        await ctx.db.pool.query(`DROP DATABASE IF EXISTS ${name}`);
        dropped.push(name);
      } catch (error) {
        refused.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    if (refused.length) return { status: 'warn', summary: `dropped ${plural(dropped.length, 'restore-test database')}; could not drop ${refused.length}`, details: refused, outputs: { dropped } };
    return { status: 'done', summary: `dropped ${plural(dropped.length, 'restore-test database')} left behind: ${dropped.join(', ')}`, outputs: { dropped } };
  },
});

export default dbDropStaleRestoreTestsStep;
