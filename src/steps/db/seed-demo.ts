import { OperationError } from '../../errors.js';
import { withTransaction } from '../../db/pool.js';
import { seedDemo } from '../../db/seed.js';
import { defineStep } from '../define-step.js';

/** Local rehearsals only: the demo shops (and the five test shops the purge step then removes). */
export const dbSeedDemoStep = defineStep({
  id: 'db.seed-demo',
  title: 'Load the demo shops (local rehearsal)',
  changesData: 'user-data',
  needs: ['db'],
  async plan(ctx) {
    const { rows } = await ctx.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM shops').catch(() => ({ rows: [{ n: 0 }] }));
    return [`Insert the demo shops, services and opening hours where missing (${rows[0]?.n ?? 0} shops now); existing rows are never changed`];
  },
  async run(ctx) {
    if (ctx.config.protected.value) throw new OperationError(`Refusing to load demo shops into ${ctx.config.name} (a protected environment).`, 'Remove `step: db.seed-demo` from this environment\'s checklist.');
    const result = await withTransaction(ctx.db.pool, (client) => seedDemo(client));
    return { status: result.shops > 0 ? 'done' : 'skipped', summary: result.shops > 0 ? `seeded ${result.shops} shops, ${result.services} services` : 'demo data already present', outputs: { ...result } };
  },
});

export default dbSeedDemoStep;
