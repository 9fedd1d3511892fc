import { createHash } from 'node:crypto';
import path from 'node:path';
import { openEmbedded } from './embedded.js';
import type { TemplateVariant } from './embedded-template.js';
import type { MigrationFile } from './migrator/files.js';
import { migrateUp } from './migrator/migrator.js';
import { TEMPLATE_APPLIED_BY } from './migrator/template-rows.js';
import { createPool } from './pool.js';

/**
 * The pre-migrated template: the plain template (initdb's result) with the given migration set
 * applied by the migrator itself, once per set and PGlite version, cached beside the plain one and
 * verified the same way (embedded-template.ts). A fresh `migrate up` to the latest version (and
 * `serve` on a fresh state, which does that first) copies it instead of running every migration
 * on the WebAssembly backend, which was most of its time.
 *
 * The copy is indistinguishable from a state that applied the files: the template's history rows
 * carry TEMPLATE_APPLIED_BY, and the migrator that opens the copy claims them — this run's time
 * and name on every row, the checksums the files have, the per-database values drawn again
 * (template-rows.ts). Its id names the set: the versions and checksums of every file, so an added
 * or edited migration makes (and uses) another template, and the older one is removed.
 */
export function premigratedTemplate(migrations: readonly MigrationFile[], options: { lockTimeoutMs: number }): TemplateVariant {
  const digest = createHash('sha256')
    .update(migrations.map((m) => `${m.version} ${m.name} ${m.checksum}\n`).join(''))
    .digest('hex')
    .slice(0, 16);
  return {
    id: `m-${migrations.at(-1)?.version ?? '000'}-${digest}`,
    family: 'm-',
    async build(pgdata, cacheDir) {
      // A private state (its own directory, its own lock) seeded from the plain template, migrated through the same socket and pool as any run.
      const embedded = await openEmbedded({ dataDir: path.dirname(pgdata), drainMs: 0, command: 'routergpt (pre-migrated template)', templateCache: cacheDir });
      try {
        const pool = createPool({ connectionString: embedded.url, max: 2, applicationName: 'routergpt (pre-migrated template)' });
        try {
          await migrateUp({ pool, migrations: [...migrations], lockTimeoutMs: options.lockTimeoutMs, lockWaitMs: 30_000, appliedBy: TEMPLATE_APPLIED_BY });
        } finally {
          await pool.end().catch(() => {});
        }
      } finally {
        await embedded.close();
      }
    },
  };
}
