import type { PoolClient } from '../pool.js';
import type { AppliedRow, MigrationEvent } from './migrator.js';

/**
 * A fresh embedded state copied from the pre-migrated template (src/db/embedded-premigrated.ts)
 * holds the migrations as the template's own run recorded them, under this name. The next
 * migrator to take the lock there claims them (migrateUp): the rows get this run's time and name,
 * and the values a migration draws per database are drawn again, so the state is the one this
 * run would have made by applying the files itself. Nothing else ever writes this name.
 */
export const TEMPLATE_APPLIED_BY = 'routergpt (pre-migrated template)';

/**
 * Every value a migration draws from the clock or from randomness for its database, by the
 * migration that draws it, drawn again for a copy: the synthetic-traffic signing key (010, which
 * must never be shared by two databases) and the router flag's seed row (005).
 * test/foundation/embedded-premigrated.test.ts fails when a migration leaves rows anywhere else,
 * so a new one is looked at before it is copied.
 */
export const REDRAW_PER_DATABASE: ReadonlyArray<{ migration: string; sql: string }> = [
  { migration: '005', sql: "UPDATE feature_flags SET updated_at = now() WHERE updated_by = 'migration 005'" },
  { migration: '010', sql: "UPDATE routergpt.synthetic_key SET key = replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), created_at = now()" },
];

/**
 * Claim the template's rows for this run, in one transaction, under the caller's migration lock:
 * each row gets the time it is claimed and `appliedBy`, keeping the checksum and the execution
 * time its migration took when it ran in the template. Returns the rows this call claimed (none
 * when another process on the same embedded database claimed them first) and reports them as
 * applied, as a run applying the files would.
 */
export async function claimTemplateRows(client: PoolClient, table: string, rows: readonly AppliedRow[], appliedBy: string | undefined, onEvent?: (event: MigrationEvent) => void): Promise<Array<{ version: string; name: string; ms: number }>> {
  for (const row of rows) onEvent?.({ type: 'applying', version: row.version, name: row.name, direction: 'up' });
  await client.query('BEGIN');
  let claimed: Array<{ version: string; name: string; ms: number }>;
  try {
    // One statement (the embedded backend pays per round trip): clock_timestamp() is read per
    // row, so the times follow the order the template applied them in, as a run's would.
    const result = await client.query<{ version: string; name: string; execution_ms: number }>(
      `UPDATE ${table} SET applied_at = clock_timestamp(), applied_by = $1 WHERE applied_by = $2 AND version = ANY($3::text[]) RETURNING version, name, execution_ms`,
      [appliedBy ?? null, TEMPLATE_APPLIED_BY, rows.map((r) => r.version)],
    );
    claimed = result.rows.map((r) => ({ version: r.version, name: r.name, ms: r.execution_ms })).sort((a, b) => (a.version < b.version ? -1 : 1));
    // Only for migrations this call claimed (the set may end before 010); one simple-protocol round trip.
    const redraw = REDRAW_PER_DATABASE.filter((r) => claimed.some((c) => c.version === r.migration)).map((r) => r.sql);
    if (redraw.length > 0) await client.query(redraw.join(';\n'));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  for (const c of claimed) onEvent?.({ type: 'applied', version: c.version, name: c.name, direction: 'up', ms: c.ms, fromTemplate: true });
  return claimed;
}
